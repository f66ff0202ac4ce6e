"""The CycleGAN ResNet generator, with the module layout (and so the state-dict keys) of the upstream code:
`model.{i}` for the stem, downsampling, `model.{i}.conv_block.{j}` for residual blocks, upsampling and the head.

Three decoders. `transpose` is upstream's (stride-2 transposed convolutions), needed for the official weights;
its uneven kernel overlap paints a checkerboard at periods of 2 and 4 pixels even untrained. `upsample`
(nearest-neighbour x2, then a 3x3 convolution, as in Odena et al. 2016 and pytorch/examples' fast_neural_style)
and `bilinear` (bilinear x2, then the convolution) do not untrained; trained, a nearest-neighbour decoder can
still learn a grid (the mosaic preset trained 727 CPU steps with it: checkerboard peak 11.9 on held-out
photos; the same run with `bilinear`: 1.5), so the project's presets use `bilinear`. Each is one `model.{i}`
module like the transposed convolution it replaces, so the other keys keep their numbers.
"""
from __future__ import annotations

from torch import nn


def _norm(channels: int, affine: bool) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=affine, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, affine: bool):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), _norm(dim, affine), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), _norm(dim, affine),
        )

    def forward(self, x):
        return x + self.conv_block(x)


def _upsample_conv(in_ch: int, out_ch: int, mode: str = "nearest") -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode=mode), nn.ReflectionPad2d(1), nn.Conv2d(in_ch, out_ch, 3))


def _bilinear_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    return _upsample_conv(in_ch, out_ch, "bilinear")


def _transpose_conv(in_ch: int, out_ch: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(in_ch, out_ch, 3, stride=2, padding=1, output_padding=1)


DECODERS = {"transpose": _transpose_conv, "upsample": _upsample_conv, "bilinear": _bilinear_conv}


class ResnetGenerator(nn.Module):
    """RGB in [-1, 1] -> RGB in [-1, 1]; height and width must be multiples of 4 (see inference.pad_to)."""

    def __init__(self, ngf: int = 64, n_blocks: int = 9, affine: bool = False, in_channels: int = 3,
                 out_channels: int = 3, decoder: str = "transpose"):
        super().__init__()
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; known: {', '.join(DECODERS)}")
        self.config = dict(ngf=ngf, n_blocks=n_blocks, affine=affine, decoder=decoder)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), _norm(ngf, affine),
                                   nn.ReLU(True)]
        ch = ngf
        for _ in range(2):
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), _norm(ch * 2, affine), nn.ReLU(True)]
            ch *= 2
        layers += [ResnetBlock(ch, affine) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [DECODERS[decoder](ch, ch // 2), _norm(ch // 2, affine), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)
