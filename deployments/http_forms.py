"""Reading a styles endpoint's request: its image body (capped), a multipart form's image files and option fields
(the endpoint's model in deployments/requests.py checks the options), the result format the client accepts."""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from deployments.http_body import read_capped
from deployments.http_errors import BadInput
from models.error_codes import ErrorCode

MEDIA = {"JPEG": "image/jpeg", "PNG": "image/png"}


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body; over `max_bytes`, a 413."""
    body = await read_capped(request, max_bytes)
    if body is None:
        raise BadInput(ErrorCode.IMAGE_TOO_LARGE, f"The upload is over the {max_bytes // (1024 * 1024)} MB limit. "
                                                  "Please send a smaller image.", 413)
    return body


def wanted_format(request: Request) -> str:
    """PNG when the client accepts it and not JPEG; JPEG otherwise."""
    accept = request.headers.get("accept", "")
    return "PNG" if "image/png" in accept and "image/jpeg" not in accept else "JPEG"


async def read_form(request: Request, max_bytes: int, required: tuple[str, ...],
                    optional: tuple[str, ...] = ()) -> tuple[dict[str, bytes], dict]:
    """The `required` (and present `optional`) image files of a multipart form, and its other fields (plus
    `options`, a JSON object of the same fields) as options, unchecked: the endpoint's model checks them."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        names = " and ".join(f"`{n}`" for n in required)
        raise BadInput(ErrorCode.BAD_REQUEST, f"Send multipart/form-data with {names} image files.", 400)
    try:
        form = await request.form(max_part_size=max_bytes)
    except (MultiPartException, HTTPException) as e:  # broken multipart, thousands of fields, a huge part
        detail = getattr(e, "message", None) or getattr(e, "detail", "")
        raise BadInput(ErrorCode.BAD_REQUEST, f"The multipart form could not be read: {detail}", 400) from None
    files = {}
    for name in (*required, *optional):
        part = form.get(name)
        if part is None and name in optional:
            continue
        if part is None or not hasattr(part, "read"):
            raise BadInput(ErrorCode.BAD_REQUEST, f"The `{name}` image file is missing.", 400)
        files[name] = await part.read()
    options = {k: v for k, v in form.items() if k not in (*required, *optional, "stream")}
    if "options" in options:
        options.update(_json_object(options.pop("options")))
    return files, options


def _json_object(text) -> dict:
    try:
        extra = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        extra = None
    if not isinstance(extra, dict):
        raise BadInput(ErrorCode.BAD_OPTION, "`options` must be a JSON object.", 422)
    return extra
