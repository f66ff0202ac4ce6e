"""PIL <-> tensor conversion shared by the engines' callers: RGB images as (3, H, W) float32 in [0, 1]."""
from __future__ import annotations

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor


def to_tensor(img: Image.Image) -> torch.Tensor:
    return pil_to_tensor(img.convert("RGB")).float().div_(255).contiguous()


def to_pil(x: torch.Tensor) -> Image.Image:
    arr = x.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu()
    return Image.frombuffer("RGB", (arr.shape[1], arr.shape[0]), arr.numpy().tobytes(), "raw", "RGB", 0, 1)
