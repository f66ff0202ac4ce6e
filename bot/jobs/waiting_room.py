"""Jobs the styles app turned away (busy) wait in the bot's line instead of failing, the person seeing their
place and an estimate in the job's progress message; bot/waiting_line.py keeps the line itself. A job trying
again stays first in line until the styles app starts on its call (bot/styles_client.py's on_admitted), so jobs start
in arrival order even while the app's own queue fills and empties."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from bot.jobs.helpers import language, painted_megapixels
from bot.jobs.progress import Progress
from bot.limits import BUSY_RETRY_S
from bot.state import Job
from bot.styles_client import StylesError, on_admitted
from bot.waiting_line import WaitingLine
from models.error_codes import ErrorCode


class WaitingRoom:
    def __init__(self, progress: Progress, poll_s: float = 5.0, patience_s: float = 900.0):
        self.progress = progress
        # jobs the styles app turned away wait here; the first in line tries again every `poll_s`
        self.lines = {"nst": WaitingLine(), "preset": WaitingLine()}
        self.poll_s, self.patience_s = poll_s, patience_s   # then "busy, try later"
        self._shown: dict[int, str] = {}   # job id -> the place and estimate its progress message shows

    async def take_turn(self, job: Job, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run `attempt` in the job's turn. When the styles app is busy the job waits in the bot's line (in
        arrival order, the person seeing their place) instead of failing; a job arriving while others wait
        queues behind them. Only the first in line tries, and it keeps its place until the styles app starts on its
        call (or turns it away again), so the next in line cannot overtake it."""
        line = self.lines["nst" if job.kind == "nst" else "preset"]
        if len(line):
            await line.join(job.id, job.created, painted_megapixels(job))
        retry_at, turned_away = time.monotonic(), None
        admitted = on_admitted.set(lambda: line.leave(job.id))
        try:
            while True:
                if job.id in line:
                    await self.wait(job, line, retry_at)
                started = time.monotonic()
                try:
                    await attempt()
                except StylesError as e:
                    turned_away = turned_away or started
                    if e.code != ErrorCode.BUSY or started - turned_away > self.patience_s:
                        raise
                    retry_at = time.monotonic() + min(float(e.retry_after or BUSY_RETRY_S), self.poll_s)
                    await line.join(job.id, job.created, painted_megapixels(job))   # a job in line keeps its place
                    continue
                line.record(time.monotonic() - started, painted_megapixels(job))
                return
        finally:
            on_admitted.reset(admitted)
            self._shown.pop(job.id, None)
            await line.leave(job.id)

    async def wait(self, job: Job, line: WaitingLine, retry_at: float) -> None:
        """Wait until the job is first in line and `retry_at` has passed, showing its place and an estimate in
        one message (the job's progress message: /cancel edits it too)."""
        tx = language(job)
        while True:
            place, now = line.position(job.id), time.monotonic()
            text = tx.QUEUED.format(place=tx.place(place), seconds=line.estimate(place, BUSY_RETRY_S))
            if text != self._shown.get(job.id):
                await self.progress.show(job, text)
                self._shown[job.id] = text
            if place == 1 and now >= retry_at:
                return
            await line.wait_for_change(max(retry_at - now, 0.2) if place == 1 else self.poll_s)
