"""The "styles" application's ingress: validates input once, dispatches to the NST optimizer or a preset's
generator, maps overload to 503. Python callers (the bot) use its handle methods; everyone else uses HTTP."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import math
from collections.abc import AsyncIterator

from ray import serve
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from models.nst.options import MIN_SIDE, NSTOptions
from deployments.http_errors import BadInput, ServiceError, UnknownStyle, busy, from_image_error
from deployments.http_body import read_capped
from models.images import ImageError, ImageLimits, decode_image, shrink
from models.limits import MAX_SIDE, MIN_PRESET_SIDE
from models.tensors import fit_long_side, to_array

logger = logging.getLogger("ray.serve")
MEDIA = {"JPEG": "image/jpeg", "PNG": "image/png"}
NST_OPTION_TYPES = {"size": int, "steps": int, "strength": float, "keep_colors": bool, "seed": int,
                    "style_scale": float}


def is_back_pressure(e: BaseException) -> bool:
    """A full queue downstream, however Serve wrapped it (directly, or as the cause of a task error)."""
    for err in (e, getattr(e, "cause", None), e.__cause__):
        if err is not None and (isinstance(err, BackPressureError) or type(err).__name__ == "BackPressureError"):
            return True
    return False


def style_side_for(content_size: tuple[int, int], style_size: tuple[int, int], side: int, style_scale: float) -> int:
    """The long side the style image needs for a job: the optimizer resizes it to the content's area at `side`
    times style_scale^2 (sizes are PIL's (w, h))."""
    ch, cw = fit_long_side((content_size[1], content_size[0]), side)
    sw, sh = style_size
    return max(MIN_SIDE, math.ceil(max(sw, sh) * math.sqrt(ch * cw * style_scale ** 2 / (sw * sh))))


def parse_nst_options(raw: dict, max_size: int, max_steps: int) -> dict:
    opts: dict = {}
    for key, value in raw.items():
        if key not in NST_OPTION_TYPES:
            raise BadInput("bad_option", f"Unknown option {key!r}; known: {', '.join(NST_OPTION_TYPES)}.", 422)
        kind = NST_OPTION_TYPES[key]
        try:
            if kind is bool:
                opts[key] = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
            else:
                opts[key] = kind(value)
        except (TypeError, ValueError):
            raise BadInput("bad_option", f"Option {key!r} must be a {kind.__name__}.", 422) from None
    try:
        NSTOptions(**opts).validate()
    except ValueError as e:
        raise BadInput("bad_option", f"{str(e).capitalize()}.", 422) from None
    if opts.get("size", NSTOptions.size) > max_size:
        raise BadInput("bad_option", f"Size must be at most {max_size} px.", 422)
    if opts.get("steps", NSTOptions.steps) > max_steps:
        raise BadInput("bad_option", f"Steps must be at most {max_steps}.", 422)
    return opts


async def read_body(request: Request, max_bytes: int) -> bytes:
    body = await read_capped(request, max_bytes)
    if body is None:
        raise BadInput("image_too_large", f"The upload is over the {max_bytes // (1024 * 1024)} MB limit. "
                                          "Please send a smaller image.", 413)
    return body


def check_shape(img, long_side: int) -> None:
    """Refuse an image too long and narrow for the models at `long_side`: fitted to it, its short side must keep
    MIN_SIDE pixels (VGG19's deepest style layer sees the image 16 times smaller)."""
    w, h = img.size
    short = min(fit_long_side((h, w), long_side))
    if short < MIN_SIDE:
        ow, oh = img.info.get("original_size", img.size)
        raise BadInput("image_too_narrow", f"The image is {ow}x{oh} pixels: too long and narrow to paint (at "
                                           f"{long_side} px its short side would be {short} px; at least {MIN_SIDE} "
                                           "are needed). Please crop it and send it again.", 422)


def wanted_format(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return "PNG" if "image/png" in accept and "image/jpeg" not in accept else "JPEG"


def error_response(e: ServiceError) -> JSONResponse:
    headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
    return JSONResponse(e.as_dict(), status_code=e.status, headers=headers)


@serve.deployment
class StylesIngress:
    def __init__(self, nst: DeploymentHandle | None, generators: dict[str, DeploymentHandle], styles: list[dict],
                 preset_max_side: int = MAX_SIDE, nst_max_side: int = MAX_SIDE, nst_max_steps: int = 1000):
        self.nst_handle = nst.options(stream=True) if nst is not None else None
        self.generators = generators
        self.styles = styles
        self.limits = ImageLimits(max_side=max(preset_max_side, nst_max_side))
        self.preset_max_side, self.nst_max_side, self.nst_max_steps = preset_max_side, nst_max_side, nst_max_steps

    # -- the handle API (the bot) -------------------------------------------------------------------------
    def list_styles(self) -> list[dict]:
        """Every preset in the catalogue: name, label, description, available, origin, reason."""
        return self.styles

    async def _decode(self, data: bytes, max_side: int):
        """Decode in a worker thread: a 50 MP upload must not stall this replica's other requests."""
        try:
            img = await asyncio.to_thread(decode_image, data, self.limits, max_side)
        except ImageError as e:
            raise from_image_error(e) from None
        check_shape(img, max(img.size))
        return img

    def _preset_side(self, size: int | None) -> int:
        if size and size < MIN_PRESET_SIDE:
            raise BadInput("bad_option", f"size must be at least {MIN_PRESET_SIDE} px.", 422)
        return min(size or self.preset_max_side, self.preset_max_side)

    def _generator(self, preset: str) -> DeploymentHandle:
        if preset in self.generators:
            return self.generators[preset]
        known = {s["name"]: s for s in self.styles}
        if preset in known:
            raise UnknownStyle("style_unavailable", f"The style {preset!r} is unavailable: {known[preset]['reason']}")
        raise UnknownStyle("unknown_style", f"There is no style {preset!r}. Styles: {', '.join(known)}.")

    async def stylize(self, preset: str, image: bytes, fmt: str = "JPEG", size: int | None = None) -> bytes:
        """Repaint `image` with a preset; returns `fmt` bytes. Raises ServiceError for bad input or overload."""
        handle = self._generator(preset)
        img = await self._decode(image, self._preset_side(size))
        try:
            return await handle.stylize.remote(to_array(img), fmt)
        except Exception as e:
            if is_back_pressure(e):
                raise busy(f"{preset} style") from None
            raise

    async def stylize_all(self, image: bytes, fmt: str = "JPEG", size: int | None = None) -> dict[str, bytes]:
        """Every available preset at once: {preset: image bytes}. A preset that fails is left out."""
        img = to_array(await self._decode(image, self._preset_side(size)))
        names = list(self.generators)
        results = await asyncio.gather(*(self.generators[n].stylize.remote(img, fmt) for n in names),
                                       return_exceptions=True)
        for n, r in zip(names, results):
            if isinstance(r, BaseException) and not is_back_pressure(r):
                logger.warning("preset %s failed in stylize_all: %r", n, r)
        done = {n: r for n, r in zip(names, results) if isinstance(r, bytes)}
        if not done:
            raise busy("painting service")
        return done

    async def nst(self, content: bytes, style: bytes, options: dict | None = None,
                  fmt: str = "JPEG") -> AsyncIterator[dict]:
        """Stream {"type": "progress", ...} events, then {"type": "result", "image": bytes, ...}."""
        if self.nst_handle is None:
            raise UnknownStyle("nst_unavailable", "Painting with your own style image is unavailable right now.")
        opts = parse_nst_options(options or {}, self.nst_max_side, self.nst_max_steps)
        c = await self._decode(content, opts.get("size", NSTOptions.size))
        check_shape(c, opts.get("size", NSTOptions.size))  # NST scales small photos up to its size
        s = await self._decode(style, self.nst_max_side)
        side = style_side_for(c.size, s.size, opts.get("size", NSTOptions.size),
                              opts.get("style_scale", NSTOptions.style_scale))
        if side < max(s.size):
            s = await asyncio.to_thread(shrink, s, side)
        gen = None
        try:
            gen = self.nst_handle.run.remote(to_array(c), to_array(s), opts, fmt,
                                             style_key=hashlib.sha256(style).hexdigest())
            async for event in gen:
                yield event
        except Exception as e:
            if is_back_pressure(e):
                raise busy("painting service") from None
            raise
        finally:
            if gen is not None:
                try:
                    gen.cancel()  # stops the optimiser when our caller went away; a no-op once finished
                except Exception:  # noqa: BLE001 - cancel() re-raises the request's own error, handled above
                    pass

    # -- HTTP ---------------------------------------------------------------------------------------------
    async def __call__(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except ServiceError as e:
            return error_response(e)

    async def _dispatch(self, request: Request) -> Response:
        path, method = request.url.path.rstrip("/"), request.method
        if path == "/healthz" and method == "GET":
            return JSONResponse({"status": "ok", "presets": sorted(self.generators), "nst": self.nst_handle is not None})
        if path == "/v1/styles" and method == "GET":
            return JSONResponse({"styles": self.styles})
        if path.startswith("/v1/stylize/") and method == "POST":
            preset = path.removeprefix("/v1/stylize/")
            size = request.query_params.get("size")
            fmt = wanted_format(request)
            if size is not None and not size.isdigit():
                raise BadInput("bad_option", "size must be a whole number of pixels.", 422)
            out = await self.stylize(preset, await read_body(request, self.limits.max_bytes), fmt,
                                     int(size) if size else None)
            return Response(out, media_type=MEDIA[fmt])
        if path == "/v1/nst" and method == "POST":
            return await self._http_nst(request)
        if path in ("/healthz", "/v1/styles", "/v1/nst") or path.startswith("/v1/stylize/"):
            raise BadInput("method_not_allowed", f"{method} is not allowed on {path}.", 405)
        raise BadInput("not_found", f"No endpoint {path}. See GET /v1/styles, POST /v1/stylize/{{preset}}, "
                                    "POST /v1/nst, GET /healthz.", 404)

    async def _http_nst(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadInput("bad_request", "Send multipart/form-data with `content` and `style` image files.", 400)
        try:
            form = await request.form(max_part_size=self.limits.max_bytes)
        except (MultiPartException, HTTPException) as e:  # broken multipart, thousands of fields, a huge part
            detail = getattr(e, "message", None) or getattr(e, "detail", "")
            raise BadInput("bad_request", f"The multipart form could not be read: {detail}", 400) from None
        files = {}
        for name in ("content", "style"):
            part = form.get(name)
            if part is None or not hasattr(part, "read"):
                raise BadInput("bad_request", f"The `{name}` image file is missing.", 400)
            files[name] = await part.read()
        options = {k: v for k, v in form.items() if k not in ("content", "style", "stream")}
        if "options" in options:
            try:
                options.update(json.loads(options.pop("options")))
            except (TypeError, ValueError):
                raise BadInput("bad_option", "`options` must be a JSON object.", 422) from None
        fmt = wanted_format(request)
        stream = "application/x-ndjson" in request.headers.get("accept", "") or \
            request.query_params.get("stream") in ("1", "true")
        events = self.nst(files["content"], files["style"], options, fmt)  # the handle method, called in-process
        first = await anext(events)  # surfaces bad input and overload as 4xx/503 before streaming starts
        if stream:
            return StreamingResponse(self._ndjson(first, events), media_type="application/x-ndjson")
        event = first
        async for event in events:
            pass
        return Response(event["image"], media_type=MEDIA[fmt])

    @staticmethod
    async def _ndjson(first: dict, events: AsyncIterator[dict]) -> AsyncIterator[bytes]:
        event = first
        while True:
            if event["type"] == "result":
                event = {**event, "image": base64.b64encode(event["image"]).decode()}
            yield (json.dumps(event) + "\n").encode()
            try:
                event = await anext(events)
            except StopAsyncIteration:
                return
            except ServiceError as e:  # the status line went out with the first event: the error is the last line
                yield (json.dumps({"type": "error", "status": e.status, **e.as_dict()}) + "\n").encode()
                return
