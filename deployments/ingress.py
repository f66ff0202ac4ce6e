"""The "styles" application's ingress: validates input once (deployments/requests.py's models), dispatches to the
NST optimizer, a preset's generator or the fast model (deployments/calls.py's policy), maps overload to 503. Python
callers (the bot) use its handle methods; everyone else uses HTTP, FastAPI routes (deployments/http_routes.py)
that call the same methods."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
from contextlib import aclosing
from collections.abc import AsyncIterator, Mapping

import numpy as np
from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.access import AccessPolicy, use_policy
from deployments.calls import one_pass, relayed, result_of
from deployments.full_size_calls import FullSizeCalls
from deployments.video_calls import VideoCalls
from deployments.http_api import api
from deployments.http_errors import BadInput, ServiceError, UnknownStyle, busy, from_image_error
from deployments.http_routes import StylesRoutes
from deployments.studio_routes import StudioRoutes
from deployments.metrics import Measured
from deployments.requests import FastParams, NSTParams, PresetParams, is_full, validated
from deployments.style_vector import one_style
from models.error_codes import ErrorCode
from models.images import ImageError, ImageLimits, decode_image, shrink
from models.limits import FULL, MAX_SIDE
from models.nst.options import MIN_SIDE
from models.tensors import fit_long_side, to_array

logger = logging.getLogger("ray.serve")
FAST_STYLE_SIDE = 512  # px: a style image is shrunk to this before the ingress sends it (the model sees 256)


def style_side_for(content_size: tuple[int, int], style_size: tuple[int, int], side: int, style_scale: float) -> int:
    """The long side the style image needs for a job: the optimizer resizes it to the content's area at `side`
    times style_scale^2 (sizes are PIL's (w, h))."""
    ch, cw = fit_long_side((content_size[1], content_size[0]), side)
    sw, sh = style_size
    return max(MIN_SIDE, math.ceil(max(sw, sh) * math.sqrt(ch * cw * style_scale ** 2 / (sw * sh))))


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


@serve.deployment
@serve.ingress(api)
class StylesIngress(StylesRoutes, StudioRoutes, FullSizeCalls, VideoCalls):
    def __init__(self, nst: DeploymentHandle | None, generators: dict[str, DeploymentHandle], styles: list[dict],
                 preset_max_side: int = MAX_SIDE, nst_max_side: int = MAX_SIDE, nst_max_steps: int = 1000,
                 preset_styles: dict[str, int] | None = None, fast: DeploymentHandle | None = None,
                 access_env: dict[str, str] | None = None):
        """`generators`: preset -> its generator deployment; `preset_styles`: preset -> style index, for the
        presets of a network that paints several styles (they share one deployment); `fast`: the fast
        arbitrary-style deployment, when it is served; `access_env`: access settings over the process
        environment's, like the bot's `env` (not a runtime_env: Ray logs those in plain text)."""
        use_policy(AccessPolicy.from_env({**os.environ, **(access_env or {})}))   # keys and limits, when public
        self.nst_handle = nst.options(stream=True) if nst is not None else None
        self.fast_handle = fast
        self.generators = generators
        self.preset_styles = preset_styles or {}
        self.styles = styles
        self.group_of = {s["name"]: s.get("group", "main") for s in styles}
        self._sheet: bytes | None = None                       # deployments/studio_routes.py's
        self._thumbnails: dict[str, asyncio.Future] = {}
        self._sample: np.ndarray | None = None
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

    def _preset_side(self, size: int | str | None) -> int:
        """A preset's long side: `size` (checked by PresetParams or FastParams), at most the service's. "full" is
        painted by the stream methods (deployments/full_size_calls.py); an album of every style is at most the
        service's limit."""
        return self.preset_max_side if size in (None, FULL) else min(size, self.preset_max_side)

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
        if is_full(size):  # measured as the stream it is
            return await result_of(self.stylize_stream(preset, image, fmt, size, strength, keep_colors))
        with Measured("preset"):
            self._generator(preset)
            params = validated(PresetParams, {"size": size, "strength": strength, "keep_colors": keep_colors})
            img = await self._decode(image, self._preset_side(params.size))
            return await self._paint(preset, to_array(img), fmt, (params.strength, params.keep_colors))

    async def _paint(self, preset: str, img, fmt: str, finishing: tuple[float, bool] = (1.0, False)) -> bytes:
        """One generator call."""
        return await one_pass(
            preset, f"preset {preset}", f"{preset} style",
            lambda: self.generators[preset].stylize.remote(img, fmt, *finishing, style=self.preset_styles.get(preset)))

    async def stylize_all(self, image: bytes, fmt: str = "JPEG", size: int | None = None, strength: float = 1.0,
                          keep_colors: bool = False, group: str = "main") -> dict[str, bytes]:
        """Every available preset of a group ("main": the first page, "more": the "More styles" page) at once:
        {preset: image bytes}. A preset that fails is left out."""
        with Measured("all"):
            params = validated(PresetParams, {"size": size, "strength": strength, "keep_colors": keep_colors})
            finishing = params.strength, params.keep_colors
            names = [n for n in self.generators if self.group_of.get(n, "main") == group]
            if not names:
                raise UnknownStyle(ErrorCode.UNKNOWN_STYLE, f"No styles are available in the group {group!r}.")
            img = to_array(await self._decode(image, self._preset_side(params.size)))
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
        if isinstance(options, Mapping) and is_full(options.get("size")):  # measured as the stream it is
            return await result_of(self.fast_stream(content, style, options, fmt))
        with Measured("fast"):
            fast = self._fast()
            params = validated(FastParams, options)
            vector = one_style(style, params.style_vector)
            c = to_array(await self._decode(content, self._preset_side(params.size)))
            s = await self._style_input(style, vector)
            return await one_pass("fast", "fast style", "quick painter",
                                  lambda: fast.stylize.remote(c, s, fmt, params.strength, params.keep_colors))

    async def _style_input(self, style: bytes | None, vector: list[float] | None) -> np.ndarray:
        """What the fast deployment paints with: the decoded style image, or the style vector."""
        if vector is None:
            return to_array(await self._decode(style, FAST_STYLE_SIDE))
        return np.asarray(vector, np.float32)

    async def style_vector(self, style: bytes) -> list[float]:
        """The style vector of a style image (VECTOR_LENGTH numbers): `fast` paints the same with it as with
        the image. Raises ServiceError for a bad image, overload, or "fast_unavailable"."""
        with Measured("vector"):
            fast = self._fast()
            s = to_array(await self._decode(style, FAST_STYLE_SIDE))
            return await one_pass("fast", "style vector", "quick painter", lambda: fast.vector.remote(s))

    async def nst(self, content: bytes, style: bytes, options: dict | None = None,
                  fmt: str = "JPEG", previews: dict | None = None) -> AsyncIterator[dict]:
        """Stream {"type": "progress", ...} events, then {"type": "result", "image": bytes, ...}; with `previews`
        ({"every_s": 10, "max": 3}) also {"type": "preview", "step", "image": JPEG bytes}, the picture so far."""
        with Measured("nst") as measured:
            if self.nst_handle is None:
                raise UnknownStyle(ErrorCode.NST_UNAVAILABLE, "Painting with your own style image is unavailable right now.")
            params = validated(NSTParams, options, max_size=self.nst_max_side, max_steps=self.nst_max_steps)
            c = await self._decode(content, params.size)
            check_shape(c, params.size)  # NST scales small photos up to its size
            s = await self._decode(style, self.nst_max_side)
            side = style_side_for(c.size, s.size, params.size, params.style_scale)
            if side < max(s.size):
                s = await asyncio.to_thread(shrink, s, side)
            opts = params.model_dump(exclude_unset=True, exclude={"full_size"})  # the optimizer has its defaults
            gen = self.nst_handle.run.remote(to_array(c), to_array(s), opts, fmt,
                                             style_key=hashlib.sha256(style).hexdigest(), previews=previews)
            async with aclosing(relayed(gen, "nst")) as events:  # closed with us: the optimiser stops
                async for event in events:
                    if event["type"] == "result" and params.full_size:
                        event = await self._at_full_size(event, content, style, fmt, params.keep_colors)
                    if event["type"] == "result":
                        measured.end()  # counted before the caller takes it: closing us afterwards is no cancel
                    yield event
