"""deployments/full_size.py's stream, without Ray: a painting in a worker thread hands its tiles done, then its
result (or its failure), in order; a caller who leaves stops it at the next tile."""
import asyncio
import threading

import pytest

from deployments.full_size import CallerLeft, stream_painting


async def collect(work) -> list[dict]:
    return [e async for e in stream_painting(work)]


def test_every_tile_then_the_result_in_order():
    def work(on_tile):
        for i in range(1, 7):
            on_tile(i, 6)
        return b"painting"

    events = asyncio.run(collect(work))
    assert [e["done"] for e in events[:-1]] == [1, 2, 3, 4, 5, 6] and {e["total"] for e in events[:-1]} == {6}
    assert events[-1] == {"type": "result", "image": b"painting"}


def test_a_failure_reaches_the_caller_after_the_tiles_before_it():
    def work(on_tile):
        on_tile(1, 3)
        raise MemoryError("out of memory on tile 2")

    seen = []

    async def run():
        async for e in stream_painting(work):
            seen.append(e)

    with pytest.raises(MemoryError, match="tile 2"):
        asyncio.run(run())
    assert [e["done"] for e in seen] == [1]


def test_a_caller_who_leaves_stops_the_painting_at_the_next_tile():
    left, stopped_at = threading.Event(), []

    def work(on_tile):
        i = 0
        try:
            for i in range(1, 1000):
                on_tile(i, 999)
                if i >= 2:
                    left.wait(5)          # the caller has gone by the third tile
        except CallerLeft:
            stopped_at.append(i)
            raise
        return b"never"

    async def leave_after_the_first():
        events = stream_painting(work)
        first = await events.__anext__()
        await events.aclose()
        left.set()
        for _ in range(100):
            if stopped_at:
                break
            await asyncio.sleep(0.05)
        return first

    assert asyncio.run(leave_after_the_first())["done"] == 1
    assert stopped_at and stopped_at[0] <= 3
