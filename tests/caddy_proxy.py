"""Caddy from Debian running configs/Caddyfile, as committed or with some of its documented choices uncommented,
in front of a given upstream (tests/test_public_surface.py, tests/test_studio_mini_app.py)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port

CADDYFILE = Path(__file__).resolve().parents[1] / "configs" / "Caddyfile"

needs_caddy = pytest.mark.skipif(shutil.which("caddy") is None,
                                 reason="Caddy is not installed: `apt-get install caddy` (Debian) runs these tests")


def caddyfile_with(choice: tuple[str, ...]) -> str:
    text = CADDYFILE.read_text()
    for name in choice:
        marker = f"\t# import {name}\n"
        assert marker in text, f"configs/Caddyfile has no commented `import {name}` to choose"
        text = text.replace(marker, f"\timport {name}\n")
    return text


@contextmanager
def caddy(choice: tuple[str, ...], upstream_port: int, tmp: Path) -> Iterator[int]:
    config = tmp / "Caddyfile"
    config.write_text(caddyfile_with(choice))
    port = free_port()
    env = {**os.environ, "STYLEBOT_SITE": f"http://127.0.0.1:{port}", "STYLEBOT_UPSTREAM": f"127.0.0.1:{upstream_port}",
           "STYLEBOT_CADDY_ADMIN": "off", "HOME": str(tmp), "XDG_DATA_HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp)}
    log = (tmp / "caddy.log").open("wb")
    proc = subprocess.Popen(["caddy", "run", "--config", str(config), "--adapter", "caddyfile"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, tmp / "caddy.log")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"caddy exited: {log.read_text()[-2000:]}"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"caddy did not listen within {timeout} s: {log.read_text()[-2000:]}")
