"""Serve deployment for one preset generator: batches concurrent requests with @serve.batch."""
from __future__ import annotations

import asyncio
import io

from pathlib import Path

import torch
from PIL import Image
from ray import serve

from models.tensors import to_pil, to_tensor
from models.device import prepare_torch
from models.catalogue import Catalogue
from models.loading import load_preset
from models.images import encode_image
from models.weights_store import WeightsStore


@serve.deployment
class Generator:
    def __init__(self, preset: str, device: str = "cpu", catalogue_path: str | None = None):
        self.preset = preset
        self.device = prepare_torch(device)
        catalogue, store = Catalogue.load(Path(catalogue_path) if catalogue_path else None), WeightsStore()
        self.status = catalogue.status(catalogue.get(preset), store)
        self.runner = load_preset(store, self.status, self.device)
        self.runner(torch.rand(3, 64, 64))  # warm-up: first-call allocations happen before traffic arrives
        self.batch_sizes: list[int] = []

    def reconfigure(self, config: dict) -> None:
        self.stylize_batch.set_max_batch_size(int(config.get("max_batch_size", 8)))
        self.stylize_batch.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.05)))

    async def stylize(self, image: bytes, fmt: str = "JPEG") -> bytes:
        """PNG/JPEG bytes in, `fmt` bytes out, same size as the input."""
        return await self.stylize_batch(image, fmt)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def stylize_batch(self, images: list[bytes], fmts: list[str]) -> list[bytes]:
        return await asyncio.to_thread(self._run, images, fmts)

    def _run(self, images: list[bytes], fmts: list[str]) -> list[bytes]:
        self.batch_sizes = (self.batch_sizes + [len(images)])[-100:]
        tensors = [to_tensor(Image.open(io.BytesIO(b))) for b in images]
        outputs = self.runner.run_many(tensors)  # same-size inputs run as one batch
        return [encode_image(to_pil(y), fmt) for y, fmt in zip(outputs, fmts)]

    def stats(self) -> dict:
        return {"preset": self.preset, "device": self.device, "caption": self.status.caption,
                "recent_batch_sizes": self.batch_sizes}
