"""PIL <-> tensor conversion and resizing shared by the engines and their callers: RGB images as (3, H, W)
float32 in [0, 1]."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor


def to_tensor(img: Image.Image) -> torch.Tensor:
    return pil_to_tensor(img.convert("RGB")).float().div_(255).contiguous()


def to_pil(x: torch.Tensor) -> Image.Image:
    arr = x.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu()
    return Image.frombuffer("RGB", (arr.shape[1], arr.shape[0]), arr.numpy().tobytes(), "raw", "RGB", 0, 1)


def fit_long_side(hw: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(h, w) scaled so that the longer side is `long_side`, the aspect ratio kept."""
    h, w = hw
    s = long_side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def resize(img: torch.Tensor, hw: tuple[int, int], mode: str = "bicubic") -> torch.Tensor:
    """(N, C, H, W) resized to `hw`, antialiased when shrinking, kept in [0, 1]."""
    if tuple(img.shape[-2:]) == tuple(hw):
        return img
    return F.interpolate(img, size=hw, mode=mode, align_corners=False, antialias=True).clamp(0, 1)


def resize_long_side(img: torch.Tensor, long_side: int, mode: str = "bicubic") -> torch.Tensor:
    """(3, H, W) resized so that its longer side is `long_side`."""
    return resize(img[None], fit_long_side(tuple(img.shape[-2:]), long_side), mode)[0]


def to_array(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8: how a decoded image crosses a deployment handle (Ray ships it through the object store)."""
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def from_array(arr: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [0, 1]. Copies: arrays from the object store are read-only."""
    return torch.from_numpy(np.array(arr, dtype=np.uint8, copy=True)).permute(2, 0, 1).float().div_(255).contiguous()
