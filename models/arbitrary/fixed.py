"""Fixed-style presets on the arbitrary network: a style vector computed once (from an artwork or an artist's
collection), stored as a small JSON file through the weights manifest, and painted with the transformer alone.
At serve time no style network runs; every fixed style shares one transformer, and a batch may mix them."""
from __future__ import annotations

import json
import math

import torch

from models.arbitrary.stylizer import TransformerRunner

VECTOR_LENGTH = 100   # the style predictor's bottleneck
# Measured over tests/data/*.jpg and flat, noise and stripe images: every component within -2.9..3.5 (the
# predictor's int8 output layer spans -2.05..3.02; its float activations go a little past that). 10 leaves room
# for any real image and still refuses numbers that would only saturate the transformer.
VECTOR_BOUND = 10.0
FORMAT = "stylebot-style-vector/1"


class StyleVectorError(ValueError):
    pass


def check_vector(values, where: str = "style vector") -> torch.Tensor:
    """A list of VECTOR_LENGTH finite numbers within VECTOR_BOUND as a float32 tensor, or StyleVectorError
    saying what is wrong (the one check for shipped styles, saved styles and vectors sent over HTTP)."""
    if not isinstance(values, (list, tuple)):
        raise StyleVectorError(f"{where} must be a list, not {type(values).__name__}")
    if len(values) != VECTOR_LENGTH:
        raise StyleVectorError(f"{where} has {len(values)} numbers, not {VECTOR_LENGTH}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise StyleVectorError(f"{where} must hold numbers only")
    outside = StyleVectorError(f"{where} holds numbers outside -{VECTOR_BOUND:g}..{VECTOR_BOUND:g}, where no "
                               "image's style vector lies")
    try:
        floats = [float(v) for v in values]
    except OverflowError:  # an integer too big for a float
        raise outside from None
    if not all(math.isfinite(v) for v in floats):
        raise StyleVectorError(f"{where} must hold finite numbers (no NaN or infinity)")
    if max(abs(v) for v in floats) > VECTOR_BOUND:
        raise outside
    return torch.tensor(floats, dtype=torch.float32)


def vector_document(vector: torch.Tensor, provenance: dict) -> bytes:
    """The file a fixed style is shipped as: the vector and how it was made (its sha256 goes in the manifest)."""
    values = [float(v) for v in vector.reshape(-1).tolist()]
    check_vector(values)
    doc = {"format": FORMAT, "vector": values, "provenance": provenance}
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def read_vector_document(data: bytes, where: str = "style vector file") -> torch.Tensor:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StyleVectorError(f"{where}: not JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StyleVectorError(f"{where}: not a {FORMAT} document")
    return check_vector(doc.get("vector"), where)


def collection_vector(vectors: torch.Tensor, method: str) -> tuple[torch.Tensor, int | None]:
    """One vector for an artist's collection, (N, 100) -> (100,): "mean" of the paintings' vectors, or
    "medoid" (the painting whose vector is nearest the others in total). Returns the vector and, for the
    medoid, the index of the painting it came from."""
    if method == "mean":
        return vectors.mean(0), None
    if method == "medoid":
        i = int(torch.cdist(vectors, vectors).sum(1).argmin())
        return vectors[i], i
    raise ValueError(f"method must be mean or medoid, not {method!r}")


def extrapolate(vector: torch.Tensor, neutral: torch.Tensor, gain: float) -> torch.Tensor:
    """Move a style vector away from a neutral one (the mean vector of ordinary photos) by `gain`: 1 keeps it,
    above 1 paints more of the style's texture and palette (Magenta's interpolation, continued past the style)."""
    return neutral + gain * (vector - neutral)


class FixedStyleRunner(TransformerRunner):
    """The transformer with named style vectors: `styles` per image are names, not vectors."""

    def __init__(self, transformer: torch.nn.Module, vectors: dict[str, torch.Tensor],
                 device: str | torch.device = "cpu", half: bool | None = None, phase_average: bool = True):
        super().__init__(transformer, device, half, phase_average)
        self.vectors = {name: v.reshape(-1).float() for name, v in vectors.items()}

    def _forward(self, x: torch.Tensor, styles: list[str] | None) -> torch.Tensor:
        if styles is None or len(styles) != len(x):
            raise ValueError("fixed styles need one style name per image")
        unknown = sorted(set(styles) - set(self.vectors))
        if unknown:
            raise ValueError(f"unknown fixed styles {unknown}; known: {sorted(self.vectors)}")
        return super()._forward(x, [self.vectors[s] for s in styles])
