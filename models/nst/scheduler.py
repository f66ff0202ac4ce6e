"""NST jobs on one engine, advanced together by one background thread.

Each step evaluates every running job once (GatysNST.step: jobs of one size share a VGG pass). Jobs join and
leave between steps: a submitted job starts at the next step when there is room (`capacity`), a cancelled one
leaves at the next step, a finished one is checked and handed back. Events go to each job's `on_event`
callback, from the worker thread: {"type": "progress", step, total, loss} (and, for a job that asked for them,
{"type": "preview", step, image: the (3, H, W) image so far}), then exactly one of
{"type": "result", "result": NSTResult}, {"type": "error", "error": exception} or {"type": "left"}.
Pure Python and torch: the Serve deployment wraps it; tests drive it directly.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping

import torch

from models.memory import release_freed_memory
from models.nst.gatys import GatysNST
from models.nst.options import NSTOptions
from models.nst.run import NSTRun

logger = logging.getLogger(__name__)
EventFn = Callable[[dict], None]


class NSTJob:
    def __init__(self, content: torch.Tensor, style: torch.Tensor, options: NSTOptions, on_event: EventFn,
                 style_key: str | None, preview_every_s: float | None = None, max_previews: int = 0):
        self.content, self.style, self.options, self.on_event, self.style_key = content, style, options, on_event, style_key
        self.run: NSTRun | None = None
        self.cancelled = threading.Event()
        self.ended = threading.Event()
        self.preview_every_s = preview_every_s
        self.previews_left = max_previews if preview_every_s is not None else 0
        self._last_preview = time.monotonic()

    def _preview_if_due(self) -> None:
        """The image so far, every `preview_every_s` seconds (the first one that long after the start), at most
        `max_previews` times; a finished run's result is the result event, not a preview."""
        if self.previews_left <= 0 or self.run is None or self.run.done:
            return
        now = time.monotonic()
        if now - self._last_preview >= self.preview_every_s:
            self._last_preview = now
            self.previews_left -= 1
            self._emit({"type": "preview", "step": self.run.step, "image": self.run.current_image()})

    def cancel(self) -> None:
        """Leave at the next step; a no-op once the job has ended."""
        self.cancelled.set()

    def _end(self, event: dict) -> None:
        if not self.ended.is_set():
            self._emit(event)
            self.run = None   # the run refers back to this job (its progress callback): a cycle that would keep the
            self.ended.set()  # run's L-BFGS history and images alive until Python's rare full collection

    def _progress(self, step: int, total: int, loss: float) -> None:
        self._emit({"type": "progress", "step": step, "total": total, "loss": loss})

    def _emit(self, event: dict) -> None:
        try:
            self.on_event(event)
        except Exception:  # noqa: BLE001 - a listener that went away must not stop the worker thread
            logger.exception("an NST job's listener failed on a %s event", event["type"])


class NSTScheduler:
    def __init__(self, engine: GatysNST, capacity: int = 1, style_cache: MutableMapping | None = None):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.engine, self.capacity, self.style_cache = engine, capacity, style_cache
        self._cond = threading.Condition()
        self._pending: deque[NSTJob] = deque()
        self._active: list[NSTJob] = []
        self.steps = 0                      # steps taken, and the most jobs one step advanced
        self.widest_step = 0
        self.memory_releases = 0            # times the freed memory went back to the system, once idle
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="nst-scheduler", daemon=True)
        self._thread.start()

    def submit(self, content: torch.Tensor, style: torch.Tensor, options: NSTOptions, on_event: EventFn,
               style_key: str | None = None, preview_every_s: float | None = None, max_previews: int = 0) -> NSTJob:
        options.validate()
        job = NSTJob(content, style, options, on_event, style_key, preview_every_s, max_previews)
        with self._cond:
            self._pending.append(job)
            self._cond.notify()
        return job

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._active) + len(self._pending)

    def close(self) -> None:
        """Cancel every job and stop the worker thread after its current step."""
        with self._cond:
            self._closed = True
            for job in list(self._pending) + self._active:
                job.cancel()
            self._cond.notify()
        self._thread.join()

    # -- the worker thread ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._active and not self._closed:
                    self._cond.wait()
                joining = []
                while self._pending and len(self._active) + len(joining) < self.capacity:
                    joining.append(self._pending.popleft())
                leaving = [j for j in list(self._pending) + self._active if j.cancelled.is_set()]
                for job in leaving:
                    (self._pending if job in self._pending else self._active).remove(job)
            for job in leaving:
                job._end({"type": "left"})
            if self._closed:
                for job in joining:
                    job._end({"type": "left"})
                return
            for job in joining:
                self._join(job)
            self._step()
            self._release_memory_if_idle()

    def _release_memory_if_idle(self) -> None:
        """Once the last job has ended (never between two steps of a running one): see models/memory.py."""
        with self._cond:
            idle = not self._active and not self._pending
        if idle and release_freed_memory():
            self.memory_releases += 1

    def _join(self, job: NSTJob) -> None:
        if job.cancelled.is_set():
            job._end({"type": "left"})
            return
        try:
            job.run = self.engine.start(job.content, job.style, job.options, progress=job._progress,
                                        style_cache=self.style_cache, style_key=job.style_key)
        except Exception as e:  # noqa: BLE001 - bad input for this job only: it ends, the others go on
            job._end({"type": "error", "error": e})
            return
        with self._cond:
            self._active.append(job)

    def _step(self) -> None:
        with self._cond:
            active = [j for j in self._active if not j.run.done]
        if active:
            try:
                self.engine.step([j.run for j in active])
                self.steps += 1
                self.widest_step = max(self.widest_step, len(active))
                for job in active:
                    job._preview_if_due()
            except Exception as e:  # noqa: BLE001 - e.g. out of memory: every job of this step ends with it
                logger.exception("NST step failed for %d job(s)", len(active))
                with self._cond:
                    for job in active:
                        self._active.remove(job)
                for job in active:
                    job._end({"type": "error", "error": e})
                return
        with self._cond:
            finished = [j for j in self._active if j.run.done]
            for job in finished:
                self._active.remove(job)
        for job in finished:
            try:
                job._end({"type": "result", "result": job.run.result()})
            except Exception as e:  # noqa: BLE001 - StyleNotTransferred and the like: this job's answer
                job._end({"type": "error", "error": e})
