"""Serve deployment for Gatys NST: one optimisation per replica, progress streamed, cancellable."""
from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator

from PIL import Image
from ray import serve

from deployments.imaging import to_pil, to_tensor
from deployments.nst import NSTOptions
from deployments.runtime import prepare_torch
from serve_app.engines import load_nst
from serve_app.images import encode_image
from serve_app.weights_store import WeightsStore


class LRU(OrderedDict):
    """A small LRU mapping for style Grams (keyed by style hash, level size and options)."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity = capacity

    def get(self, key, default=None):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)


@serve.deployment
class NSTOptimizer:
    def __init__(self, device: str = "cpu", style_cache_size: int = 64):
        self.device = prepare_torch(device)
        self.nst = load_nst(WeightsStore(), self.device)
        self.style_cache = LRU(style_cache_size)
        self.busy = False

    async def run(self, content: bytes, style: bytes, options: dict, fmt: str = "JPEG") -> AsyncIterator[dict]:
        """Yields {"type": "progress", step, total, loss} events, then {"type": "result", image, ...}."""
        opts = NSTOptions(**options)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def progress(step: int, total: int, loss: float) -> None:
            loop.call_soon_threadsafe(events.put_nowait, {"type": "progress", "step": step, "total": total,
                                                          "loss": loss})

        def work() -> dict:
            c = to_tensor(Image.open(io.BytesIO(content)))
            s = to_tensor(Image.open(io.BytesIO(style)))
            result = self.nst.run(c, s, opts, progress=progress, should_stop=stop.is_set,
                                  style_cache=self.style_cache, style_key=hashlib.sha256(style).hexdigest())
            return {"type": "result", "image": encode_image(to_pil(result.image), fmt), "format": fmt,
                    "steps": result.steps, "loss": result.loss}

        self.busy = True
        worker = loop.run_in_executor(None, work)
        worker.add_done_callback(lambda _: loop.call_soon_threadsafe(events.put_nowait, None))
        try:
            while (event := await events.get()) is not None:
                yield event
            yield worker.result()
        finally:
            # Cancelled (handle.cancel() or the HTTP client left) or finished: stop the optimiser within one
            # step and wait for its thread, so the replica is free before the next request starts.
            stop.set()
            if not worker.done():
                await asyncio.wait([worker])
            self.busy = False

    def stats(self) -> dict:
        return {"busy": self.busy, "style_cache_entries": len(self.style_cache), "device": self.device}
