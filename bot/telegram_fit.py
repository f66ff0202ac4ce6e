"""A result made to fit what Telegram takes: a photo at most 10 MB with width + height at most 10000, a document
at most 50 MB. A picture that fits goes as it is; one that does not is re-encoded as a JPEG at the highest quality
that fits, and only when even that cannot fit is it shrunk (the caption then says so). CPU work: run it in a
thread."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image

from models.images import encode_image

PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_SIDES = 10_000               # width + height
DOCUMENT_BYTES = 50 * 1024 * 1024
QUALITIES = (95, 92, 90, 85, 80, 75)   # tried from the top: the first that fits
SHRINK_MARGIN = 0.9                # each shrink aims this far under the byte limit


@dataclass(frozen=True)
class Fitted:
    data: bytes
    ext: str                       # "jpg" or "png"
    size: tuple[int, int]          # (width, height) sent
    shrunk_from: tuple[int, int] | None = None   # the painting's size, when what is sent is smaller


def fit_photo(data: bytes) -> Fitted:
    return fit(data, PHOTO_BYTES, PHOTO_SIDES)


def fit_document(data: bytes) -> Fitted:
    return fit(data, DOCUMENT_BYTES, None)


def fit(data: bytes, max_bytes: int, max_sides: int | None) -> Fitted:
    """`data` (a JPEG or PNG) as it is when it fits, else the best JPEG that does."""
    with Image.open(io.BytesIO(data)) as probe:
        size, fmt = probe.size, probe.format
    if len(data) <= max_bytes and (max_sides is None or sum(size) <= max_sides):
        return Fitted(data, "png" if fmt == "PNG" else "jpg", size)
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if max_sides is not None and sum(size) > max_sides:
        image = _scaled(image, max_sides / sum(size))
    while True:
        for quality in QUALITIES:
            encoded = encode_image(image, "JPEG", quality=quality)
            if len(encoded) <= max_bytes:
                return Fitted(encoded, "jpg", image.size, None if image.size == size else size)
        image = _scaled(image, math.sqrt(max_bytes / len(encoded)) * SHRINK_MARGIN)


def _scaled(image: Image.Image, factor: float) -> Image.Image:
    w, h = image.size
    return image.resize((max(1, math.floor(w * factor)), max(1, math.floor(h * factor))), Image.LANCZOS)
