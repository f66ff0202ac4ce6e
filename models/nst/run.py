"""One NST optimisation as a state machine advanced one objective evaluation at a time.

Its owner evaluates the objective where the run asks (`image_to_evaluate`) and hands back the value and
gradient (`feed`); the run moves through its coarse-to-fine levels, stops when its budget, its time or its
progress ends, and checks the result. `GatysNST.run` owns one run; `GatysNST.step` advances several at once,
runs of one size in one VGG pass, so concurrent jobs can share a GPU and join or leave between steps.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, MutableMapping
from typing import Protocol

import torch

from models import colour
from models.nst.lbfgs import GuardedLBFGS
from models.nst.options import MIN_SIDE, NSTOptions, NSTResult, StyleNotTransferred, level_budgets, level_sizes
from models.nst.pyramid import Pyramid
from models.tensors import fit_long_side, resize

START_JITTER = 0.03   # amplitude of the start's jitter for a non-zero seed (init="content")

ProgressFn = Callable[[int, int, float], None]
LevelFn = Callable[[int, int, tuple[int, int]], None]


class FeatureEngine(Protocol):
    """What a run needs of its engine (`GatysNST`): VGG features on its device. A protocol, so that the engine
    imports the run and not the other way round."""
    device: torch.device

    def content_features(self, image: torch.Tensor) -> torch.Tensor: ...

    def style_grams(self, style: torch.Tensor, content_hw: tuple[int, int], options: NSTOptions,
                    content_y: torch.Tensor | None = None) -> dict[str, torch.Tensor]: ...

    def style_loss_of(self, image: torch.Tensor, content_target: torch.Tensor, grams: dict[str, torch.Tensor],
                      options: NSTOptions) -> float: ...


class NSTRun:
    def __init__(self, engine: FeatureEngine, content: torch.Tensor, style: torch.Tensor, options: NSTOptions, *,
                 progress: ProgressFn | None = None, style_cache: MutableMapping | None = None,
                 style_key: str | None = None, on_level: LevelFn | None = None, time_limit_s: float | None = None):
        options.validate()
        self.engine, self.style, self.options = engine, style, options
        self.progress, self.on_level = progress, on_level
        self.style_cache, self.style_key = style_cache, style_key
        self.full_hw = fit_long_side(tuple(content.shape[-2:]), options.size)
        if min(self.full_hw) < MIN_SIDE:
            raise ValueError(f"at {options.size} px this image's short side would be {min(self.full_hw)} px; "
                             f"at least {MIN_SIDE} px are needed: use a larger size or crop the image")
        self.sizes = level_sizes(options.size, options.min_level_side, options.max_levels)
        self.budgets = level_budgets(options.steps, len(self.sizes), options.coarse_share)
        self.content = content[None].to(engine.device, torch.float32)
        self.gen = torch.Generator().manual_seed(options.seed)
        self.deadline = math.inf if time_limit_s is None else time.monotonic() + time_limit_s
        self.step, self.spent, self.level = 0, 0, -1
        self.loss, self.parts = float("nan"), {}
        self.x: torch.Tensor | None = None
        self.done = False
        self._enter(0)

    # -- what the owner uses -------------------------------------------------------------------------------
    @property
    def hw(self) -> tuple[int, int]:
        """The size of the image this run evaluates next: runs of equal size can share one VGG pass."""
        return tuple(self.pyramid.hw)

    def image_to_evaluate(self) -> torch.Tensor:
        """(1, C, H, W) image at the optimiser's next point, attached to the pyramid's variable for backward."""
        with torch.no_grad():
            self.pyramid.flat.copy_(self.opt.point)
        self.pyramid.flat.grad = None
        return self.pyramid.image()

    @property
    def gradient(self) -> torch.Tensor:
        return self.pyramid.flat.grad

    def feed(self, loss: float, parts: dict[str, float]) -> None:
        """The objective at the image last handed out, after backward() filled its gradient."""
        self.step += 1
        if self.photo_style is None:
            if not math.isfinite(loss):
                raise FloatingPointError("the objective is not finite at the start")
            self.photo_style = self.engine.style_loss_of(self.target_img, self.content_target, self.grams,
                                                         self.options)
        accepted = self.opt.accepted
        self.opt.tell(loss, self.gradient)
        if self.opt.accepted > accepted:
            self.loss, self.parts = loss, parts
        self.history.append(self.opt.f)
        if self.progress is not None:
            self.progress(self.step, self.options.steps, self.opt.f)
        self._advance()

    def stop(self) -> None:
        """End the optimisation now, as if its time ran out: the best image so far becomes the result."""
        self.deadline = -math.inf
        self._advance()

    def current_image(self) -> torch.Tensor:
        """(3, H, W) the best image so far at the current level's size, clamped (colours as optimised)."""
        with torch.no_grad():
            return self.pyramid.image(self.opt.x).clamp(0, 1)[0].float().cpu()

    def result(self) -> NSTResult:
        """The finished, checked result; raises StyleNotTransferred when the photo barely moved toward the style."""
        assert self.done, "the run is still going"
        with torch.no_grad():
            out = self.x.clamp(0, 1)
            if self.options.strength > 0:
                before = self.photo_style  # the photo's, at this (the last) level: measured on its first step
                if before is None:             # no step was taken at this level (its budget or time ran out)
                    before = self.engine.style_loss_of(self.target_img, self.content_target, self.grams,
                                                       self.options)
                after = self.engine.style_loss_of(out, self.content_target, self.grams, self.options)
                drop = before / after if after > 0 else math.inf
                if not drop >= self.options.min_style_drop:
                    raise StyleNotTransferred(drop, self.options.min_style_drop)
            if self.options.keep_colors:
                yiq = colour.rgb_to_yiq(resize(self.content, self.full_hw))  # out is the luminance alone here
                out = colour.yiq_to_rgb(torch.cat([out, yiq[:, 1:]], dim=1))
            image = out.clamp(0, 1)[0].float().cpu()
        return NSTResult(image=image, steps=self.step, loss=self.loss, parts=self.parts)

    # -- levels --------------------------------------------------------------------------------------------
    def _enter(self, level: int) -> None:
        self.level = level
        if level == len(self.sizes):
            self.done = True
            return
        options = self.options
        last = level == len(self.sizes) - 1
        hw = self.full_hw if last else fit_long_side(self.full_hw, self.sizes[level])
        if self.on_level is not None:
            self.on_level(level, len(self.sizes), hw)
        c_img = resize(self.content, hw)
        self.target_img = colour.rgb_to_yiq(c_img)[:, :1] if options.keep_colors else c_img
        self.content_target = self.engine.content_features(self.target_img)
        self.grams = self._style_grams(hw)
        self.x = self._start() if self.x is None else resize(self.x.detach(), hw)
        self.pyramid = Pyramid(self.x, options.pyramid_levels, options.pyramid_scale)
        self.opt = GuardedLBFGS(self.pyramid.flat.detach(), history_size=options.history_size)
        self.photo_style: float | None = None
        self.history: list[float] = []
        self._advance()

    def _advance(self) -> None:
        """Leave the level when it is over (budget, time, no step possible, or converged once styled)."""
        if self.done or not self._level_over():
            return
        self.spent += self.budgets[self.level]
        self.x = self.pyramid.image(self.opt.x).detach()
        self._enter(self.level + 1)

    def _level_over(self) -> bool:
        if self.step >= self.spent + self.budgets[self.level] or self.opt.stuck or time.monotonic() >= self.deadline:
            return True
        h, options = self.history, self.options
        styled = self.photo_style is not None and self.parts["style"] * options.min_style_drop <= self.photo_style
        return styled and len(h) > 10 and h[-11] - self.opt.f < options.tolerance * abs(self.opt.f)

    def _style_grams(self, hw: tuple[int, int]) -> dict[str, torch.Tensor]:
        options = self.options
        key = None if self.style_key is None else (self.style_key, hw, options.keep_colors, options.style_scale)
        grams = self.style_cache.get(key) if self.style_cache is not None and key is not None else None
        if grams is None:
            grams = self.engine.style_grams(self.style, hw, options,
                                            self.target_img if options.keep_colors else None)
            if self.style_cache is not None and key is not None:
                self.style_cache[key] = grams
        return grams

    def _start(self) -> torch.Tensor:
        """The photo itself, or with a non-zero seed the photo lightly jittered (a retry is a different run);
        uniform noise with init="noise"."""
        target = self.target_img
        if self.options.init == "noise":
            return torch.rand(target.shape, generator=self.gen).to(target.device)
        if self.options.seed == 0:
            return target.clone()
        jitter = (torch.rand(target.shape, generator=self.gen) - 0.5).to(target.device) * 2 * START_JITTER
        return (target + jitter).clamp(0, 1)
