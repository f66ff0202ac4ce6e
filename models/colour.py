"""Luminance/chrominance split (YIQ) for colour-preserving style transfer (Gatys et al. 2016), NST and presets."""
from __future__ import annotations

import torch

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.596, -0.274, -0.322],
                            [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(rgb: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) -> (..., 3, H, W) with Y in channel 0."""
    return torch.einsum("ij,...jhw->...ihw", _RGB_TO_YIQ.to(rgb), rgb)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,...jhw->...ihw", _YIQ_TO_RGB.to(yiq), yiq)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) -> (..., 1, H, W)."""
    return rgb_to_yiq(rgb)[..., :1, :, :]


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and spread."""
    s_mean, s_std = style_y.mean(), style_y.std().clamp_min(1e-6)
    return ((style_y - s_mean) / s_std * content_y.std() + content_y.mean()).clamp(0, 1)


def with_colours_of(painted: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """The painting's luminance with the photo's chrominance: the painting in the photo's colours."""
    return yiq_to_rgb(torch.cat([rgb_to_yiq(painted)[..., :1, :, :], rgb_to_yiq(photo)[..., 1:, :, :]], dim=-3))
