"""Serve deployment for one preset generator: batches concurrent requests with @serve.batch."""
from __future__ import annotations

import asyncio

import numpy as np
import torch
from ray import serve

from models.cyclegan import GeneratorRunner, load_generator
from models.device import prepare_torch
from models.images import encode_image
from models.tensors import from_array, to_pil
from models.weights_store import WeightsStore


@serve.deployment
class Generator:
    def __init__(self, preset: str, weights: str, adapter: str, caption: str, device: str = "cpu"):
        """`weights` and `adapter`: the choice the builder made from the catalogue, once for every replica. The
        store still checks the file's sha256 as it loads it: each node loads its own copy."""
        self.preset, self.caption = preset, caption
        self.device = prepare_torch(device)
        checkpoint = WeightsStore().load_state_dict(weights)
        self.runner = GeneratorRunner(load_generator(checkpoint, adapter), device=self.device)
        self.runner(torch.rand(3, 64, 64))  # warm-up: first-call allocations happen before traffic arrives
        self.batch_sizes: list[int] = []

    def reconfigure(self, config: dict) -> None:
        self.stylize_batch.set_max_batch_size(int(config.get("max_batch_size", 8)))
        self.stylize_batch.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.01)))

    async def stylize(self, image: np.ndarray, fmt: str = "JPEG") -> bytes:
        """A decoded (H, W, 3) uint8 image in, `fmt` bytes out, the same size."""
        return await self.stylize_batch(image, fmt)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.01)
    async def stylize_batch(self, images: list[np.ndarray], fmts: list[str]) -> list[bytes]:
        return await asyncio.to_thread(self._run, images, fmts)

    def _run(self, images: list[np.ndarray], fmts: list[str]) -> list[bytes]:
        self.batch_sizes = (self.batch_sizes + [len(images)])[-100:]
        tensors = [from_array(a) for a in images]
        outputs = self.runner.run_many(tensors)  # same-size inputs run as one batch
        return [encode_image(to_pil(y), fmt) for y, fmt in zip(outputs, fmts)]

    def stats(self) -> dict:
        return {"preset": self.preset, "device": self.device, "caption": self.caption,
                "recent_batch_sizes": self.batch_sizes}
