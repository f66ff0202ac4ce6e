"""Flicker, measured as the field does for video style transfer: how much a painted frame changes from the one
before it where the source hardly changed (there, any change in the painting is the painter's own).

"Hardly changed" is judged over a neighbourhood, not pixel by pixel: a convolutional painter's output at a pixel
depends on what it sees around it, so the pixels next to a moving hand legitimately change. `reach=1` gives the
strict per-pixel mask (bench/video.py reports both).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

STILL = 3.0   # grey levels (of 255), averaged over a 9 px window: less counts as still (codec and sensor noise)
REACH = 41    # px: a pixel this near a moving one is not counted as still
WINDOW = 9


def _grey(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame).float().mean(dim=2)


def still_masks(source: Sequence[np.ndarray], still: float = STILL, reach: int = REACH) -> list[np.ndarray]:
    """For each pair of consecutive source frames, (H, W) bool: where they hardly differ, within `reach` px."""
    masks = []
    for a, b in zip(source, source[1:]):
        change = (_grey(b) - _grey(a)).abs()[None, None]
        if reach > 1:
            change = F.avg_pool2d(change, WINDOW, stride=1, padding=WINDOW // 2, count_include_pad=False)
            change = F.max_pool2d(change, reach, stride=1, padding=reach // 2)
        masks.append((change[0, 0] < still).numpy())
    return masks


def flicker(frames: Sequence[np.ndarray], masks: list[np.ndarray]) -> float:
    """Mean absolute change (grey levels, all channels) between consecutive `frames` over the pixels `masks`
    marks as still; 0.0 when nothing is still."""
    total, count = 0.0, 0
    for a, b, mask in zip(frames, frames[1:], masks):
        if mask.shape != a.shape[:2]:
            raise ValueError("the painted frames and the source frames differ in size")
        change = np.abs(b.astype(np.float32) - a.astype(np.float32)).mean(axis=2)
        total += float(change[mask].sum())
        count += int(mask.sum())
    return total / count if count else 0.0


def flicker_report(source: Sequence[np.ndarray], painted: dict[str, Sequence[np.ndarray]],
                   reach: int = REACH) -> dict[str, float]:
    """Each painting's flicker and the source's own, over the same still pixels."""
    masks = still_masks(source, reach=reach)
    return {"source": flicker(source, masks), **{name: flicker(frames, masks) for name, frames in painted.items()}}
