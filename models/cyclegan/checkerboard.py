"""How much of an upsampler's checkerboard an image carries: a number for benchmarks and tests."""
from __future__ import annotations

import numpy as np
from PIL import Image


def checkerboard_peak(img: Image.Image) -> float:
    """Spectral energy on the frequencies a stride-2 / stride-4 upsampler's checkerboard lives on (periods 2 and
    4 pixels: bins N/2, N/4, 3N/4 on either axis), over the energy of the neighbouring bins. About 1 for a
    photo; well above 1 when the pattern is visible."""
    g = np.asarray(img.convert("L"), dtype=np.float64)
    h, w = (s - s % 4 for s in g.shape)
    power = np.abs(np.fft.fft2(g[:h, :w] - g[:h, :w].mean())) ** 2
    peak, around = [], []
    for n, axis in ((h, 0), (w, 1)):
        for k in (n // 4, n // 2, 3 * n // 4):
            line = power.take(k, axis=axis)
            peak.append(line.mean())
            around += [power.take(k + o, axis=axis).mean() for o in (-3, -2, 2, 3) if 0 < k + o < n]
    return float(np.mean(peak) / max(np.mean(around), 1e-12))
