"""The image as a multi-scale pyramid: the variable the NST optimiser works on."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class Pyramid:
    """The image as a sum of upsampled levels, x = p0 + s*up(p1) + s^2*up(p2) + ...; L-BFGS optimises the
    levels. The coarse levels aggregate the gradient over many pixels, so low frequencies, which plain pixel
    L-BFGS fixes slowly, converge in far fewer evaluations. Same objective, better conditioning. The levels
    live in one flat tensor, the optimiser's variable."""

    def __init__(self, image: torch.Tensor, levels: int, scale: float):
        h, w = image.shape[-2:]
        self.hw, self.scale = (h, w), scale
        lead = tuple(image.shape[:-2])
        self.shapes = [tuple(image.shape)] + [lead + (max(1, h >> k), max(1, w >> k)) for k in range(1, levels)]
        sizes = [math.prod(shape) for shape in self.shapes]
        self.flat = torch.zeros(sum(sizes), device=image.device)
        self.flat[:sizes[0]] = image.detach().reshape(-1)
        self.flat.requires_grad_(True)

    def image(self, flat: torch.Tensor | None = None) -> torch.Tensor:
        flat = self.flat if flat is None else flat
        offset, x = 0, None
        for k, shape in enumerate(self.shapes):
            n = math.prod(shape)
            p = flat[offset:offset + n].view(shape)
            offset += n
            x = p if x is None else x + self.scale ** k * F.interpolate(p, size=self.hw, mode="bilinear",
                                                                        align_corners=False)
        return x
