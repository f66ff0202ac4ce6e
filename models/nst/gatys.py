"""Gatys et al. neural style transfer: L-BFGS on the pixels.

Two things make it converge in fewer evaluations than plain pixel L-BFGS on the same objective:
- the image is optimised as a pyramid (x = p0 + s*up(p1) + s^2*up(p2) + ...), a multi-scale preconditioner;
- above 2x `min_level_side` it runs coarse to fine (e.g. 256 px, then 512 px), so the large-scale structure is
  settled cheaply before the full-size level. At 256 px this does not pay (bench/README.md), so it is off there.
Each step must lower the objective before it is taken (GuardedLBFGS: a step that overshoots is shortened,
never kept), and a level may stop early only once the style loss has fallen `min_style_drop` times. The
result is checked before it is returned: a style loss that did not fall that far raises StyleNotTransferred
instead of handing back what would look like the photo. Each objective evaluation reports progress and checks
for cancellation.

`GatysNST.step` advances several runs (NSTRun) by one evaluation each, runs of one size in one VGG pass with
per-run targets, weights and losses: concurrent jobs share the network's pass on a GPU.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, MutableMapping

import torch

from models.device import CudaFastPath
from models import colour
from models.nst.losses import content_loss, gram, style_loss, total_variation
from models.nst.options import CONTENT_LAYER, STYLE_LAYERS, Cancelled, NSTOptions, NSTResult
from models.nst.run import LevelFn, NSTRun, ProgressFn
from models.nst.vgg import VGG19Features
from models.tensors import resize


class GatysNST:
    """Holds the VGG19 features on a device; `run` repaints one content image in the style of another."""

    def __init__(self, vgg_state: dict, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        # Fast paths that keep quality on a GPU: NHWC convs, TF32 maths, bf16 activations; Grams stay fp32.
        self.fast = CudaFastPath(self.device)
        self.vgg = self.fast.module(VGG19Features(vgg_state, STYLE_LAYERS + (CONTENT_LAYER,)).to(self.device))

    def _features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        with self.fast.maths(), self.fast.autocast():
            return self.vgg(self.fast.tensor(x))

    @torch.no_grad()
    def content_features(self, image: torch.Tensor) -> torch.Tensor:
        return self._features(image)[CONTENT_LAYER].detach()

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

    @torch.no_grad()
    def style_loss_of(self, image: torch.Tensor, content_target: torch.Tensor, grams: dict[str, torch.Tensor],
                      options: NSTOptions) -> float:
        return float(self.objective(image, content_target, grams, options)[1]["style"])

    # -- optimisation --------------------------------------------------------------------------------------
    def start(self, content: torch.Tensor, style: torch.Tensor, options: NSTOptions = NSTOptions(), *,
              progress: ProgressFn | None = None, style_cache: MutableMapping | None = None,
              style_key: str | None = None, on_level: LevelFn | None = None,
              time_limit_s: float | None = None) -> NSTRun:
        """A run of `content` (3, H, W in [0, 1]) in the style of `style`, to be advanced with `step`."""
        return NSTRun(self, content, style, options, progress=progress, style_cache=style_cache,
                      style_key=style_key, on_level=on_level, time_limit_s=time_limit_s)

    def step(self, runs: list[NSTRun]) -> None:
        """One objective evaluation for each unfinished run: runs of one size share one VGG pass."""
        buckets: dict[tuple[int, int], list[NSTRun]] = defaultdict(list)
        for r in runs:
            if not r.done:
                buckets[r.hw].append(r)
        for bucket in buckets.values():
            self._evaluate(bucket)

    def _evaluate(self, runs: list[NSTRun]) -> None:
        """Per-run objective, as `objective` computes it for one image, for a batch of equally sized runs."""
        images = [r.image_to_evaluate() for r in runs]
        feats = self._features(torch.cat([x.expand(-1, 3, -1, -1) for x in images]))
        losses, parts = [], []
        for i, (r, x) in enumerate(zip(runs, images)):
            o = r.options
            c = o.content_weight * content_loss(feats[CONTENT_LAYER][i:i + 1], r.content_target)
            weights = o.style_layer_weights()
            s = sum(weights[layer] * style_loss(feats[layer][i:i + 1], r.grams[layer]) for layer in STYLE_LAYERS)
            tv = o.tv_weight * total_variation(x.float())
            losses.append(c + s + tv)
            parts.append({"content": c, "style": s, "tv": tv})
        with self.fast.maths():
            torch.stack(losses).sum().backward()  # runs are independent: each run's gradient is its own loss's
        values = torch.stack([torch.stack([loss, p["content"], p["style"], p["tv"]])
                              for loss, p in zip(losses, parts)]).detach().cpu().tolist()  # one host sync
        for r, (loss, c, s, tv) in zip(runs, values):
            r.feed(loss, {"content": c, "style": s, "tv": tv})

    def run(self, content: torch.Tensor, style: torch.Tensor, options: NSTOptions = NSTOptions(), *,
            progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
            style_cache: MutableMapping | None = None, style_key: str | None = None,
            on_level: LevelFn | None = None, time_limit_s: float | None = None) -> NSTResult:
        """Repaint `content` (3, H, W in [0, 1]) in the style of `style` (3, H, W in [0, 1]).

        `progress(step, total, loss)` is called after every evaluation; `should_stop()` is checked before each
        one and raises Cancelled. `on_level(level, levels, (h, w))` is called as each level starts. With
        `style_cache` and `style_key` (e.g. a hash of the style file), the style Grams per level are reused across
        calls. `time_limit_s` ends the optimisation early, like a spent budget (the result is still checked).
        Raises StyleNotTransferred when the result's style loss is not `min_style_drop` times below the photo's.
        """
        run = self.start(content, style, options, progress=progress, style_cache=style_cache, style_key=style_key,
                         on_level=on_level, time_limit_s=time_limit_s)
        while not run.done:
            if should_stop is not None and should_stop():
                raise Cancelled()
            self._evaluate([run])
        return run.result()
