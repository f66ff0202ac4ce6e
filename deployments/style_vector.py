"""Style vectors as callers send them: the 100 numbers Magenta's arbitrary-style predictor makes of a style image
(POST /v1/fast/vector), kept by a client and sent back to /v1/fast as `style_vector` in place of the image."""
from __future__ import annotations

import json

from deployments.http_errors import BadInput
from models.arbitrary.fixed import VECTOR_LENGTH, StyleVectorError, check_vector
from models.error_codes import ErrorCode

FIELD = "style_vector"


def parse_style_vector(raw) -> list[float]:
    """A style vector from a form field (JSON text) or a handle caller (a list), checked by
    models.arbitrary.fixed.check_vector. Raises ValueError with a message that names the field and says what to
    send (deployments/requests.py's FastParams validates the field with it: a JSON 422)."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise ValueError(_advice(f"`{FIELD}` is not JSON")) from None
    try:
        return check_vector(raw, f"`{FIELD}`").tolist()
    except StyleVectorError as e:
        raise ValueError(_advice(str(e))) from None


def _advice(why: str) -> str:
    return f"{why}. Send the `vector` that POST /v1/fast/vector returned: a JSON list of {VECTOR_LENGTH} numbers."


def one_style(style: bytes | None, vector: list[float] | None) -> list[float] | None:
    """/v1/fast takes a style image or a (checked) style vector, exactly one: the vector, or None for the image."""
    if (style is None) == (vector is None):
        which = "both" if style is not None else "neither"
        raise BadInput(ErrorCode.BAD_OPTION, f"Send exactly one of `style` (a style image file) and `{FIELD}` (a JSON "
                                             f"list of {VECTOR_LENGTH} numbers from POST /v1/fast/vector), not {which}.",
                       422)
    return vector
