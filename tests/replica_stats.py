"""Stats from every running replica of a deployment: a handle call reaches one replica, and a deployment that the
autoscaler grew earlier in the session may have several."""
from __future__ import annotations

import time

from ray import serve


def running_replicas(app: str, deployment: str) -> int:
    states = serve.status().applications[app].deployments[deployment].replica_states
    return states.get("RUNNING", 0)


def every_replica_stats(app: str, deployment: str, timeout: float = 30.0) -> list[dict]:
    """One `stats()` per running replica (their dicts carry "replica"), asked until every one has answered."""
    handle = serve.get_deployment_handle(deployment, app)
    wanted = running_replicas(app, deployment)
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < wanted:
        assert time.monotonic() < deadline, f"only {len(seen)} of {wanted} {deployment} replicas answered"
        stats = handle.stats.remote().result()
        seen[stats["replica"]] = stats
    return list(seen.values())


def clip_totals(app: str, deployment: str) -> dict[str, int]:
    """A generator's clip counters (deployments/clip_frames.py) summed over its replicas."""
    totals: dict[str, int] = {}
    for stats in every_replica_stats(app, deployment):
        for name, count in stats["clips"].items():
            totals[name] = totals.get(name, 0) + count
    return totals
