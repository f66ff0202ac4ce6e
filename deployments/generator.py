"""Serve deployment for one generator network: batches concurrent requests with @serve.batch. A network that
paints several styles (the 26-style one, the arbitrary network's fixed styles) serves all its presets from one
deployment, and one batch may mix them."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import torch
from ray import serve

from deployments.clip_frames import ClipFrames
from deployments.full_size import FullSize, stream_painting
from models import loading
from models.cyclegan.finishing import finish
from models.device import prepare_torch
from models.images import encode_image
from models.tensors import from_array, to_pil
from models.weights_store import WeightsStore


@serve.deployment
class Generator:
    def __init__(self, preset: str, weights: str, adapter: str, caption: str, device: str = "cpu",
                 styles: list[str] | None = None):
        """`weights` and `adapter`: the choice the builder made from the catalogue, once for every replica. The
        store still checks the file's sha256 as it loads it: each node loads its own copy. `styles`: the fixed
        styles (style-vector names) this deployment paints, for the arbitrary network."""
        self.preset, self.caption = preset, caption
        self.device = prepare_torch(device)
        self.runner = loading.load_runner(WeightsStore(), weights, adapter, self.device, styles)
        self.multi = adapter in ("multistyle", "arbitrary")
        # warm-up: first-call allocations happen before traffic arrives
        warm_style = (styles[0] if styles else 0) if self.multi else None
        self.runner.run_many([torch.rand(3, 64, 64)], [warm_style] if self.multi else None)
        self.batch_sizes: list[int] = []
        self.painting = 0   # images being painted now (stats: a caller can see a batch in progress)
        self.full_size = FullSize(self.runner.net)
        self.clip_frames = ClipFrames(self.runner.net, self.device)

    def reconfigure(self, config: dict) -> None:
        self.stylize_batch.set_max_batch_size(int(config.get("max_batch_size", 8)))
        self.stylize_batch.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.01)))

    async def stylize(self, image: np.ndarray, fmt: str = "JPEG", strength: float = 1.0,
                      keep_colors: bool = False, style: int | str | None = None) -> bytes:
        """A decoded (H, W, 3) uint8 image in, `fmt` bytes out, the same size. `strength` (0..1) blends the
        painting with the photo; `keep_colors` gives it the photo's colours (models.cyclegan.finishing);
        `style`: which style, for a network that paints several."""
        self._check_style(style)
        return await self.stylize_batch(image, fmt, float(strength), bool(keep_colors), style)

    async def stylize_full(self, image: np.ndarray, fmt: str = "JPEG", strength: float = 1.0,
                           keep_colors: bool = False, style: int | str | None = None) -> AsyncIterator[dict]:
        """`stylize` at the photo's own size, tile by tile (deployments/full_size.py), outside the batches:
        {"type": "progress", "done", "total"} tiles, then {"type": "result", "image": bytes}."""
        self._check_style(style)
        paint = self.runner.for_style(style)
        async for event in stream_painting(lambda on_tile: self.full_size.paint(
                image, paint, fmt, on_tile, float(strength), bool(keep_colors))):
            yield event

    async def clip_stats(self, key_frames: list[np.ndarray], style: int | str | None = None,
                         strength: float = 1.0) -> dict:
        """A clip's norm statistics from its key frames (models/video/steady.py): {"stats"} for paint_frames.
        (`strength` is applied per frame here: it takes no part in the statistics.)"""
        self._check_style(style)
        return {"stats": await self.clip_frames.record(self.runner.for_style(style), key_frames)}

    async def paint_frames(self, frames: list[np.ndarray], clip: dict, strength: float = 1.0,
                           keep_colors: bool = False, style: int | str | None = None,
                           steady: bool = True) -> list[np.ndarray]:
        """Same-size (H, W, 3) uint8 frames of a clip painted as one batch with the clip's statistics (`clip`:
        clip_stats's); `steady` False paints each frame on its own, as a photo."""
        self._check_style(style)
        return await self.clip_frames.paint(self.runner.for_style(style), frames, clip["stats"] if steady else None,
                                            strength, keep_colors)

    def _check_style(self, style: int | str | None) -> None:
        if (style is None) == self.multi:
            raise ValueError(f"{self.preset}: " + ("a style index is needed" if self.multi else "no style index"))

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def stylize_batch(self, images: list[np.ndarray], fmts: list[str], strengths: list[float],
                            keep_colors: list[bool], styles: list[int | str | None]) -> list[bytes]:
        return await asyncio.to_thread(self._run, images, fmts, strengths, keep_colors, styles)

    def _run(self, images: list[np.ndarray], fmts: list[str], strengths: list[float],
             keep_colors: list[bool], styles: list[int | str | None]) -> list[bytes]:
        self.batch_sizes = (self.batch_sizes + [len(images)])[-100:]
        tensors = [from_array(a) for a in images]
        self.painting += len(images)
        try:  # same-size inputs run as one batch, whatever their styles
            outputs = self.runner.run_many(tensors, list(styles) if self.multi else None)
        finally:
            self.painting -= len(images)
        return [encode_image(to_pil(finish(x, y, s, k)), fmt)
                for x, y, fmt, s, k in zip(tensors, outputs, fmts, strengths, keep_colors)]

    def stats(self) -> dict:
        return {"replica": serve.get_replica_context().replica_id.unique_id, "preset": self.preset,
                "device": self.device, "caption": self.caption, "recent_batch_sizes": self.batch_sizes,
                "painting": self.painting, "full_size": self.full_size.stats(), "clips": self.clip_frames.stats()}
