"""Image-in, image-out inference for a generator: any size (reflect-pad to a multiple of 4, crop back), batches
of same-size images, bf16 autocast and channels_last on CUDA."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.cyclegan.network import ResnetGenerator
from models.device import CudaFastPath

MULTIPLE = 4  # two stride-2 downsamplings


def pad_to_multiple(x: torch.Tensor, multiple: int = MULTIPLE) -> tuple[torch.Tensor, tuple[int, int]]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
    return x, (h, w)


class GeneratorRunner:
    """Runs a ResnetGenerator on RGB tensors in [0, 1]; owns the device and precision choices."""

    def __init__(self, net: ResnetGenerator, device: str | torch.device = "cpu", half: bool | None = None):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.half = self.cuda if half is None else half
        self.fast = CudaFastPath(self.device, tf32=False)
        self.net = self.fast.module(net.to(self.device).eval())

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) or (3, H, W) in [0, 1] -> same shape in [0, 1], float32 on the CPU."""
        single = images.dim() == 3
        x = images[None] if single else images
        x = x.to(self.device, torch.float32) * 2 - 1
        x, (h, w) = pad_to_multiple(x)
        with self.fast.maths(), self.fast.autocast(self.half):
            y = self.net(self.fast.tensor(x))
        y = ((y[..., :h, :w].float() + 1) / 2).clamp(0, 1).cpu()
        return y[0] if single else y

    def run_many(self, images: list[torch.Tensor]) -> list[torch.Tensor]:
        """Stylise a list of (3, H, W) images, batching those that share a size."""
        out: list[torch.Tensor | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            by_size.setdefault(tuple(img.shape[-2:]), []).append(i)
        for idxs in by_size.values():
            ys = self(torch.stack([images[i] for i in idxs]))
            for i, y in zip(idxs, ys):
                out[i] = y
        return out  # type: ignore[return-value]
