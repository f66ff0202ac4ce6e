"""Style vectors as callers send them: the 100 numbers Magenta's arbitrary-style predictor makes of a style image
(POST /v1/fast/vector), kept by a client and sent back to /v1/fast as `style_vector` in place of the image."""
from __future__ import annotations

import json
import math

from deployments.http_errors import BadInput
from models.error_codes import ErrorCode

STYLE_VECTOR_LENGTH = 100   # the predictor's bottleneck
# Measured over tests/data/*.jpg and flat, noise and stripe images: every component within -2.9..3.5 (the
# predictor's int8 output layer spans -2.05..3.02; its float activations go a little past that). 10 leaves room
# for any real image and still refuses numbers that would only saturate the transformer.
STYLE_VECTOR_BOUND = 10.0
FIELD = "style_vector"


def bad_vector(why: str) -> BadInput:
    return BadInput(ErrorCode.BAD_OPTION, f"`{FIELD}` {why}. Send the `vector` that POST /v1/fast/vector returned: a JSON "
                                  f"list of {STYLE_VECTOR_LENGTH} numbers.", 422)


def parse_style_vector(raw) -> list[float]:
    """A style vector from a form field (JSON text) or a handle caller (a list), checked: a list of
    STYLE_VECTOR_LENGTH finite numbers, each within STYLE_VECTOR_BOUND."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise bad_vector("is not JSON") from None
    if not isinstance(raw, (list, tuple)):
        raise bad_vector(f"must be a list, not {type(raw).__name__}")
    if len(raw) != STYLE_VECTOR_LENGTH:
        raise bad_vector(f"has {len(raw)} numbers, not {STYLE_VECTOR_LENGTH}")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw):
        raise bad_vector("must hold numbers only")
    out_of_range = bad_vector(f"holds numbers outside -{STYLE_VECTOR_BOUND:g}..{STYLE_VECTOR_BOUND:g}, where no "
                              "image's style vector lies")
    try:
        vector = [float(x) for x in raw]
    except OverflowError:  # an integer too big for a float
        raise out_of_range from None
    if not all(math.isfinite(x) for x in vector):
        raise bad_vector("must hold finite numbers (no NaN or infinity)")
    if max(abs(x) for x in vector) > STYLE_VECTOR_BOUND:
        raise out_of_range
    return vector


def one_style(style: bytes | None, vector) -> list[float] | None:
    """/v1/fast takes a style image or a style vector, exactly one: the parsed vector, or None for the image."""
    if (style is None) == (vector is None):
        which = "both" if style is not None else "neither"
        raise BadInput(ErrorCode.BAD_OPTION, f"Send exactly one of `style` (a style image file) and `{FIELD}` (a JSON list "
                                     f"of {STYLE_VECTOR_LENGTH} numbers from POST /v1/fast/vector), not {which}.",
                       422)
    return None if vector is None else parse_style_vector(vector)
