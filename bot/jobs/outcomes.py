"""The metrics of jobs: how each one ended, and how long a delivered one took from its start on this replica."""
from __future__ import annotations

import time

from bot import metrics
from bot.state import Job


class Outcomes:
    def __init__(self):
        self.started: dict[int, float] = {}  # job id -> when this replica started running it

    def began(self, job: Job) -> None:
        """A job starts running here (a job run again keeps its first start)."""
        self.started.setdefault(job.id, time.monotonic())

    def ended(self, job: Job, outcome: str) -> None:
        """Count a job that reached an end state here; a delivered one also records its time to result."""
        metrics.jobs.inc(tags={"kind": job.kind, "outcome": outcome})
        started = self.started.pop(job.id, None)
        if outcome == "done" and started is not None:
            metrics.time_to_result.observe(time.monotonic() - started, tags={"kind": job.kind})
