"""One clip painted: its frames decoded (a worker thread) in chunks, each chunk painted by `paint_chunk` (the
styles ingress: a model deployment call; the CLI: the network in this process), several in flight so that
decoding, painting and encoding overlap; the painted frames held steady where the source is still
(models/video/temporal.py) and encoded as they come back, in order. Progress after each chunk; the clip's MP4
last. Closing the events stops everything at once: the calls in flight are cancelled, nothing more is decoded."""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import numpy as np

from models.video.clip import ClipInfo, read_frames
from models.video.temporal import TemporalBlend
from models.video.writer import ClipWriter

CHUNK = 8       # frames per deployment call: a batch the generators run as one
IN_FLIGHT = 3   # chunks sent ahead: enough to keep two replicas busy while this one encodes

PaintChunk = Callable[[list[np.ndarray]], Awaitable[list[np.ndarray]]]


def _take(frames: Iterator[np.ndarray], n: int) -> list[np.ndarray]:
    return [f for _, f in zip(range(n), frames)]


class ClipJob:
    def __init__(self, data: bytes, info: ClipInfo, size: tuple[int, int], paint_chunk: PaintChunk,
                 steady: bool = True):
        self.data, self.info, self.size, self.paint_chunk = data, info, size, paint_chunk
        self.blend = TemporalBlend() if steady else None
        self.done = 0

    def _write(self, writer: ClipWriter, sources: list[np.ndarray], painted: list[np.ndarray]) -> None:
        for source, frame in zip(sources, painted):
            writer.add(self.blend.blend(source, frame) if self.blend is not None else frame)

    async def _next_chunk(self, frames: Iterator[np.ndarray]) -> list[np.ndarray]:
        return await asyncio.to_thread(_take, frames, CHUNK)

    async def events(self) -> AsyncIterator[dict]:
        """{"type": "progress", "done", "total"} frames after each chunk, then {"type": "result", "video": MP4
        bytes, "width", "height", "fps", "frames", "has_audio"}."""
        frames = read_frames(self.data, self.size)
        writer = await asyncio.to_thread(ClipWriter, *self.size, self.info.fps,
                                         self.data if self.info.has_audio else None)
        pending: deque[tuple[list[np.ndarray], asyncio.Future]] = deque()
        finished = False
        try:
            while True:
                while len(pending) < IN_FLIGHT and (chunk := await self._next_chunk(frames)):
                    pending.append((chunk, asyncio.ensure_future(self.paint_chunk(chunk))))
                if not pending:
                    break
                sources, call = pending.popleft()
                await asyncio.to_thread(self._write, writer, sources, await call)
                self.done += len(sources)
                yield {"type": "progress", "done": self.done, "total": max(self.info.frames, self.done)}
            video, finished = await asyncio.to_thread(writer.finish), True
            yield {"type": "result", "video": video, "width": self.size[0], "height": self.size[1],
                   "fps": float(self.info.fps), "frames": self.done, "has_audio": self.info.has_audio}
        finally:
            for _, call in pending:
                call.cancel()
            try:
                frames.close()
            except ValueError:   # a decode still running in its thread, after a cancel: it ends with the clip
                pass
            if not finished:
                await asyncio.to_thread(writer.close)
