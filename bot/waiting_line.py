"""The bot's own line for jobs the styles app turned away (503 busy): jobs wait here in arrival order instead
of failing, and the first in line tries again as capacity frees.

One line per kind of capacity ("nst" for own style images, "preset" for presets): a busy optimiser must not
hold up presets. Each bot replica keeps its own lines (a chat's updates go to one replica at a time). The line counts megapixels,
not jobs: a 24 MP painting ahead is two dozen 1 MP ones, and the estimate is the megapixels ahead at the pace the
last jobs were painted (seconds per megapixel).
"""
from __future__ import annotations

import asyncio
import bisect
import statistics
from collections import deque


class WaitingLine:
    def __init__(self):
        self._line: list[tuple[float, int]] = []   # (arrival, job id), in arrival order
        self._megapixels: dict[int, float] = {}      # job id -> what it paints
        self._changed = asyncio.Condition()
        self._pace: deque[float] = deque(maxlen=20)  # seconds per megapixel of the last jobs that got through

    def __len__(self) -> int:
        return len(self._line)

    async def join(self, job_id: int, arrival: float, megapixels: float = 1.0) -> None:
        """Take (or take back) the job's place: a job that tried and was turned away again keeps its place."""
        if job_id not in self:
            bisect.insort(self._line, (arrival, job_id))
            self._megapixels[job_id] = megapixels
            await self._notify()

    async def leave(self, job_id: int) -> None:
        if job_id in self:
            self._line = [entry for entry in self._line if entry[1] != job_id]
            self._megapixels.pop(job_id, None)
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

    def record(self, seconds: float, megapixels: float = 1.0) -> None:
        """How long a job that got through took, for how many megapixels: the pace for those behind it."""
        self._pace.append(seconds / max(megapixels, 0.01))

    def megapixels_ahead(self, position: int) -> float:
        """The megapixels painted before the job at `position` starts: the jobs ahead of it, and the turn it waits
        for (a typical job's, 1 MP, when it is first)."""
        ahead = [self._megapixels.get(j, 1.0) for _, j in self._line[:position - 1]]
        return sum(ahead) + 1.0

    def estimate(self, position: int, default: float) -> int:
        """Seconds until the job at `position` likely starts: the megapixels ahead at the recent pace (`default`
        seconds a megapixel before any job got through), rounded up to 5 s."""
        pace = statistics.median(self._pace) if self._pace else default
        seconds = max(pace * self.megapixels_ahead(position), 5.0)
        return int(-(-seconds // 5) * 5)
