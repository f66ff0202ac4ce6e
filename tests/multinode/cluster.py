"""A Ray cluster of several nodes on this one machine, for the multi-node tests: each node is its own `ray start`
(its own resources, temp dir and ports), the way separate machines would run it, and a node can be lost at once
(every process it started killed, as when a machine goes away). It never runs `ray stop`, which would also stop
every other Ray on the machine (the test session's own cluster among them)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

RAY = str(Path(sys.executable).with_name("ray"))
SERVE = str(Path(sys.executable).with_name("serve"))
MARK = "STYLEBOT_TEST_RAY_NODE"   # inherited by every process a node starts, so all of them can be found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    name: str
    temp_dir: Path
    proc: subprocess.Popen
    worker_ports: tuple[int, int]

    def processes(self) -> list[psutil.Process]:
        """Every live process of this node, reparented ones included (found by the mark in their environment)."""
        found = []
        for p in psutil.process_iter():
            try:
                if p.environ().get(MARK) == str(self.temp_dir):
                    found.append(p)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def logs(self) -> Path:
        return self.temp_dir / "session_latest" / "logs"


class LocalCluster:
    """`LocalCluster(env).start_head(cpus)`, `.add_node(cpus)`, `.deploy(config)`, `.lose(node)`, `.shutdown()`."""

    def __init__(self, env: dict[str, str]):
        self.root = Path(tempfile.mkdtemp(prefix="sbray-", dir="/tmp"))  # Unix socket paths must stay short
        self.env = {k: v for k, v in {**os.environ, **env}.items() if k != "RAY_ADDRESS"}
        self.nodes: list[Node] = []
        self.gcs_port = free_port()
        self.dashboard_port = free_port()
        self._next_worker_port = 30000

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def _start(self, name: str, cpus: int, head_args: list[str]) -> Node:
        temp_dir = self.root / name
        temp_dir.mkdir()
        low = self._next_worker_port
        self._next_worker_port += 1000
        args = [RAY, "start", "--block", f"--num-cpus={cpus}", "--num-gpus=0", f"--temp-dir={temp_dir}",
                "--object-store-memory=200000000", "--disable-usage-stats",
                f"--min-worker-port={low}", f"--max-worker-port={low + 999}",
                f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}",
                *head_args]
        log = open(self.root / f"{name}.out", "wb")
        proc = subprocess.Popen(args, env={**self.env, MARK: str(temp_dir)}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        node = Node(name, temp_dir, proc, (low, low + 999))
        self.nodes.append(node)
        return node

    def start_head(self, cpus: int) -> Node:
        node = self._start("head", cpus, ["--head", f"--port={self.gcs_port}", "--include-dashboard=true",
                                          "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}",
                                          f"--ray-client-server-port={free_port()}"])
        self.wait_for(lambda: self._get("/api/version") is not None, 120, "the head node's dashboard")
        return node

    def add_node(self, cpus: int, name: str | None = None) -> Node:
        node = self._start(name or f"worker{len(self.nodes)}", cpus, [f"--address={self.address}"])
        self.wait_for(lambda: self.alive_nodes() == len(self.nodes), 120, f"node {node.name} to join")
        return node

    def _nodes(self) -> list[dict]:
        """Ray's state API: every node the head's GCS knows, alive or dead."""
        nodes = self._get("/api/v0/nodes?limit=100")
        return nodes["data"]["result"]["result"] if nodes else []

    def alive_nodes(self) -> int:
        return sum(1 for n in self._nodes() if n["state"] == "ALIVE")

    def node_roles(self) -> dict[str, str]:
        """{node id: "head" or "worker"} for the nodes alive now."""
        return {n["node_id"]: "head" if n["is_head_node"] else "worker" for n in self._nodes() if n["state"] == "ALIVE"}

    def deploy(self, config: Path) -> None:
        """`serve deploy <config>` against the head, as an operator would."""
        subprocess.run([SERVE, "deploy", str(config), "-a", self.dashboard], env=self.env, check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)

    def serve_details(self) -> dict:
        return self._get("/api/serve/applications/") or {}

    def lose(self, node: Node) -> int:
        """Kill every process of `node` at once (SIGKILL), as a machine that goes away; returns how many."""
        killed = 0
        for _ in range(3):  # a process being started while the first sweep ran is caught by the next
            procs = node.processes()
            for p in procs:
                try:
                    p.send_signal(signal.SIGKILL)
                    killed += 1
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(procs, timeout=5)
            time.sleep(0.2)
        self.nodes.remove(node)
        return killed

    def shutdown(self) -> None:
        for node in list(reversed(self.nodes)):
            self.lose(node)
        shutil.rmtree(self.root, ignore_errors=True)

    def _get(self, path: str):
        try:
            with urllib.request.urlopen(self.dashboard + path, timeout=10) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    @staticmethod
    def wait_for(predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
