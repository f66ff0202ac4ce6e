"""Whether a painting keeps the photo's shapes: a number for benchmarks and tests."""
from __future__ import annotations

import numpy as np
from PIL import Image


def edge_magnitude(img: Image.Image) -> np.ndarray:
    """Sobel gradient magnitude of the grey image."""
    g = np.asarray(img.convert("L"), dtype=np.float64)
    p = np.pad(g, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return np.hypot(gx, gy)


def edge_correlation(photo: Image.Image, result: Image.Image, side: int = 256) -> float:
    """Pearson correlation of the two images' edge magnitudes, both fitted to `side` px on the long side (the
    photo's size sets the shape): near 1 when the painting's edges sit where the photo's do, near 0 when the
    photo's shapes are gone. Measured at a small size so that a style's own fine texture counts less than
    where the outlines are."""
    scale = side / max(photo.size)
    size = (max(8, round(photo.width * scale)), max(8, round(photo.height * scale)))
    a = edge_magnitude(photo.resize(size, Image.LANCZOS)).ravel()
    b = edge_magnitude(result.resize(size, Image.LANCZOS)).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / max(np.sqrt((a @ a) * (b @ b)), 1e-12))
