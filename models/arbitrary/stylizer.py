"""Image-in, image-out fast arbitrary style: style vector from a style image, then one transformer pass."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from models.cyclegan.inference import GeneratorRunner
from models.onnxgraph.module import OnnxModule
from models.onnxgraph.proto import read_graph

STYLE_SIDE = 256  # the style predictor sees a centre square of the style image at this size, as it was trained


PHASE_SHIFT = 2  # px: half the period of the checks that the transformer's two stride-2 convolutions leave


class TransformerRunner(GeneratorRunner):
    """The transformer network under the generator runner's padding, same-size batching and device choices,
    with a style vector per image in place of a style index.

    `phase_average`: paint the image twice, the second time moved by PHASE_SHIFT px, and average. The network's
    stride-2 encoder leaves a faint 4 px grid tied to the pixel grid; moved by half its period, the grid comes
    back inverted and the two cancel (measured in bench/README.md: checkerboard peak 3.0 -> 1.0), at twice
    the cost."""
    signed = False  # [0, 1] in, a sigmoid out

    def __init__(self, net: torch.nn.Module, device: str | torch.device = "cpu", half: bool | None = None,
                 phase_average: bool = False):
        super().__init__(net, device, half)
        self.phase_average = phase_average

    def _paint(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self.net(x.permute(0, 2, 3, 1).contiguous(), v).permute(0, 3, 1, 2)  # the ONNX graph is NHWC

    def _forward(self, x: torch.Tensor, vectors: list[torch.Tensor]) -> torch.Tensor:
        v = torch.stack(vectors).reshape(len(vectors), 1, 1, -1).to(x.device, torch.float32)
        y = self._paint(x, v)
        if not self.phase_average:
            return y
        s = PHASE_SHIFT
        mode = "reflect" if min(x.shape[-2:]) > s else "replicate"
        moved = self._paint(F.pad(x, (s, s, s, s), mode=mode), v)[..., s:-s, s:-s]
        return (y + moved) / 2


class ArbitraryStylizer:
    """`style_vector(style)` then `paint(photo, vector, strength)`; images are (3, H, W) floats in [0, 1]."""

    def __init__(self, predictor: OnnxModule, transformer: OnnxModule, device: str | torch.device = "cpu",
                 phase_average: bool = False):
        self.device = torch.device(device)
        self.predictor = predictor.to(self.device).eval()
        self.transformer = TransformerRunner(transformer, self.device, phase_average=phase_average)

    @torch.inference_mode()
    def style_vector(self, image: torch.Tensor) -> torch.Tensor:
        """The 100-d style vector of an image (its centre square, resized to STYLE_SIDE)."""
        _, h, w = image.shape
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = image[:, top:top + side, left:left + side].unsqueeze(0).to(self.device, torch.float32)
        square = F.interpolate(square, size=(STYLE_SIDE, STYLE_SIDE), mode="bilinear", antialias=True,
                               align_corners=False).clamp(0, 1)
        return self.predictor(square.permute(0, 2, 3, 1)).reshape(-1)

    @torch.inference_mode()
    def paint(self, photo: torch.Tensor, vector: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """The photo painted with a style vector. `strength` < 1 moves the vector toward the photo's own style
        vector, as Magenta does (less of the style's texture and palette, never a washed-out blend)."""
        return self.paint_many([photo], [vector], [strength])[0]

    @torch.inference_mode()
    def paint_many(self, photos: list[torch.Tensor], vectors: list[torch.Tensor],
                   strengths: list[float]) -> list[torch.Tensor]:
        """Several photos, one vector and strength each; photos of the same size run as one batch."""
        mixed = [self.mixed_vector(v, photo, s) for photo, v, s in zip(photos, vectors, strengths)]
        return self.transformer.run_many(photos, mixed)

    @torch.inference_mode()
    def mixed_vector(self, vector: torch.Tensor, photo: torch.Tensor | Callable[[], torch.Tensor],
                     strength: float) -> torch.Tensor:
        """`vector` moved toward the photo's own style vector by 1 - strength (a thumbnail of the photo will do:
        the predictor sees 256 px; `photo` may be a function that makes it, called only when needed)."""
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be between 0 and 1, not {strength}")
        vector = vector.to(self.device, torch.float32).reshape(-1)
        if strength < 1.0:
            photo = photo() if callable(photo) else photo
            vector = strength * vector + (1.0 - strength) * self.style_vector(photo)
        return vector


def load_transformer(transformer_onnx: bytes, fake_quant: bool = False, clean: bool = True) -> OnnxModule:
    """The transformer network. `clean`: its upsamplings bilinear instead of nearest (the 2 px checks go)."""
    return OnnxModule(read_graph(transformer_onnx), fake_quant, upsample="bilinear" if clean else "nearest")


def load_arbitrary(predictor_onnx: bytes, transformer_onnx: bytes, device: str | torch.device = "cpu",
                   fake_quant: bool = False, clean: bool = False) -> ArbitraryStylizer:
    """The stylizer from the two ONNX files. Activations run in float by default: measured 2.7x faster than
    running the files' activation quantization as written, with the same distance to onnxruntime's output
    (bench/fast_style.py); `fake_quant=True` runs them as written. `clean=True` paints without the network's
    checks (bilinear upsampling and phase averaging, see TransformerRunner): what stylebot serves; the default
    is the network as written, for comparing with onnxruntime."""
    return ArbitraryStylizer(OnnxModule(read_graph(predictor_onnx), fake_quant),
                             load_transformer(transformer_onnx, fake_quant, clean), device, phase_average=clean)
