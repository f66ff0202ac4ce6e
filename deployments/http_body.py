"""Reading an HTTP request body with a size cap, for the service's and the bot's endpoints."""
from __future__ import annotations

from starlette.requests import Request


async def read_capped(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `max_bytes` (from Content-Length, or while it streams
    in), so an oversized upload is never held in memory whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
