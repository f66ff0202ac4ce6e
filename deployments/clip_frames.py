"""Painting a clip's frames inside a model replica (models/video/steady.py): the clip's norm statistics recorded
once from its key frames, then its frames painted in batches with them, each batch its own handle call so that
the autoscaler sees the work and any replica of the deployment may take the next batch."""
from __future__ import annotations

import asyncio
import threading

import numpy as np
from torch import nn

from models.video.steady import ClipStopped, ExportedStats, Paint, SteadyPainter

GPU_SUB_BATCH = 8   # a GPU runs a whole chunk at once

class ClipFrames:
    """One replica's clip painter for one network (`net`: the module holding its norm layers)."""

    def __init__(self, net: nn.Module, device: str = "cpu"):
        self.steady = SteadyPainter(net, sub_batch=1 if device == "cpu" else GPU_SUB_BATCH)
        self.frames = self.clips = 0   # frames painted, clips whose statistics were recorded here
        self.painting = 0              # frames being painted now
        self.stopped = 0               # chunks stopped partway: their caller went away
        self.counting = threading.Lock()   # chunks run in several threads at once

    async def record(self, paint: Paint, key_frames: list[np.ndarray]) -> ExportedStats:
        stats = await asyncio.to_thread(self.steady.record, paint, key_frames)
        self.clips += 1
        return stats

    async def paint(self, paint: Paint, frames: list[np.ndarray], stats: ExportedStats | None,
                    strength: float, keep_colors: bool) -> list[np.ndarray]:
        """`stats` None: each frame painted on its own, as a photo would be (what steady painting is measured
        against). A caller who goes away (the clip cancelled: Serve cancels this call) stops the painting at the
        next frame, not the end of the chunk."""
        work = self.steady.paint if stats is not None else self.steady.paint_alone
        caller_left = threading.Event()

        def run() -> list[np.ndarray]:   # counted here: the thread outlives a cancelled call by up to a frame
            self._count(painting=len(frames))
            try:
                painted = work(paint, frames, stats, float(strength), bool(keep_colors), caller_left.is_set)
            except ClipStopped:
                self._count(stopped=1)
                raise
            finally:
                self._count(painting=-len(frames))
            self._count(frames=len(frames))
            return painted

        try:
            return await asyncio.to_thread(run)
        except asyncio.CancelledError:
            caller_left.set()
            raise

    def _count(self, **changes: int) -> None:
        with self.counting:
            for name, change in changes.items():
                setattr(self, name, getattr(self, name) + change)

    def stats(self) -> dict:
        return {"clips": self.clips, "frames": self.frames, "painting": self.painting, "stopped": self.stopped}
