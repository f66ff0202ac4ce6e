"""The styles app's custom Serve metrics. Ray exports them on each node's Prometheus endpoint with its `ray_`
prefix (`ray_stylebot_requests_total{kind, outcome, deployment, replica, ...}`); configs/grafana_dashboard.json
charts them."""
from __future__ import annotations

import asyncio
import time

from ray.serve import metrics

from deployments.http_errors import ServiceBusy, ServiceError
from models.error_codes import ErrorCode


TIME_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600]

requests = metrics.Counter(
    "stylebot_requests", description="Styles requests by kind (preset, all, nst, fast, vector) and outcome (ok, "
                                     "bad_input, busy, not_transferred, cancelled, error).",
    tag_keys=("kind", "outcome"))
request_seconds = metrics.Histogram(
    "stylebot_request_seconds", description="Time from a styles request to its result, by kind.",
    boundaries=TIME_BUCKETS_S, tag_keys=("kind",))
rejections = metrics.Counter(
    "stylebot_rejections", description="Requests refused because a model deployment's queue was full (503).",
    tag_keys=("target",))
retries = metrics.Counter(
    "stylebot_retries", description="One-pass model calls sent again because the replica painting them was lost.",
    tag_keys=("target",))
nst_evaluations = metrics.Counter(
    "stylebot_nst_evaluations", description="NST objective evaluations (rate() gives evaluations per second).")
nst_evaluations_per_second = metrics.Gauge(
    "stylebot_nst_evaluations_per_second", description="Evaluations per second of the replica's last NST job.")
nst_jobs = metrics.Gauge(
    "stylebot_nst_jobs", description="NST jobs the replica is advancing now (its queue is Serve's).")


def outcome_of(error: BaseException | None) -> str:
    """The outcome label of a request that ended with `error` (None: it succeeded)."""
    if error is None:
        return "ok"
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return "cancelled"
    code = getattr(error, "code", None)
    if isinstance(error, ServiceBusy):
        return "busy"
    if code == ErrorCode.STYLE_NOT_TRANSFERRED:
        return "not_transferred"
    if isinstance(error, ServiceError):
        return "bad_input"
    return "error"


class Measured:
    """Times one request from its start and counts how it ended: `with Measured("preset"): ...`, or `.end(e)`
    where a streaming request ends outside one block."""

    def __init__(self, kind: str):
        self.kind, self.start, self.ended = kind, time.monotonic(), False

    def end(self, error: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        outcome = outcome_of(error)
        requests.inc(tags={"kind": self.kind, "outcome": outcome})
        if outcome == "ok":
            request_seconds.observe(time.monotonic() - self.start, tags={"kind": self.kind})

    def __enter__(self) -> "Measured":
        return self

    def __exit__(self, kind, error, tb) -> None:
        self.end(error)
