"""The "styles" application's ingress: validates input once, dispatches to the NST optimizer or a preset's
generator, maps overload to 503. Python callers (the bot) use its handle methods; everyone else uses HTTP, a
FastAPI app (deployments/http_api.py) whose routes are the methods at the end of the class.

No `from __future__ import annotations` here: FastAPI must see `Request` itself in the route signatures that
Serve rewrites for the class, not a string it can no longer resolve."""

import asyncio
import base64
import hashlib
import io
import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
from fastapi import Query
from ray import serve
from ray.exceptions import NodeDiedError, RayActorError, WorkerCrashedError
from ray.serve.exceptions import BackPressureError, ReplicaUnavailableError
from ray.serve.handle import DeploymentHandle
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from PIL import Image

from deployments.http_api import ERRORS, Health, Styles, StyleVector, api
from deployments.http_body import read_capped
from deployments.http_errors import BadInput, ServiceError, UnknownStyle, busy, from_image_error, replica_lost
from deployments.metrics import Measured, rejections, retries
from deployments.style_vector import one_style
from models.arbitrary.fixed import VECTOR_LENGTH
from models import paths
from models.contact_sheet import contact_sheet
from models.images import ImageError, ImageLimits, decode_image, encode_image, shrink
from models.limits import MAX_SIDE, MIN_PRESET_SIDE
from models.nst.options import MIN_SIDE, NSTOptions
from models.tensors import fit_long_side, to_array
from models.error_codes import ErrorCode

logger = logging.getLogger("ray.serve")
MEDIA = {"JPEG": "image/jpeg", "PNG": "image/png"}
NST_OPTION_TYPES = {"size": int, "steps": int, "strength": float, "keep_colors": bool, "seed": int,
                    "style_scale": float}
BINARY = {"schema": {"type": "string", "format": "binary"}}
IMAGE_OUT = {200: {"description": "The painting: JPEG, or PNG when `Accept` asks for it only.",
                   "content": {"image/jpeg": BINARY, "image/png": BINARY}}, **ERRORS}
STYLIZE_BODY = {"requestBody": {"required": True, "description": "The photo: JPEG, PNG, WebP, BMP or GIF.",
                                "content": {t: BINARY for t in ("image/jpeg", "image/png", "image/webp")}}}
NST_FIELDS = {"size": "integer", "steps": "integer", "strength": "number", "keep_colors": "boolean",
              "seed": "integer", "style_scale": "number"}
NST_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["content", "style"],
    "properties": {"content": {"type": "string", "format": "binary", "description": "the photo"},
                   "style": {"type": "string", "format": "binary", "description": "the style image"},
                   **{k: {"type": t} for k, t in NST_FIELDS.items()},
                   "options": {"type": "string", "description": "the same options as one JSON object"}}}}}}}


# The replica a call went to died (killed, crashed, its node gone). Serve starts another one (ActorDiedError and
# ActorUnavailableError are RayActorErrors); a preset call is a pure function, so it is simply sent again.
REPLICA_LOST = (RayActorError, WorkerCrashedError, NodeDiedError, ReplicaUnavailableError)
LOST_REPLICA_RETRIES = 2
SHEET_TILE = 128  # px, each style's picture on the styles contact sheet
FAST_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["content"],
    "properties": {"content": {"type": "string", "format": "binary", "description": "the photo"},
                   "style": {"type": "string", "format": "binary",
                             "description": "the style image (or send `style_vector`)"},
                   "style_vector": {"type": "string", "description": "instead of `style`: a JSON list of "
                                    f"{VECTOR_LENGTH} numbers, as POST /v1/fast/vector returns"},
                   "size": {"type": "integer", "description": "long side of the result in pixels"},
                   "strength": {"type": "number", "description": "0 = the photo's own style, 1 = the style image's"},
                   "keep_colors": {"type": "boolean", "description": "keep the photo's colours"},
                   "options": {"type": "string", "description": "the same options as one JSON object"}}}}}}}
VECTOR_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["style"],
    "properties": {"style": {"type": "string", "format": "binary", "description": "the style image"}}}}}}}
FAST_STYLE_SIDE = 512  # px: a style image is shrunk to this before the ingress sends it (the model sees 256)


def _causes(e: BaseException) -> tuple:
    return tuple(err for err in (e, getattr(e, "cause", None), e.__cause__) if err is not None)


def is_back_pressure(e: BaseException) -> bool:
    """A full queue downstream, however Serve wrapped it (directly, or as the cause of a task error)."""
    return any(isinstance(err, BackPressureError) or type(err).__name__ == "BackPressureError" for err in _causes(e))


def is_replica_lost(e: BaseException) -> bool:
    return any(isinstance(err, REPLICA_LOST) for err in _causes(e))


def style_side_for(content_size: tuple[int, int], style_size: tuple[int, int], side: int, style_scale: float) -> int:
    """The long side the style image needs for a job: the optimizer resizes it to the content's area at `side`
    times style_scale^2 (sizes are PIL's (w, h))."""
    ch, cw = fit_long_side((content_size[1], content_size[0]), side)
    sw, sh = style_size
    return max(MIN_SIDE, math.ceil(max(sw, sh) * math.sqrt(ch * cw * style_scale ** 2 / (sw * sh))))


def preset_finishing(strength, keep_colors) -> tuple[float, bool]:
    """A preset's strength and keep-colours, checked before any work is done."""
    try:
        strength = float(strength)
    except (TypeError, ValueError):
        raise BadInput(ErrorCode.BAD_OPTION, "strength must be a number between 0 and 1.", 422) from None
    if not 0.0 <= strength <= 1.0:  # also refuses NaN
        raise BadInput(ErrorCode.BAD_OPTION, f"strength must be between 0 and 1 (0 = the photo, 1 = the full painting), "
                                     f"not {strength:g}.", 422)
    if not isinstance(keep_colors, bool):
        raise BadInput(ErrorCode.BAD_OPTION, "keep_colors must be true or false.", 422)
    return strength, keep_colors


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def coerce_option(key: str, value):
    """A form or JSON field's value as its option's type (a form sends "true", "0.5", "256"); anything else,
    `keep_colors=maybe` included, is a 422 naming the field."""
    kind = NST_OPTION_TYPES[key]
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE + FALSE:
            return word in TRUE
        raise BadInput(ErrorCode.BAD_OPTION, f"Option {key!r} must be true or false, not {str(value)[:40]!r}.", 422)
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(ErrorCode.BAD_OPTION, f"Option {key!r} must be a {kind.__name__}.", 422) from None
    if kind is float and not math.isfinite(number):
        raise BadInput(ErrorCode.BAD_OPTION, f"Option {key!r} must be a finite number.", 422)
    return number


def parse_nst_options(raw: dict, max_size: int, max_steps: int) -> dict:
    opts: dict = {}
    for key, value in raw.items():
        if key not in NST_OPTION_TYPES:
            raise BadInput(ErrorCode.BAD_OPTION, f"Unknown option {key!r}; known: {', '.join(NST_OPTION_TYPES)}.", 422)
        opts[key] = coerce_option(key, value)
    try:
        NSTOptions(**opts).validate()
    except ValueError as e:
        raise BadInput(ErrorCode.BAD_OPTION, f"{e}.", 422) from None
    if opts.get("size", NSTOptions.size) > max_size:
        raise BadInput(ErrorCode.BAD_OPTION, f"size must be at most {max_size} px.", 422)
    if opts.get("steps", NSTOptions.steps) > max_steps:
        raise BadInput(ErrorCode.BAD_OPTION, f"steps must be at most {max_steps}.", 422)
    return opts


FAST_OPTIONS = ("size", "strength", "keep_colors")


def parse_fast_options(raw: dict) -> dict:
    """/v1/fast takes /v1/nst's fields that apply to a one-pass model; the optimiser's own are refused by name."""
    opts: dict = {}
    for key, value in raw.items():
        if key in NST_OPTION_TYPES and key not in FAST_OPTIONS:
            raise BadInput(ErrorCode.BAD_OPTION, f"Option {key!r} applies to /v1/nst only: the fast model paints in one "
                                         f"pass. Options here: {', '.join(FAST_OPTIONS)}.", 422)
        if key not in FAST_OPTIONS:
            raise BadInput(ErrorCode.BAD_OPTION, f"Unknown option {key!r}; known: {', '.join(FAST_OPTIONS)}.", 422)
        # strength is checked, with its own message, with the presets' (preset_finishing)
        opts[key] = value if key == "strength" else coerce_option(key, value)
    opts["strength"], opts["keep_colors"] = preset_finishing(opts.get("strength", 1.0), opts.get("keep_colors", False))
    return opts


def refuse_unknown_query(request: Request, known: tuple[str, ...]) -> None:
    """A query parameter the endpoint does not take is a 422 naming it, not silently ignored."""
    unknown = sorted(set(request.query_params) - set(known))
    if unknown:
        takes = f"it takes {', '.join(known)}" if known else "it takes none: send options as form fields"
        raise BadInput(ErrorCode.BAD_OPTION, f"Unknown query parameter {unknown[0][:40]!r}; {takes}.", 422)


async def read_body(request: Request, max_bytes: int) -> bytes:
    body = await read_capped(request, max_bytes)
    if body is None:
        raise BadInput(ErrorCode.IMAGE_TOO_LARGE, f"The upload is over the {max_bytes // (1024 * 1024)} MB limit. "
                                          "Please send a smaller image.", 413)
    return body


def check_shape(img, long_side: int) -> None:
    """Refuse an image too long and narrow for the models at `long_side`: fitted to it, its short side must keep
    MIN_SIDE pixels (VGG19's deepest style layer sees the image 16 times smaller)."""
    w, h = img.size
    short = min(fit_long_side((h, w), long_side))
    if short < MIN_SIDE:
        ow, oh = img.info.get("original_size", img.size)
        raise BadInput(ErrorCode.IMAGE_TOO_NARROW, f"The image is {ow}x{oh} pixels: too long and narrow to paint (at "
                                           f"{long_side} px its short side would be {short} px; at least {MIN_SIDE} "
                                           "are needed). Please crop it and send it again.", 422)


def wanted_format(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return "PNG" if "image/png" in accept and "image/jpeg" not in accept else "JPEG"


@serve.deployment
@serve.ingress(api)
class StylesIngress:
    def __init__(self, nst: DeploymentHandle | None, generators: dict[str, DeploymentHandle], styles: list[dict],
                 preset_max_side: int = MAX_SIDE, nst_max_side: int = MAX_SIDE, nst_max_steps: int = 1000,
                 preset_styles: dict[str, int] | None = None, fast: DeploymentHandle | None = None):
        """`generators`: preset -> its generator deployment; `preset_styles`: preset -> style index, for the
        presets of a network that paints several styles (they share one deployment); `fast`: the fast
        arbitrary-style deployment, when it is served."""
        self.nst_handle = nst.options(stream=True) if nst is not None else None
        self.fast_handle = fast
        self.generators = generators
        self.preset_styles = preset_styles or {}
        self.styles = styles
        self.group_of = {s["name"]: s.get("group", "main") for s in styles}
        self._sheet: bytes | None = None
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
            raise BadInput(ErrorCode.BAD_OPTION, f"size must be at least {MIN_PRESET_SIDE} px.", 422)
        return min(size or self.preset_max_side, self.preset_max_side)

    def _generator(self, preset: str) -> DeploymentHandle:
        if preset in self.generators:
            return self.generators[preset]
        known = {s["name"]: s for s in self.styles}
        if preset in known:
            raise UnknownStyle(ErrorCode.STYLE_UNAVAILABLE, f"The style {preset!r} is unavailable: {known[preset]['reason']}")
        raise UnknownStyle(ErrorCode.UNKNOWN_STYLE, f"There is no style {preset!r}. Styles: {', '.join(known)}.")

    async def stylize(self, preset: str, image: bytes, fmt: str = "JPEG", size: int | None = None,
                      strength: float = 1.0, keep_colors: bool = False) -> bytes:
        """Repaint `image` with a preset; returns `fmt` bytes. `strength` (0..1) blends the painting with the photo,
        `keep_colors` keeps the photo's colours. Raises ServiceError for bad input or overload."""
        with Measured("preset"):
            self._generator(preset)
            finishing = preset_finishing(strength, keep_colors)
            img = await self._decode(image, self._preset_side(size))
            return await self._paint(preset, to_array(img), fmt, finishing)

    async def _paint(self, preset: str, img, fmt: str, finishing: tuple[float, bool] = (1.0, False)) -> bytes:
        """One generator call."""
        return await self._one_pass(
            preset, f"preset {preset}", f"{preset} style",
            lambda: self.generators[preset].stylize.remote(img, fmt, *finishing, style=self.preset_styles.get(preset)))

    @staticmethod
    async def _one_pass(target: str, label: str, what: str, call: Callable[[], Awaitable[bytes]]) -> bytes:
        """A one-pass model call (a pure function of its input): a full queue is a 503; a replica lost mid-call
        is sent again, then a 503."""
        for attempt in range(LOST_REPLICA_RETRIES + 1):
            try:
                return await call()
            except Exception as e:
                if is_back_pressure(e):
                    rejections.inc(tags={"target": target})
                    raise busy(what) from None
                if not is_replica_lost(e):
                    raise
                if attempt < LOST_REPLICA_RETRIES:
                    retries.inc(tags={"target": target})
                logger.warning("%s: the replica painting it was lost (%s); attempt %d of %d", label,
                               type(e).__name__, attempt + 1, LOST_REPLICA_RETRIES + 1)
        raise replica_lost()

    async def styles_sheet(self) -> bytes:
        """A JPEG contact sheet: every available preset on the sample photo, labelled; made once per replica."""
        if self._sheet is None:
            with open(paths.sample_photo_path(), "rb") as f:
                sample = to_array(await self._decode(f.read(), SHEET_TILE))
            names = list(self.generators)
            painted = await asyncio.gather(*(self._paint(n, sample, "JPEG") for n in names))
            labels = {s["name"]: s["label"] for s in self.styles}
            items = [(labels.get(n, n), Image.open(io.BytesIO(p))) for n, p in zip(names, painted)]
            self._sheet = await asyncio.to_thread(lambda: encode_image(contact_sheet(items, SHEET_TILE), "JPEG"))
        return self._sheet

    async def stylize_all(self, image: bytes, fmt: str = "JPEG", size: int | None = None, strength: float = 1.0,
                          keep_colors: bool = False, group: str = "main") -> dict[str, bytes]:
        """Every available preset of a group ("main": the first page, "more": the "More styles" page) at once:
        {preset: image bytes}. A preset that fails is left out."""
        with Measured("all"):
            finishing = preset_finishing(strength, keep_colors)
            names = [n for n in self.generators if self.group_of.get(n, "main") == group]
            if not names:
                raise UnknownStyle(ErrorCode.UNKNOWN_STYLE, f"No styles are available in the group {group!r}.")
            img = to_array(await self._decode(image, self._preset_side(size)))
            results = await asyncio.gather(*(self._paint(n, img, fmt, finishing) for n in names),
                                           return_exceptions=True)
            for n, r in zip(names, results):
                if isinstance(r, BaseException) and not isinstance(r, ServiceError):
                    logger.warning("preset %s failed in stylize_all: %r", n, r)
            done = {n: r for n, r in zip(names, results) if isinstance(r, bytes)}
            if not done:
                raise busy("painting service")
            return done

    def fast_served(self) -> bool:
        """Whether the fast model is served: own style images in one pass, style vectors (saved styles)."""
        return self.fast_handle is not None

    def _fast(self) -> DeploymentHandle:
        if self.fast_handle is None:
            raise UnknownStyle(ErrorCode.FAST_UNAVAILABLE, "The quick own-style painter is unavailable right now.")
        return self.fast_handle

    async def fast(self, content: bytes, style: bytes | None, options: dict | None = None,
                   fmt: str = "JPEG") -> bytes:
        """Paint `content` in the style of `style` in one pass (the fast arbitrary-style model); options: size,
        strength (0..1), keep_colors, and `style_vector` (a list from `style_vector`, or its JSON) in place of
        `style` (None then). Raises ServiceError for bad input or overload."""
        with Measured("fast"):
            fast = self._fast()
            options = dict(options or {})
            vector = one_style(style, options.pop("style_vector", None))
            opts = parse_fast_options(options)
            c = to_array(await self._decode(content, self._preset_side(opts.get("size"))))
            if vector is None:
                s = to_array(await self._decode(style, FAST_STYLE_SIDE))
            else:
                s = np.asarray(vector, np.float32)
            return await self._one_pass(
                "fast", "fast style", "quick painter",
                lambda: fast.stylize.remote(c, s, fmt, opts["strength"], opts["keep_colors"]))

    async def style_vector(self, style: bytes) -> list[float]:
        """The style vector of a style image (VECTOR_LENGTH numbers): `fast` paints the same with it as with
        the image. Raises ServiceError for a bad image, overload, or "fast_unavailable"."""
        with Measured("vector"):
            fast = self._fast()
            s = to_array(await self._decode(style, FAST_STYLE_SIDE))
            return await self._one_pass("fast", "style vector", "quick painter", lambda: fast.vector.remote(s))

    async def nst(self, content: bytes, style: bytes, options: dict | None = None,
                  fmt: str = "JPEG", previews: dict | None = None) -> AsyncIterator[dict]:
        """Stream {"type": "progress", ...} events, then {"type": "result", "image": bytes, ...}; with `previews`
        ({"every_s": 10, "max": 3}) also {"type": "preview", "step", "image": JPEG bytes}, the picture so far."""
        with Measured("nst") as measured:
            if self.nst_handle is None:
                raise UnknownStyle(ErrorCode.NST_UNAVAILABLE, "Painting with your own style image is unavailable right now.")
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
                                                 style_key=hashlib.sha256(style).hexdigest(), previews=previews)
                async for event in gen:
                    if event["type"] == "result":
                        measured.end()  # counted before the caller takes it: closing us afterwards is no cancel
                    yield event
            except Exception as e:
                if is_back_pressure(e):
                    rejections.inc(tags={"target": "nst"})
                    raise busy("painting service") from None
                if is_replica_lost(e):  # progress went out already: the caller decides whether to start again
                    raise replica_lost() from None
                raise
            finally:
                if gen is not None:
                    try:
                        gen.cancel()  # stops the optimiser when our caller went away; a no-op once finished
                    except Exception:  # noqa: BLE001 - cancel() re-raises the request's own error, handled above
                        pass

    # -- HTTP (FastAPI routes; errors become JSON in deployments/http_api.py) ------------------------------
    @api.get("/healthz", response_model=Health)
    def healthz(self) -> Health:
        return Health(status="ok", presets=sorted(self.generators), nst=self.nst_handle is not None,
                      fast=self.fast_handle is not None)

    @api.get("/v1/styles", response_model=Styles, summary="Every preset, available or not, and why")
    def http_styles(self) -> Styles:
        return Styles(styles=self.styles)

    @api.get("/v1/styles/sheet", response_class=Response, responses=IMAGE_OUT,
             summary="Every available preset on one sample photo (a JPEG contact sheet)")
    async def http_styles_sheet(self) -> Response:
        return Response(await self.styles_sheet(), media_type="image/jpeg")

    @api.post("/v1/stylize/{preset}", response_class=Response, responses=IMAGE_OUT, openapi_extra=STYLIZE_BODY,
              summary="Repaint a photo (the raw request body) with a preset")
    async def http_stylize(self, preset: str, request: Request,
                           size: int | None = Query(None, description="long side of the result in pixels"),
                           strength: float = Query(1.0, description="0 = the photo, 1 = the full painting (default)"),
                           keep_colors: bool = Query(False, description="keep the photo's colours")
                           ) -> Response:
        refuse_unknown_query(request, ("size", "strength", "keep_colors"))
        fmt = wanted_format(request)
        out = await self.stylize(preset, await read_body(request, self.limits.max_bytes), fmt, size, strength,
                                 keep_colors)
        return Response(out, media_type=MEDIA[fmt])

    @api.post("/v1/nst", response_class=Response, openapi_extra=NST_BODY,
              responses={**IMAGE_OUT, 200: {**IMAGE_OUT[200], "content": {**IMAGE_OUT[200]["content"],
                                                                          "application/x-ndjson": BINARY}}},
              summary="Repaint a photo in the style of your own image (Gatys NST); NDJSON progress on request")
    async def http_nst(self, request: Request,
                       stream: str | None = Query(None, description="1 or true: stream NDJSON progress events "
                                                                    "(or send Accept: application/x-ndjson)")
                       ) -> Response:
        refuse_unknown_query(request, ("stream",))
        if stream is not None and stream.lower() not in TRUE + FALSE:
            raise BadInput(ErrorCode.BAD_OPTION, f"stream must be true or false, not {stream[:40]!r}.", 422)
        files, options = await self._two_images(request)
        fmt = wanted_format(request)
        streaming = "application/x-ndjson" in request.headers.get("accept", "") or (stream or "").lower() in TRUE
        events = self.nst(files["content"], files["style"], options, fmt)  # the handle method, called in-process
        first = await anext(events)  # surfaces bad input and overload as 4xx/503 before streaming starts
        if streaming:
            return StreamingResponse(self._ndjson(first, events), media_type="application/x-ndjson")
        event = first
        async for event in events:
            pass
        return Response(event["image"], media_type=MEDIA[fmt])

    @api.post("/v1/fast", response_class=Response, openapi_extra=FAST_BODY, responses=IMAGE_OUT,
              summary="Repaint a photo in the style of your own image in one pass (about a second on a CPU)")
    async def http_fast(self, request: Request) -> Response:
        refuse_unknown_query(request, ())
        files, options = await self._two_images(request, ("content",), ("style",))
        fmt = wanted_format(request)
        return Response(await self.fast(files["content"], files.get("style"), options, fmt), media_type=MEDIA[fmt])

    @api.post("/v1/fast/vector", response_model=StyleVector, openapi_extra=VECTOR_BODY, responses=ERRORS,
              summary="The style vector of a style image: keep it, and send it to POST /v1/fast as `style_vector`")
    async def http_fast_vector(self, request: Request) -> StyleVector:
        refuse_unknown_query(request, ())
        files, options = await self._two_images(request, ("style",))
        if options:
            raise BadInput(ErrorCode.BAD_OPTION, f"Unknown field {sorted(options)[0]!r}: this endpoint takes only "
                                                 "the `style` image file.", 422)
        vector = await self.style_vector(files["style"])
        return StyleVector(vector=vector, length=len(vector))

    async def _two_images(self, request: Request, required: tuple[str, ...] = ("content", "style"),
                          optional: tuple[str, ...] = ()) -> tuple[dict[str, bytes], dict]:
        """The `required` (and present `optional`) image files of a multipart form, and its other fields (plus
        `options`, a JSON object of the same fields) as options."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            names = " and ".join(f"`{n}`" for n in required)
            raise BadInput(ErrorCode.BAD_REQUEST, f"Send multipart/form-data with {names} image files.", 400)
        try:
            form = await request.form(max_part_size=self.limits.max_bytes)
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
            try:
                extra = json.loads(options.pop("options"))
            except (TypeError, ValueError):
                extra = None
            if not isinstance(extra, dict):
                raise BadInput(ErrorCode.BAD_OPTION, "`options` must be a JSON object.", 422)
            options.update(extra)
        return files, options

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
