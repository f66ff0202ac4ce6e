"""The styles ingress's full-size painting (size "full"): the photo decoded at its own size (up to the decoder's
pixel limit), painted by its deployment tile by tile (deployments/full_size.py), progress streamed back. A photo
no larger than the service's preset size is painted whole, in a batch with the other requests, as before."""
from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing

import numpy as np
from PIL import Image

from deployments.calls import one_pass, relayed, result_of
from deployments.metrics import Measured
from deployments.requests import FastParams, PresetParams, is_full, validated
from deployments.style_vector import one_style
from models.fullres.enlarge import with_painted_detail
from models.images import encode_image
from models.limits import FULL_DECODE_SIDE
from models.tensors import to_array


def result(image: bytes) -> dict:
    return {"type": "result", "image": image}


class FullSizeCalls:
    """StylesIngress's stream methods (the bot's; HTTP's size=full returns their result)."""

    def _whole(self, img: np.ndarray) -> bool:
        return max(img.shape[:2]) <= self.preset_max_side

    async def stylize_stream(self, preset: str, image: bytes, fmt: str = "JPEG", size: int | str | None = None,
                             strength: float = 1.0, keep_colors: bool = False) -> AsyncIterator[dict]:
        """`stylize` as events: at size "full" {"type": "progress", "done", "total"} after each tile, then
        {"type": "result", "image": bytes}; at any other size the result only."""
        if not is_full(size):
            yield result(await self.stylize(preset, image, fmt, size, strength, keep_colors))
            return
        with Measured("preset"):
            generator = self._generator(preset)
            params = validated(PresetParams, {"size": size, "strength": strength, "keep_colors": keep_colors})
            img = to_array(await self._decode(image, FULL_DECODE_SIDE))
            finishing = params.strength, params.keep_colors
            if self._whole(img):
                yield result(await self._paint(preset, img, fmt, finishing))
                return
            stream = generator.options(stream=True).stylize_full.remote(img, fmt, *finishing,
                                                                        style=self.preset_styles.get(preset))
            async with aclosing(relayed(stream, "preset")) as events:  # closed with us: the painting stops
                async for event in events:
                    yield event

    async def fast_stream(self, content: bytes, style: bytes | None, options: dict | None = None,
                          fmt: str = "JPEG") -> AsyncIterator[dict]:
        """`fast` as events, as stylize_stream's."""
        if not (isinstance(options, Mapping) and is_full(options.get("size"))):
            yield result(await self.fast(content, style, options, fmt))
            return
        with Measured("fast"):
            fast = self._fast()
            params = validated(FastParams, options)
            vector = one_style(style, params.style_vector)
            c = to_array(await self._decode(content, FULL_DECODE_SIDE))
            args = (c, await self._style_input(style, vector), fmt, params.strength, params.keep_colors)
            if self._whole(c):
                yield result(await one_pass("fast", "fast style", "quick painter", lambda: fast.stylize.remote(*args)))
                return
            async with aclosing(relayed(fast.options(stream=True).stylize_full.remote(*args), "fast")) as events:
                async for event in events:
                    yield event

    async def _at_full_size(self, event: dict, content: bytes, style: bytes, fmt: str, keep_colors: bool) -> dict:
        """An NST result event brought to the photo's own size (models/fullres/enlarge.py): the optimiser's picture
        up to its own scale, and above it the detail of the fast model's full-size painting of the photo in the
        same style. Without the fast model, or for a photo no larger than the result, the event as it is."""
        photo = to_array(await self._decode(content, FULL_DECODE_SIDE))
        small = np.asarray(Image.open(io.BytesIO(event["image"])).convert("RGB"))
        if self.fast_handle is None or max(photo.shape[:2]) <= max(small.shape[:2]):
            return event
        s = await self._style_input(style, None)
        stream = self.fast_handle.options(stream=True).stylize_full.remote(photo, s, "PNG", 1.0, keep_colors)
        painted = await result_of(relayed(stream, "fast"))

        def enlarge() -> bytes:
            detail = np.asarray(Image.open(io.BytesIO(painted)).convert("RGB"))
            return encode_image(Image.fromarray(with_painted_detail(small, detail)), fmt)

        return {**event, "image": await asyncio.to_thread(enlarge)}
