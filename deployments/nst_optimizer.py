"""Serve deployment for Gatys NST: jobs advanced together by one scheduler thread, progress streamed,
cancellable. `capacity` jobs run at once (the builder sets it, and max_ongoing_requests with it): 1 on a CPU,
where a second job would only halve the speed of the first; several on a GPU, where concurrent jobs share each
VGG pass."""
from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

import numpy as np
from ray import serve

from models.tensors import from_array, to_pil
from models.nst import NSTOptions, StyleNotTransferred
from models.nst.scheduler import NSTScheduler
from models.device import prepare_torch
from models.loading import load_nst
from deployments import metrics
from deployments.http_errors import not_transferred
from models.images import encode_image
from models.weights_store import WeightsStore


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
    def __init__(self, device: str = "cpu", style_cache_size: int = 64, capacity: int = 1):
        self.device = prepare_torch(device)
        self.nst = load_nst(WeightsStore(), self.device)
        self.style_cache = LRU(style_cache_size)
        self.scheduler = NSTScheduler(self.nst, capacity, self.style_cache)

    async def run(self, content: np.ndarray, style: np.ndarray, options: dict, fmt: str = "JPEG",
                  style_key: str | None = None, previews: dict | None = None) -> AsyncIterator[dict]:
        """Decoded (H, W, 3) uint8 images in (the style already sized for the job); yields {"type": "progress",
        step, total, loss} events, then {"type": "result", image, ...}. `style_key` names the style image for the
        Gram cache (the ingress hashes the upload); without it the pixels are hashed. `previews`
        ({"every_s": 10, "max": 3}) adds {"type": "preview", step, image: JPEG bytes} events: the picture so far."""
        opts = NSTOptions(**options)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        c, s = from_array(content), from_array(style)
        key = f"{style_key or hashlib.sha256(style.tobytes()).hexdigest()}:{style.shape[1]}x{style.shape[0]}"
        previews = previews or {}
        job = self.scheduler.submit(c, s, opts, lambda e: loop.call_soon_threadsafe(events.put_nowait, e),
                                    style_key=key, preview_every_s=previews.get("every_s"),
                                    max_previews=int(previews.get("max", 0)))
        started, evaluated = time.monotonic(), 0
        metrics.nst_jobs.set(self.scheduler.running)
        try:
            while (event := await events.get())["type"] in ("progress", "preview"):
                if event["type"] == "preview":
                    image = await asyncio.to_thread(lambda e=event: encode_image(to_pil(e["image"]), "JPEG"))
                    yield {"type": "preview", "step": event["step"], "image": image}
                    continue
                if event["step"] > evaluated:
                    metrics.nst_evaluations.inc(event["step"] - evaluated)
                    evaluated = event["step"]
                # gauges go stale in Ray's exporter unless set again: refresh them with every event
                metrics.nst_jobs.set(self.scheduler.running)
                metrics.nst_evaluations_per_second.set(evaluated / max(time.monotonic() - started, 1e-6))
                yield event
            if event["type"] == "left":
                raise RuntimeError("the optimiser was stopped")
            if event["type"] == "error":
                if isinstance(event["error"], StyleNotTransferred):
                    raise not_transferred(event["error"].drop, event["error"].required)
                raise event["error"]
            result = event["result"]
            if result.steps > evaluated:
                metrics.nst_evaluations.inc(result.steps - evaluated)
            metrics.nst_evaluations_per_second.set(result.steps / max(time.monotonic() - started, 1e-6))
            image = await asyncio.to_thread(lambda: encode_image(to_pil(result.image), fmt))
            yield {"type": "result", "image": image, "format": fmt, "steps": result.steps, "loss": result.loss}
        finally:
            # Cancelled (handle.cancel() or the HTTP client left) or finished: the job leaves at the next step;
            # wait for that, so the replica has room before the next request starts.
            job.cancel()
            await asyncio.to_thread(job.ended.wait)
            metrics.nst_jobs.set(self.scheduler.running)

    def stats(self) -> dict:
        return {"busy": self.scheduler.running > 0, "running": self.scheduler.running,
                "capacity": self.scheduler.capacity, "widest_step": self.scheduler.widest_step,
                "style_cache_entries": len(self.style_cache), "device": self.device,
                "memory_releases": self.scheduler.memory_releases}
