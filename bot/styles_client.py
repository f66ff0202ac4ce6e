"""The bot's only way to the models: a DeploymentHandle to the "styles" application's ingress (StylesIngress)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from ray.exceptions import NodeDiedError, RayActorError, WorkerCrashedError
from ray.serve.exceptions import ReplicaUnavailableError

from bot.limits import BUSY_RETRY_S
from models.error_codes import ErrorCode

# Set around a call that the styles app may turn away (busy); awaited at a stream's first event, when the app has
# started on it. A job from the bot's line keeps its place until then (its call may still sit in Serve's queue), so
# the next in line cannot overtake it.
on_admitted: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar("on_admitted", default=None)

# The replica serving the call died (killed, crashed, its node gone): Serve starts another, so a retry can work.
REPLICA_LOST = (RayActorError, WorkerCrashedError, NodeDiedError, ReplicaUnavailableError)


@dataclass
class StylesError(Exception):
    """A refusal from the styles app (bad image, unknown style, busy) with a message fit to show a person."""
    code: str
    message: str
    retry_after: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def as_styles_error(e: BaseException) -> StylesError | None:
    """The router's ServiceError arrives wrapped by Ray; its code and message stay readable as attributes."""
    code, message = getattr(e, "code", None), getattr(e, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return StylesError(code, message, getattr(e, "retry_after", None))
    if isinstance(e, REPLICA_LOST):
        return StylesError(ErrorCode.INTERRUPTED, "The painting service restarted while working on your picture.")
    if type(e).__name__ == "BackPressureError" or type(getattr(e, "cause", None)).__name__ == "BackPressureError":
        return StylesError(ErrorCode.BUSY, "The painting service is busy.", BUSY_RETRY_S)
    return None


class StylesClient:
    def __init__(self, handle):
        self.handle = handle
        self.streaming = handle.options(stream=True)
        self._catalogue: list[dict] | None = None

    async def _call(self, method: str, *args, **kwargs):
        try:
            return await getattr(self.handle, method).remote(*args, **kwargs)
        except Exception as e:
            err = as_styles_error(e)
            if err is None:
                raise
            raise err from None

    async def list_styles(self) -> list[dict]:
        return await self._call("list_styles")

    async def catalogue(self) -> list[dict]:
        """The style list, fetched once: it changes only when the styles app is redeployed."""
        if self._catalogue is None:
            self._catalogue = await self.list_styles()
        return self._catalogue

    async def available(self) -> list[dict]:
        return [s for s in await self.catalogue() if s.get("available")]

    async def stylize(self, preset: str, image: bytes, fmt: str, size: int, strength: float = 1.0,
                      keep_colors: bool = False) -> bytes:
        return await self._call("stylize", preset, image, fmt, size, strength, keep_colors)

    async def stylize_all(self, image: bytes, fmt: str, size: int, strength: float = 1.0,
                          keep_colors: bool = False, group: str = "main") -> dict[str, bytes]:
        return await self._call("stylize_all", image, fmt, size, strength, keep_colors, group)

    async def styles_sheet(self) -> bytes:
        """A JPEG: every available style on one sample photo."""
        return await self._call("styles_sheet")

    async def fast(self, content: bytes, style: bytes, options: dict, fmt: str) -> bytes:
        """The fast model's painting (one pass); StylesError "fast_unavailable" when it is not served."""
        return await self._call("fast", content, style, options, fmt)

    async def fast_vector(self, content: bytes, vector: list[float], options: dict, fmt: str) -> bytes:
        """The fast model's painting with a saved style vector in place of the style image."""
        return await self._call("fast", content, None, {**options, "style_vector": vector}, fmt)

    async def style_vector(self, style: bytes) -> list[float]:
        """A style image's style vector (what a saved style keeps); StylesError "fast_unavailable" too."""
        return await self._call("style_vector", style)

    async def fast_served(self) -> bool:
        """Whether the fast model (which paints saved styles) is served now: asked each time, since the styles
        app may be redeployed without it."""
        try:
            return await self._call("fast_served")
        except Exception:  # noqa: BLE001 - the styles app cannot answer now: nothing may count on the fast model
            return False

    def nst(self, content: bytes, style: bytes, options: dict, fmt: str,
            previews: dict | None = None) -> AsyncIterator[dict]:
        """Progress (and, when asked for, preview) events, then the result event; cancelling the consumer
        cancels the optimisation."""
        return self._stream("nst", content, style, options, fmt, previews)

    def stylize_stream(self, preset: str, image: bytes, fmt: str, size: int | str, strength: float = 1.0,
                       keep_colors: bool = False) -> AsyncIterator[dict]:
        """`stylize` as events: at size "full" the tiles done ({"type": "progress", "done", "total"}), then the
        result event; cancelling the consumer stops the painting."""
        return self._stream("stylize_stream", preset, image, fmt, size, strength, keep_colors)

    def fast_stream(self, content: bytes, style: bytes | None, options: dict, fmt: str) -> AsyncIterator[dict]:
        """`fast` (or, with options["style_vector"], `fast_vector`) as events, as stylize_stream's."""
        return self._stream("fast_stream", content, style, options, fmt)

    def video(self, clip: bytes, preset: str | None, style: bytes | None, options: dict) -> AsyncIterator[dict]:
        """A clip painted with a preset, or (preset None) the quick network in the style of `style` or of
        options["style_vector"]: {"type": "progress", "done", "total"} frames, then {"type": "result", "video"};
        cancelling the consumer stops the painting."""
        return self._stream("video", clip, preset, style, options)

    async def _stream(self, method: str, *args) -> AsyncIterator[dict]:
        gen = getattr(self.streaming, method).remote(*args)
        admitted = on_admitted.get()
        try:
            async for event in gen:
                if admitted is not None:
                    await admitted()
                    admitted = None
                yield event
        except Exception as e:
            err = as_styles_error(e)
            if err is None:
                raise
            raise err from None
        finally:
            try:
                gen.cancel()
            except Exception:  # already finished: nothing to cancel
                pass
