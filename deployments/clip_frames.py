"""Painting a clip's frames inside a model replica (models/video/steady.py): the clip's norm statistics recorded
once from its key frames, then its frames painted in batches with them, each batch its own handle call so that
the autoscaler sees the work and any replica of the deployment may take the next batch."""
from __future__ import annotations

import asyncio

import numpy as np
from torch import nn

from models.video.steady import ExportedStats, Paint, SteadyPainter

GPU_SUB_BATCH = 8   # a GPU runs a whole chunk at once

class ClipFrames:
    """One replica's clip painter for one network (`net`: the module holding its norm layers)."""

    def __init__(self, net: nn.Module, device: str = "cpu"):
        self.steady = SteadyPainter(net, sub_batch=1 if device == "cpu" else GPU_SUB_BATCH)
        self.frames = self.clips = 0   # frames painted, clips whose statistics were recorded here
        self.painting = 0              # frames being painted now

    async def record(self, paint: Paint, key_frames: list[np.ndarray]) -> ExportedStats:
        stats = await asyncio.to_thread(self.steady.record, paint, key_frames)
        self.clips += 1
        return stats

    async def paint(self, paint: Paint, frames: list[np.ndarray], stats: ExportedStats | None,
                    strength: float, keep_colors: bool) -> list[np.ndarray]:
        """`stats` None: each frame painted on its own, as a photo would be (what steady painting is measured
        against)."""
        work = self.steady.paint if stats is not None else self.steady.paint_alone
        self.painting += len(frames)
        try:
            painted = await asyncio.to_thread(work, paint, frames, stats, float(strength), bool(keep_colors))
        finally:
            self.painting -= len(frames)
        self.frames += len(frames)
        return painted

    def stats(self) -> dict:
        return {"clips": self.clips, "frames": self.frames, "painting": self.painting}
