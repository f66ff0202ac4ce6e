"""A picture painted at a working size (a Gatys NST result: the optimiser works at a few hundred pixels) brought
to the photo's own size.

`bicubic`: the plain enlargement, the baseline: soft, no detail above the working size.
`with_painted_detail`: the result kept as it is up to its own scale (its bicubic enlargement's low band), and above
that scale the high band of a full-size painting of the photo in the same style (the arbitrary network through
models/fullres, tile by tile): the brush marks and the photo's edges at full resolution. Laplacian-pyramid
blending: out = bicubic(result) + (full - bicubic(area(full))), where area() shrinks to the result's size. Made in
row strips, so memory is a few bytes a pixel over the photo and the full-size painting (both uint8).
"""
from __future__ import annotations

import numpy as np
from PIL import Image

STRIP = 256   # rows of the output made per step


def bicubic(result: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w, 3) uint8 -> (H, W, 3) uint8; `size` is (H, W)."""
    return np.asarray(Image.fromarray(result).resize((size[1], size[0]), Image.BICUBIC))


def with_painted_detail(result: np.ndarray, painted: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """`result` (h, w, 3) uint8 at the working size, `painted` (H, W, 3) uint8: the photo painted at full size in
    the same style. The result up to its own scale, `painted`'s detail above it (times `gain`)."""
    h, w = result.shape[:2]
    size = painted.shape[:2]
    base = bicubic(result, size)
    low = bicubic(np.asarray(Image.fromarray(painted).resize((w, h), Image.BOX)), size)
    out = np.empty_like(painted)
    for top in range(0, size[0], STRIP):
        rows = slice(top, top + STRIP)
        detail = painted[rows].astype(np.float32) - low[rows]
        out[rows] = np.clip(base[rows] + gain * detail + 0.5, 0, 255).astype(np.uint8)
    return out
