"""Gatys et al. neural style transfer: L-BFGS on the pixels.

Two things make it converge in fewer evaluations than plain pixel L-BFGS on the same objective:
- the image is optimised as a pyramid (x = p0 + s*up(p1) + s^2*up(p2) + ...), a multi-scale preconditioner;
- above 2x `min_level_side` it runs coarse to fine (e.g. 256 px, then 512 px), so the large-scale structure is
  settled cheaply before the full-size level. At 256 px this does not pay (bench/README.md), so it is off there.
Each objective evaluation reports progress and checks for cancellation.
"""
from __future__ import annotations

import math
from collections.abc import Callable, MutableMapping
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from deployments.nst import colour
from deployments.nst.losses import content_loss, gram, style_loss, total_variation
from deployments.nst.vgg import VGG19Features

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_CHANNELS = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512, "relu5_1": 512}

ProgressFn = Callable[[int, int, float], None]
LevelFn = Callable[[int, int, tuple[int, int]], None]


class Cancelled(Exception):
    """Raised out of GatysNST.run when should_stop() turned true; the partial result is dropped."""


@dataclass(frozen=True)
class NSTOptions:
    size: int = 384                # long side of the result in px
    steps: int = 300               # budget of objective evaluations over all levels
    strength: float = 1.0          # multiplies the style weight
    keep_colors: bool = False      # transfer luminance only; the photo keeps its colours
    style_scale: float = 1.0       # style image side relative to the content's (equal area at 1.0)
    seed: int = 0                  # seeds the noise start (init="noise")
    init: str = "content"          # "content" or "noise"
    content_weight: float = 0.1    # on the MSE of relu4_2 features
    style_weight: float = 10.0     # on each layer's Gram MSE, divided by channels²
    tv_weight: float = 50.0        # on the mean absolute neighbour difference (image in [0, 1])
    min_level_side: int = 256      # the coarsest level's long side (coarse-to-fine only above 2x this)
    max_levels: int = 3
    coarse_share: float = 0.2      # share of the budget spent below full size
    tolerance: float = 1e-4        # a level stops when 10 evaluations improve the loss by less than this (relative)
    pyramid_levels: int = 4        # optimise a Laplacian-style pyramid of the image: a multi-scale preconditioner
    pyramid_scale: float = 0.5     # weight of each coarser pyramid level relative to the next finer one

    def validate(self) -> None:
        if not 16 <= self.size <= 4096:
            raise ValueError("size must be between 16 and 4096 px")
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if not 0 <= self.strength <= 100:
            raise ValueError("strength must be between 0 and 100")
        if not 0.1 <= self.style_scale <= 4:
            raise ValueError("style_scale must be between 0.1 and 4")
        if self.init not in ("content", "noise"):
            raise ValueError("init must be 'content' or 'noise'")
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


def fit_long_side(hw: tuple[int, int], long_side: int) -> tuple[int, int]:
    h, w = hw
    s = long_side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def resize(img: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """(N, C, H, W) bicubic resize with antialiasing when shrinking."""
    if tuple(img.shape[-2:]) == tuple(hw):
        return img
    return F.interpolate(img, size=hw, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)


class Pyramid:
    """The image as a sum of upsampled levels, x = p0 + s*up(p1) + s^2*up(p2) + ...; L-BFGS optimises the
    levels. The coarse levels aggregate the gradient over many pixels, so low frequencies, which plain pixel
    L-BFGS fixes slowly, converge in far fewer evaluations. Same objective, better conditioning."""

    def __init__(self, image: torch.Tensor, levels: int, scale: float):
        h, w = image.shape[-2:]
        self.hw, self.scale = (h, w), scale
        coarse = [torch.zeros(*image.shape[:-2], max(1, h >> k), max(1, w >> k), device=image.device)
                  for k in range(1, levels)]
        self.params = [p.requires_grad_(True) for p in [image.detach().contiguous().clone()] + coarse]

    def image(self) -> torch.Tensor:
        x = self.params[0]
        for k, p in enumerate(self.params[1:], start=1):
            x = x + self.scale ** k * F.interpolate(p, size=self.hw, mode="bilinear", align_corners=False)
        return x


class GatysNST:
    """Holds the VGG19 features on a device; `run` repaints one content image in the style of another."""

    def __init__(self, vgg_state: dict, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.vgg = VGG19Features(vgg_state, STYLE_LAYERS + (CONTENT_LAYER,)).to(self.device)
        if self.cuda:
            # Fast paths that keep quality: NHWC convs, TF32 matmuls, bf16 activations; Grams stay fp32.
            self.vgg = self.vgg.to(memory_format=torch.channels_last)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            torch.backends.cudnn.benchmark = True

    def _features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        amp = torch.autocast("cuda", dtype=torch.bfloat16) if self.cuda else nullcontext()
        with amp:
            return self.vgg(x)

    @torch.no_grad()
    def style_grams(self, style: torch.Tensor, content_hw: tuple[int, int], options: NSTOptions,
                    content_y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Target Gram matrices of `style` (3, H, W) for a content image of size `content_hw`."""
        sh, sw = style.shape[-2:]
        area = content_hw[0] * content_hw[1] * options.style_scale ** 2
        s = math.sqrt(area / (sh * sw))
        hw = (max(16, round(sh * s)), max(16, round(sw * s)))
        x = resize(style[None].to(self.device, torch.float32), hw)
        if options.keep_colors:
            assert content_y is not None
            x = colour.match_luminance(colour.luminance(x), content_y)
        feats = self._features(x)
        return {layer: gram(feats[layer]) for layer in STYLE_LAYERS}

    def objective(self, x: torch.Tensor, content_target: torch.Tensor, grams: dict[str, torch.Tensor],
                  options: NSTOptions) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self._features(x)
        c = options.content_weight * content_loss(feats[CONTENT_LAYER], content_target)
        weights = options.style_layer_weights()
        s = sum(weights[layer] * style_loss(feats[layer], grams[layer]) for layer in STYLE_LAYERS)
        tv = options.tv_weight * total_variation(x.float())
        return c + s + tv, {"content": c, "style": s, "tv": tv}

    def run(self, content: torch.Tensor, style: torch.Tensor, options: NSTOptions = NSTOptions(), *,
            progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
            style_cache: MutableMapping | None = None, style_key: str | None = None,
            on_level: LevelFn | None = None) -> NSTResult:
        """Repaint `content` (3, H, W in [0, 1]) in the style of `style` (3, H, W in [0, 1]).

        `progress(step, total, loss)` is called after every evaluation; `should_stop()` is checked before each
        one and raises Cancelled. `on_level(level, levels, (h, w))` is called as each level starts. With `style_cache` and `style_key` (e.g. a hash of the style file), the style
        Grams per level are reused across calls.
        """
        options.validate()
        full_hw = fit_long_side(tuple(content.shape[-2:]), options.size)
        sizes = level_sizes(options.size, options.min_level_side, options.max_levels)
        budgets = level_budgets(options.steps, len(sizes), options.coarse_share)
        content = content[None].to(self.device, torch.float32)
        gen = torch.Generator().manual_seed(options.seed)

        x = None
        step, loss_value, parts = 0, float("nan"), {}
        for level, (long_side, budget) in enumerate(zip(sizes, budgets)):
            hw = fit_long_side(full_hw, long_side) if level < len(sizes) - 1 else full_hw
            if on_level is not None:
                on_level(level, len(sizes), hw)
            c_img = resize(content, hw)
            c_chroma = colour.rgb_to_yiq(c_img) if options.keep_colors else None
            target_img = c_chroma[:, :1] if options.keep_colors else c_img
            with torch.no_grad():
                content_target = self._features(target_img)[CONTENT_LAYER].detach()
            key = None if style_key is None else (style_key, hw, options.keep_colors, options.style_scale)
            grams = style_cache.get(key) if style_cache is not None and key is not None else None
            if grams is None:
                grams = self.style_grams(style, hw, options, target_img if options.keep_colors else None)
                if style_cache is not None and key is not None:
                    style_cache[key] = grams
            if x is None:
                x = target_img.clone() if options.init == "content" else \
                    torch.rand(target_img.shape, generator=gen).to(self.device)
            else:
                x = resize(x.detach(), hw)
            pyramid = Pyramid(x, options.pyramid_levels, options.pyramid_scale)
            opt = torch.optim.LBFGS(pyramid.params, lr=1.0, max_iter=1, history_size=100)
            history: list[float] = []
            level_parts: dict[str, torch.Tensor] = {}

            def closure():
                nonlocal level_parts
                if should_stop is not None and should_stop():
                    raise Cancelled()
                opt.zero_grad(set_to_none=True)
                loss, level_parts = self.objective(pyramid.image(), content_target, grams, options)
                loss.backward()
                return loss

            used = 0
            while used < budget:
                loss = opt.step(closure)
                used += 1
                step += 1
                loss_value = float(loss.detach())
                history.append(loss_value)
                if progress is not None:
                    progress(step, options.steps, loss_value)
                if not math.isfinite(loss_value):
                    raise FloatingPointError("the objective diverged")
                if len(history) > 10 and history[-11] - loss_value < options.tolerance * abs(loss_value):
                    break
            with torch.no_grad():
                x = pyramid.image()
            parts = {k: float(v.detach()) for k, v in level_parts.items()}

        with torch.no_grad():
            out = x.detach()
            if options.keep_colors:
                yiq = colour.rgb_to_yiq(resize(content, full_hw))
                out = colour.yiq_to_rgb(torch.cat([out, yiq[:, 1:]], dim=1))
            image = out.clamp(0, 1)[0].float().cpu()
        return NSTResult(image=image, steps=step, loss=loss_value, parts=parts)
