"""The multi-style generator, with the parameter names of the ONNX export (`contract.{i}`, `res.{i}.{j}`,
`expand.{i}`, each a bias-free convolution `w` and a conditional instance norm `norm.gamma`/`norm.beta`).

Every conditional instance norm mixes 26 per-style (gamma, beta) pairs with one weight vector per image, so a
batch may carry a different style (or blend of styles) for each image.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.onnxgraph.proto import read_initializers

NUM_STYLES = 26
EPS = 1e-5


class ConditionalInstanceNorm(nn.Module):
    def __init__(self, channels: int, n_styles: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(n_styles, channels))
        self.beta = nn.Parameter(torch.zeros(n_styles, channels))

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        mean = x.mean((2, 3), keepdim=True)
        centred = x - mean
        x = centred / torch.sqrt(centred.pow(2).mean((2, 3), keepdim=True) + EPS)
        return x * (style @ self.gamma)[:, :, None, None] + (style @ self.beta)[:, :, None, None]


class ConvLayer(nn.Module):
    """[nearest x2] -> reflection pad -> conv (no bias) -> conditional instance norm -> activation."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, upsample: bool = False,
                 activation: str = "relu", n_styles: int = NUM_STYLES):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(out_ch, in_ch, kernel, kernel))
        self.norm = ConditionalInstanceNorm(out_ch, n_styles)
        self.stride, self.upsample, self.activation = stride, upsample, activation

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        pad = self.w.shape[-1] // 2
        x = F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"), self.w, stride=self.stride)
        x = self.norm(x, style)
        if self.activation == "relu":
            return F.relu(x)
        if self.activation == "sigmoid":
            return torch.sigmoid(x)
        return x


class MultiStyleNet(nn.Module):
    """RGB in [0, 1] (B, 3, H, W) and style weights (B, 26) -> RGB in [0, 1]. H and W: multiples of 4 keep the
    output the input's size."""

    def __init__(self, n_styles: int = NUM_STYLES):
        super().__init__()
        self.n_styles = n_styles
        self.contract = nn.ModuleList([ConvLayer(3, 32, 9), ConvLayer(32, 32, 3, stride=2),
                                       ConvLayer(32, 32, 3, stride=2)])
        self.res = nn.ModuleList([nn.ModuleList([ConvLayer(32, 32, 3), ConvLayer(32, 32, 3, activation="none")])
                                  for _ in range(6)])
        self.expand = nn.ModuleList([ConvLayer(32, 8, 3, upsample=True), ConvLayer(8, 4, 3, upsample=True),
                                     ConvLayer(4, 3, 9, activation="sigmoid")])

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        for layer in self.contract:
            x = layer(x, style)
        for first, second in self.res:
            x = x + second(first(x, style), style)
        for layer in self.expand:
            x = layer(x, style)
        return x

    def one_hot(self, index: int, batch: int = 1) -> torch.Tensor:
        if not 0 <= index < self.n_styles:
            raise ValueError(f"style index must be 0..{self.n_styles - 1}, not {index}")
        return F.one_hot(torch.full((batch,), index), self.n_styles).float()


def load_multistyle(onnx_bytes: bytes) -> MultiStyleNet:
    """The network with the ONNX file's weights, loaded strictly (every name and shape must match)."""
    state = {k: torch.from_numpy(v) for k, v in read_initializers(onnx_bytes).items()}
    net = MultiStyleNet()
    net.load_state_dict(state, strict=True)
    return net.eval().requires_grad_(False)
