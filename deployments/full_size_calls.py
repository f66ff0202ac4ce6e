"""The styles ingress's full-size painting (size "full"): the photo decoded at its own size (up to the decoder's
pixel limit), painted by its deployment tile by tile (deployments/full_size.py), progress streamed back. A photo
no larger than the service's preset size is painted whole, in a batch with the other requests, as before."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import numpy as np

from deployments.calls import one_pass, relayed
from deployments.metrics import Measured
from deployments.requests import FastParams, PresetParams, is_full, validated
from deployments.style_vector import one_style
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
            async for event in relayed(stream, "preset"):
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
            async for event in relayed(fast.options(stream=True).stylize_full.remote(*args), "fast"):
                yield event
