"""Image-in, image-out fast arbitrary style: style vector from a style image, then one transformer pass."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.onnxgraph.module import OnnxModule
from models.onnxgraph.proto import read_graph

STYLE_SIDE = 256  # the style predictor sees a centre square of the style image at this size, as it was trained
_MULTIPLE = 4  # the transformer halves the size twice and doubles it back: sides must divide by 4


def _nhwc(image: torch.Tensor) -> torch.Tensor:
    return image.permute(1, 2, 0).unsqueeze(0)


class ArbitraryStylizer:
    """`style_vector(style)` then `paint(photo, vector, strength)`; images are (3, H, W) floats in [0, 1]."""

    def __init__(self, predictor: OnnxModule, transformer: OnnxModule, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.predictor = predictor.to(self.device).eval()
        self.transformer = transformer.to(self.device).eval()

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
        mixed = []
        for photo, vector, strength in zip(photos, vectors, strengths):
            if not 0.0 <= strength <= 1.0:
                raise ValueError(f"strength must be between 0 and 1, not {strength}")
            vector = vector.to(self.device, torch.float32).reshape(-1)
            if strength < 1.0:
                vector = strength * vector + (1.0 - strength) * self.style_vector(photo)
            mixed.append(vector)
        out: list[torch.Tensor | None] = [None] * len(photos)
        by_size: dict[tuple, list[int]] = {}
        for i, photo in enumerate(photos):
            by_size.setdefault(tuple(photo.shape), []).append(i)
        for (_, h, w), idx in by_size.items():
            ph, pw = -h % _MULTIPLE, -w % _MULTIPLE
            x = torch.stack([photos[i] for i in idx]).to(self.device, torch.float32)
            if ph or pw:
                x = F.pad(x, (0, pw, 0, ph), mode="replicate")
            y = self.transformer(x.permute(0, 2, 3, 1).contiguous(),
                                 torch.stack([mixed[i] for i in idx]).reshape(len(idx), 1, 1, -1))
            y = y.permute(0, 3, 1, 2)[:, :, :h, :w].clamp(0, 1).cpu()
            for j, i in enumerate(idx):
                out[i] = y[j]
        return out


def load_arbitrary(predictor_onnx: bytes, transformer_onnx: bytes, device: str | torch.device = "cpu",
                   fake_quant: bool = False) -> ArbitraryStylizer:
    """The stylizer from the two ONNX files. Activations run in float by default: measured 2.7x faster than
    running the files' activation quantization as written, with the same distance to onnxruntime's output
    (bench/fast_style.py); `fake_quant=True` runs them as written."""
    return ArbitraryStylizer(OnnxModule(read_graph(predictor_onnx), fake_quant),
                             OnnxModule(read_graph(transformer_onnx), fake_quant), device)
