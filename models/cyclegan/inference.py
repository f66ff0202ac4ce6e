"""Image-in, image-out inference for a generator: any size (reflect-pad to a multiple of 4, crop back), batches
of same-size images, bf16 autocast and channels_last on CUDA."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from models.device import CudaFastPath

MULTIPLE = 4  # two stride-2 downsamplings


def pad_to_multiple(x: torch.Tensor, multiple: int = MULTIPLE) -> tuple[torch.Tensor, tuple[int, int]]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
    return x, (h, w)


class GeneratorRunner:
    """Runs a ResnetGenerator on RGB tensors in [0, 1]; owns the device and precision choices.

    Subclasses run other image-to-image networks the same way: `signed` says whether the network works on
    [-1, 1] (CycleGAN) or [0, 1], and `_forward` how it is called."""

    signed = True

    def __init__(self, net: torch.nn.Module, device: str | torch.device = "cpu", half: bool | None = None):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.half = self.cuda if half is None else half
        self.fast = CudaFastPath(self.device, tf32=False)
        self.net = self.fast.module(net.to(self.device).eval())

    def _forward(self, x: torch.Tensor, styles: list[int] | None) -> torch.Tensor:
        if styles is not None:
            raise ValueError("this generator paints one style; it takes no style index")
        return self.net(x)

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor, styles: list[int] | None = None) -> torch.Tensor:
        """(N, 3, H, W) or (3, H, W) in [0, 1] -> same shape in [0, 1], float32 on the CPU. `styles`: one style per
        image, for a network that paints several (an index, or what the subclass's `_forward` takes)."""
        single = images.dim() == 3
        x = images[None] if single else images
        x = x.to(self.device, torch.float32)
        x = x * 2 - 1 if self.signed else x
        x, (h, w) = pad_to_multiple(x)
        with self.fast.maths(), self.fast.autocast(self.half):
            y = self._forward(self.fast.tensor(x), styles)
        y = y[..., :h, :w].float()
        y = ((y + 1) / 2 if self.signed else y).clamp(0, 1).cpu()
        return y[0] if single else y

    def run_many(self, images: list[torch.Tensor], styles: list[int] | None = None) -> list[torch.Tensor]:
        """Stylise a list of (3, H, W) images, batching those that share a size (whatever their styles)."""
        out: list[torch.Tensor | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            by_size.setdefault(tuple(img.shape[-2:]), []).append(i)
        for idxs in by_size.values():
            ys = self(torch.stack([images[i] for i in idxs]), None if styles is None else [styles[i] for i in idxs])
            for i, y in zip(idxs, ys):
                out[i] = y
        return out  # type: ignore[return-value]

    def for_style(self, style: int | None) -> Callable[[torch.Tensor], torch.Tensor]:
        """image -> image in one of the network's styles (or its only one: None)."""
        if style is None:
            return self
        return lambda images: self(images, [style] * (1 if images.dim() == 3 else len(images)))
