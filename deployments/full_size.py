"""Painting at the photo's own size inside a replica: models/fullres's tiled painter, its margin measured once per
replica, one full-size painting at a time (the memory bound is per painting), progress streamed out of the worker
thread as each tile is done, and a caller who goes away stops the painting at the next tile."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import numpy as np
import torch
from PIL import Image
from torch import nn

from models.cyclegan.finishing import finished
from models.fullres import FullResPainter
from models.images import encode_image

OnTile = Callable[[int, int], None]
Paint = Callable[[torch.Tensor], torch.Tensor]


class CallerLeft(Exception):
    """The caller stopped reading the stream: the painting ends at the next tile."""


class FullSize:
    """One replica's full-size painter for one network (`net`: the module holding its norm layers)."""

    def __init__(self, net: nn.Module):
        self.net = net
        self.margin: int | None = None
        self.one_at_a_time = threading.Lock()
        self.painted = self.stopped = 0   # full-size paintings finished, and stopped early by their caller leaving

    def painter(self, paint: Paint, strength: float = 1.0, keep_colors: bool = False) -> FullResPainter:
        """`paint` finished per tile. The network's reach is measured on its first full-size painting, on the
        painting itself (finished with strength 0 it would be the photo, and reach nothing)."""
        painter = FullResPainter(finished(paint, strength, keep_colors), self.net, margin=self.margin, reach_of=paint)
        self.margin = painter.margin
        return painter

    def paint(self, photo: np.ndarray, paint: Paint, fmt: str, on_tile: OnTile,
              strength: float = 1.0, keep_colors: bool = False) -> bytes:
        """`photo` (H, W, 3) uint8 painted at its size with `paint`, finished (strength, colours: both per pixel,
        so per tile) and encoded as `fmt`."""
        with self.one_at_a_time:
            painter = self.painter(paint, strength, keep_colors)
            try:
                painted = painter(photo, on_tile=on_tile)
            except CallerLeft:
                self.stopped += 1
                raise
            self.painted += 1
        return encode_image(Image.fromarray(painted), fmt)

    def stats(self) -> dict:
        return {"painted": self.painted, "stopped": self.stopped, "margin": self.margin}


async def stream_painting(work: Callable[[OnTile], bytes]) -> AsyncIterator[dict]:
    """Run `work(on_tile)` in a thread: {"type": "progress", "done", "total"} after each tile, then
    {"type": "result", "image": bytes}. The thread hands back progress, the result and a failure through one
    queue, so they arrive in the order they happened."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
    caller_left = threading.Event()

    def on_tile(done: int, total: int) -> None:
        if caller_left.is_set():
            raise CallerLeft()
        loop.call_soon_threadsafe(events.put_nowait, ("progress", {"type": "progress", "done": done, "total": total}))

    def run() -> None:
        try:
            outcome = ("result", {"type": "result", "image": work(on_tile)})
        except BaseException as e:  # noqa: BLE001 - handed to the caller, or dropped once the caller has left
            outcome = ("error", e)
        loop.call_soon_threadsafe(events.put_nowait, outcome)

    thread = asyncio.ensure_future(asyncio.to_thread(run))  # noqa: F841 - runs on; its outcome comes by the queue
    try:
        while True:
            kind, value = await events.get()
            if kind == "error":
                raise value
            yield value
            if kind == "result":
                return
    finally:
        caller_left.set()
