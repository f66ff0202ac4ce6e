"""Serve deployment for the fast arbitrary-style model: own style image to painting in one pass. Concurrent
requests are batched with @serve.batch (same-size photos run together, each with its own style)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import torch
from ray import serve

from deployments.clip_frames import ClipFrames
from deployments.full_size import FullSize, stream_painting
from models.arbitrary.fixed import VECTOR_LENGTH
from models.fullres import THUMB_SIDE, thumbnail
from models.cyclegan.finishing import finish
from models.device import prepare_torch
from models.images import encode_image
from models.loading import load_fast
from models.tensors import from_array, to_pil
from models.video.steady import strip
from models.weights_store import WeightsStore


@serve.deployment
class FastStyle:
    def __init__(self, device: str = "cpu"):
        self.device = prepare_torch(device)
        self.model = load_fast(WeightsStore(), self.device)
        warm = torch.rand(3, 64, 64)
        vector = self.model.style_vector(warm)
        self.model.paint(warm, vector)  # first-call allocations before traffic arrives
        if vector.numel() != VECTOR_LENGTH:  # callers check the vectors they send against this length
            raise ValueError(f"the style predictor makes {vector.numel()} numbers, not {VECTOR_LENGTH}")
        self.batch_sizes: list[int] = []
        self.full_size = FullSize(self.model.transformer.net)
        self.clip_frames = ClipFrames(self.model.transformer.net, self.device)

    def reconfigure(self, config: dict) -> None:
        self.paint_batch.set_max_batch_size(int(config.get("max_batch_size", 8)))
        self.paint_batch.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.01)))

    async def stylize(self, content: np.ndarray, style: np.ndarray, fmt: str = "JPEG", strength: float = 1.0,
                      keep_colors: bool = False) -> bytes:
        """Decoded (H, W, 3) uint8 photo and style image in, `fmt` bytes of the painted photo out (the photo's
        size). `style` may instead be a style vector (`vector`'s, as a float32 array). `strength` (0..1) moves the
        style toward the photo's own; `keep_colors` keeps the photo's colours."""
        return await self.paint_batch(content, style, fmt, float(strength), bool(keep_colors))

    async def stylize_full(self, content: np.ndarray, style: np.ndarray, fmt: str = "JPEG", strength: float = 1.0,
                           keep_colors: bool = False) -> AsyncIterator[dict]:
        """`stylize` at the photo's own size, tile by tile (deployments/full_size.py): {"type": "progress", "done",
        "total"} tiles, then {"type": "result", "image": bytes}."""
        def work(on_tile):
            vector = self._mixed_vector(content, style, float(strength))
            paint = self.model.transformer.for_style(vector)
            return self.full_size.paint(content, paint, fmt, on_tile, 1.0, bool(keep_colors))
        async for event in stream_painting(work):
            yield event

    def _mixed_vector(self, content: np.ndarray, style: np.ndarray, strength: float) -> torch.Tensor:
        """The style's vector moved toward the photo's own (read from its thumbnail) by 1 - strength."""
        return self.model.mixed_vector(self._vector(style), lambda: thumbnail(content, THUMB_SIDE), strength)

    def _vector(self, style: np.ndarray) -> torch.Tensor:
        if style.ndim == 1:
            return torch.from_numpy(np.array(style, np.float32))
        return self.model.style_vector(from_array(style))

    async def clip_stats(self, key_frames: list[np.ndarray], style: np.ndarray, strength: float = 1.0) -> dict:
        """A clip's style vector (`style`, an image or a vector, moved toward the clip's own by 1 - strength, read
        from its key frames) and its norm statistics (models/video/steady.py): {"vector", "stats"}."""
        vector = await asyncio.to_thread(self.model.mixed_vector, self._vector(style),
                                         lambda: thumbnail(strip(key_frames), THUMB_SIDE), float(strength))
        stats = await self.clip_frames.record(self.model.transformer.for_style(vector), key_frames)
        return {"vector": vector.cpu().numpy(), "stats": stats}

    async def paint_frames(self, frames: list[np.ndarray], clip: dict, strength: float = 1.0,
                           keep_colors: bool = False, steady: bool = True) -> list[np.ndarray]:
        """Same-size (H, W, 3) uint8 frames painted as one batch with the clip's vector and statistics (`clip`:
        clip_stats's; its strength is in the vector); `steady` False paints each frame on its own."""
        paint = self.model.transformer.for_style(torch.from_numpy(np.asarray(clip["vector"], np.float32)))
        return await self.clip_frames.paint(paint, frames, clip["stats"] if steady else None, 1.0, keep_colors)

    async def vector(self, style: np.ndarray) -> list[float]:
        """The style vector of a decoded (H, W, 3) uint8 style image: what `stylize` computes from it."""
        return await asyncio.to_thread(lambda: self.model.style_vector(from_array(style)).tolist())

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def paint_batch(self, contents: list[np.ndarray], styles: list[np.ndarray], fmts: list[str],
                          strengths: list[float], keep_colors: list[bool]) -> list[bytes]:
        return await asyncio.to_thread(self._run, contents, styles, fmts, strengths, keep_colors)

    def _run(self, contents, styles, fmts, strengths, keep_colors) -> list[bytes]:
        self.batch_sizes = (self.batch_sizes + [len(contents)])[-100:]
        photos = [from_array(a) for a in contents]
        vectors = [self._vector(s) for s in styles]
        painted = self.model.paint_many(photos, vectors, strengths)
        # strength is already in the style vectors; keep-colours the same way as for presets
        return [encode_image(to_pil(finish(x, y, 1.0, k)), fmt)
                for x, y, fmt, k in zip(photos, painted, fmts, keep_colors)]

    def stats(self) -> dict:
        return {"replica": serve.get_replica_context().replica_id.unique_id, "device": self.device,
                "batch_sizes": list(self.batch_sizes), "full_size": self.full_size.stats(),
                "clips": self.clip_frames.stats()}
