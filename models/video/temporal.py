"""Holding still what is still: each painted frame is blended with the one before it where the source frame
hardly changed, so that the network's amplified sensor and codec noise does not shimmer across a wall or a sky,
while anything that moves is painted afresh (no trails).

A recursive filter with a per-pixel weight: `out = w * painted + (1 - w) * previous_out`, w = 1 - HOLD where the
source is still, rising to 1 as the source change (averaged over a window: a codec's scattered one-block jumps
are not motion) reaches MOVING grey levels, and 1 within REACH px of anything moving (the network's view spans its
neighbours, so they change too). The motion map is worked out at a quarter of the frame's size and smoothed:
cheap at 720p, and no hard seam at the edge of a moving thing.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

HOLD = 0.7        # how much of the previous painted frame a perfectly still pixel keeps
STILL = 2.0       # grey levels of source change (window mean) below which a pixel is still
MOVING = 8.0      # grey levels of source change from which a pixel is painted afresh
REACH = 24        # px: a pixel this near a moving one is repainted too
SCALE = 4         # the motion map's pixels are SCALE x SCALE frame pixels


def _odd(n: int) -> int:
    return max(1, n // 2 * 2 + 1)


class TemporalBlend:
    """Feed frames in order: `blend(source, painted)` -> the frame to show. One per clip."""

    def __init__(self, hold: float = HOLD):
        if not 0.0 <= hold < 1.0:
            raise ValueError(f"hold must be in [0, 1), not {hold}")
        self.hold = hold
        self.previous_source: torch.Tensor | None = None
        self.previous_out: torch.Tensor | None = None

    def _fresh_weight(self, source: torch.Tensor) -> torch.Tensor:
        """(1, H, W): how much of the new painting to take, 1 - hold where still, 1 where moving."""
        h, w = source.shape[-2:]
        change = (source - self.previous_source).abs().mean(dim=0)[None, None]
        change = F.avg_pool2d(change, SCALE, stride=SCALE, ceil_mode=True)                  # window means
        change = F.avg_pool2d(change, 3, stride=1, padding=1, count_include_pad=False)
        moving = ((change - STILL) / (MOVING - STILL)).clamp(0, 1)
        reach = _odd(REACH * 2 // SCALE)
        moving = F.max_pool2d(moving, reach, stride=1, padding=reach // 2)
        moving = F.avg_pool2d(moving, 3, stride=1, padding=1, count_include_pad=False)
        moving = F.interpolate(moving, size=(h, w), mode="bilinear", align_corners=False)[0]
        return 1 - self.hold * (1 - moving)

    def blend(self, source: np.ndarray, painted: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 source and painted frames in, the (H, W, 3) uint8 frame to show out."""
        src = torch.from_numpy(source).permute(2, 0, 1).float()
        out = torch.from_numpy(painted).permute(2, 0, 1).float()
        if self.previous_out is not None and self.previous_out.shape == out.shape and self.hold:
            out = torch.lerp(self.previous_out, out, self._fresh_weight(src))
        self.previous_source, self.previous_out = src, out
        return out.round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
