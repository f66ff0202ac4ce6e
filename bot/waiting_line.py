"""The bot's own line for jobs the styles app turned away (503 busy): jobs wait here in arrival order instead
of failing, and the first in line tries again as capacity frees.

One line per kind of capacity ("nst" for own style images, "preset" for presets): a busy optimiser must not
hold up presets. Each bot replica keeps its own lines (a chat's updates go to one replica at a time).
"""
from __future__ import annotations

import asyncio
import bisect
import statistics
from collections import deque


class WaitingLine:
    def __init__(self):
        self._line: list[tuple[float, int]] = []   # (arrival, job id), in arrival order
        self._changed = asyncio.Condition()
        self._durations: deque[float] = deque(maxlen=20)

    def __len__(self) -> int:
        return len(self._line)

    async def join(self, job_id: int, arrival: float) -> None:
        """Take (or take back) the job's place: a job that tried and was turned away again keeps its place."""
        if job_id not in self:
            bisect.insort(self._line, (arrival, job_id))
            await self._notify()

    async def leave(self, job_id: int) -> None:
        if job_id in self:
            self._line = [entry for entry in self._line if entry[1] != job_id]
            await self._notify()

    def __contains__(self, job_id: int) -> bool:
        return any(j == job_id for _, j in self._line)

    def position(self, job_id: int) -> int:
        """1 for the first in line."""
        return next(i for i, (_, j) in enumerate(self._line, 1) if j == job_id)

    async def wait_for_change(self, timeout: float) -> None:
        """Return when someone joins or leaves the line, or after `timeout` seconds."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def record(self, seconds: float) -> None:
        """How long a job that got through took: the estimate for those behind it."""
        self._durations.append(seconds)

    def estimate(self, position: int, default: float) -> int:
        """Seconds until the job at `position` likely starts: a typical job's time for each one ahead, rounded
        up to 5 s."""
        typical = statistics.median(self._durations) if self._durations else default
        seconds = max(typical * position, 5.0)
        return int(-(-seconds // 5) * 5)
