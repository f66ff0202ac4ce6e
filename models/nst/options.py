"""What an NST run is asked for and what it gives back: options, result, errors, the coarse-to-fine schedule."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_CHANNELS = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512, "relu5_1": 512}
MIN_SIDE = 16          # relu5_1 comes after four 2x poolings: a shorter side leaves it no pixels
MAX_SEED = 2**31 - 1
# What a caller may ask for (NSTOptions.validate; the styles service's request models show them in its OpenAPI schema)
SIZE_RANGE = (MIN_SIDE, 4096)       # px, the result's long side
MAX_STRENGTH = 100.0
STYLE_SCALE_RANGE = (0.1, 4.0)


class Cancelled(Exception):
    """Raised out of GatysNST.run when should_stop() turned true; the partial result is dropped."""


class StyleNotTransferred(Exception):
    """The optimisation ended without moving the photo toward the style: its style loss fell only `drop`
    times, less than the `required` factor. The result would be the photo, so none is returned."""

    def __init__(self, drop: float, required: float):
        super().__init__(drop, required)
        self.drop, self.required = drop, required

    def __str__(self) -> str:
        return (f"the style loss fell only {self.drop:.1f}x (at least {self.required:g}x is required): "
                "the result would look like the photo")


@dataclass(frozen=True)
class NSTOptions:
    size: int = 384                # long side of the result in px
    steps: int = 300               # budget of objective evaluations over all levels
    strength: float = 1.0          # multiplies the style weight
    keep_colors: bool = False      # transfer luminance only; the photo keeps its colours
    style_scale: float = 1.0       # style image side relative to the content's (equal area at 1.0)
    seed: int = 0                  # seeds the start: the noise (init="noise"), or a light jitter of the photo if not 0
    init: str = "content"          # "content" or "noise"
    content_weight: float = 0.1    # on the MSE of relu4_2 features
    style_weight: float = 10.0     # on each layer's Gram MSE, divided by channels²
    tv_weight: float = 50.0        # on the mean absolute neighbour difference (image in [0, 1])
    min_level_side: int = 256      # the coarsest level's long side (coarse-to-fine only above 2x this)
    max_levels: int = 3
    coarse_share: float = 0.2      # share of the budget spent below full size
    tolerance: float = 1e-4        # a level stops when 10 evaluations improve the loss by less than this (relative)
    min_style_drop: float = 10.0   # the result's style loss must be this many times below the photo's
    history_size: int = 100        # L-BFGS curvature pairs kept
    pyramid_levels: int = 4        # optimise a Laplacian-style pyramid of the image: a multi-scale preconditioner
    pyramid_scale: float = 0.5     # weight of each coarser pyramid level relative to the next finer one

    def validate(self) -> None:
        if not SIZE_RANGE[0] <= self.size <= SIZE_RANGE[1]:
            raise ValueError(f"size must be between {SIZE_RANGE[0]} and {SIZE_RANGE[1]} px")
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if not 0 <= self.strength <= MAX_STRENGTH:
            raise ValueError(f"strength must be between 0 and {MAX_STRENGTH:g}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED}")
        if not STYLE_SCALE_RANGE[0] <= self.style_scale <= STYLE_SCALE_RANGE[1]:
            raise ValueError(f"style_scale must be between {STYLE_SCALE_RANGE[0]:g} and {STYLE_SCALE_RANGE[1]:g}")
        if self.init not in ("content", "noise"):
            raise ValueError("init must be 'content' or 'noise'")
        if not self.min_style_drop >= 0:
            raise ValueError("min_style_drop must be at least 0")
        if not 1 <= self.pyramid_levels <= 8:
            raise ValueError("pyramid_levels must be between 1 and 8")

    def style_layer_weights(self) -> dict[str, float]:
        return {layer: self.strength * self.style_weight / STYLE_CHANNELS[layer] ** 2 for layer in STYLE_LAYERS}


@dataclass
class NSTResult:
    image: torch.Tensor            # (3, H, W) float32 in [0, 1] on the CPU
    steps: int                     # objective evaluations used
    loss: float                    # last objective value at full size
    parts: dict[str, float] = field(default_factory=dict)


def level_sizes(long_side: int, min_side: int, max_levels: int) -> list[int]:
    sizes = [long_side]
    while len(sizes) < max_levels and sizes[0] // 2 >= min_side:
        sizes.insert(0, sizes[0] // 2)
    return sizes


def level_budgets(total: int, levels: int, coarse_share: float) -> list[int]:
    """Evaluations per level: the coarse share split evenly below full size, the rest at full size."""
    if levels == 1:
        return [total]
    coarse = int(round(total * coarse_share))
    per = [coarse // (levels - 1)] * (levels - 1)
    per[-1] += coarse - sum(per)
    return per + [total - coarse]
