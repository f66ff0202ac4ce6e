"""The photo-app controls on a preset's output: strength (blend with the photo) and keep the photo's colours."""
from __future__ import annotations

from collections.abc import Callable

import torch

from models.colour import with_colours_of


def finish(photo: torch.Tensor, painted: torch.Tensor, strength: float = 1.0, keep_colors: bool = False) -> torch.Tensor:
    """(3, H, W) in [0, 1] each. Colours first, so that strength 50% with kept colours is half of the painting's
    texture over the photo, not half of its palette."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, not {strength}")
    if keep_colors:
        painted = with_colours_of(painted, photo)
    if strength < 1.0:
        painted = torch.lerp(photo, painted, strength)
    return painted.clamp(0, 1)


def finished(paint: Callable[[torch.Tensor], torch.Tensor], strength: float = 1.0,
             keep_colors: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """`paint` followed by `finish`: both work pixel by pixel, so a tiled painting may finish each tile."""
    return lambda photo: finish(photo, paint(photo), strength, keep_colors)
