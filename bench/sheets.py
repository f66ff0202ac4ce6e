"""Helpers the benchmark scripts share: a labelled contact sheet and a median timer."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from PIL import Image, ImageDraw


def contact_sheet(rows: list[tuple[str, list[Image.Image]]], path: Path, heads: list[str], tile: int,
                  quality: int = 88) -> None:
    """One row per (note, images), a column per head, each image fitted into a `tile` px square."""
    sheet = Image.new("RGB", (tile * len(heads), 20 + (tile + 20) * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, head in enumerate(heads):
        draw.text((i * tile + 4, 4), head, fill="black")
    for r, (note, images) in enumerate(rows):
        top = 20 + r * (tile + 20)
        draw.text((4, top + 2), note, fill="black")
        for i, img in enumerate(images):
            small = img.copy()
            small.thumbnail((tile, tile), Image.LANCZOS)
            sheet.paste(small, (i * tile, top + 18))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=quality)


def median_time(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
