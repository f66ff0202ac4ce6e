"""A seam measure that needs only the painting and where its tile borders are: the mean absolute step between
neighbouring columns (rows), averaged down the whole image, at each border compared with the steps at the same
phase of the networks' 4 px period nearby. A border no one can see scores about 1 (as any column does); a tile
painted with other colours or contrast than its neighbour adds its step all along the border and scores higher."""
from __future__ import annotations

import numpy as np

PERIOD = 4       # the stride-2 x 2 networks paint a faint 4 px grid: compare a border with columns of its phase
NEIGHBOURS = 8   # same-phase steps each side that make the reference (32 px either way)
STRIP = 256      # rows (columns) read at a time, so a 48 MP painting is measured in bounded memory


def step_profiles(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 -> (mean |step| between rows i and i+1, for i < H-1; the same between columns), on 0..255,
    read in strips of STRIP rows."""
    h, w = img.shape[:2]
    rows, cols = np.zeros(h - 1), np.zeros(w - 1)
    for a in range(0, h, STRIP):
        strip = img[a:min(h, a + STRIP + 1)].astype(np.int16)
        cols += np.abs(np.diff(strip[:STRIP], axis=1)).sum(axis=(0, 2))
        rows[a:a + len(strip) - 1] = np.abs(np.diff(strip, axis=0)).mean(axis=(1, 2))
    return rows, cols / (3 * h)


def _ratios(profile: np.ndarray, cuts: list[int]) -> list[float]:
    out = []
    for b in cuts:
        i = b - 1   # the step from the last pixel of one core to the first of the next
        near = [i + k * PERIOD for k in range(-NEIGHBOURS, NEIGHBOURS + 1) if k and 0 <= i + k * PERIOD < len(profile)]
        out.append(float(profile[i] / max(np.median(profile[near]), 1e-6)))
    return out


def seam_ratios(img: np.ndarray, rows: list[int], cols: list[int]) -> tuple[list[float], list[float]]:
    """Each border's step over the median same-phase step within 32 px (rows: horizontal borders, each the
    first row of a lower tile; cols: vertical ones)."""
    row_profile, col_profile = step_profiles(img)
    return _ratios(row_profile, rows), _ratios(col_profile, cols)


def seam_peak(img: np.ndarray, rows: list[int], cols: list[int]) -> float:
    """The largest border ratio of seam_ratios: about 1 when no border shows."""
    r, c = seam_ratios(img, rows, cols)
    return max(r + c, default=1.0)
