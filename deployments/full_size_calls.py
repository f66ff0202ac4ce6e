"""The styles ingress's full-size painting (size "full"): the photo decoded at its own size (up to the decoder's
pixel limit), painted by its deployment tile by tile (deployments/full_size.py), progress streamed back."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping


from deployments.calls import relayed
from deployments.metrics import Measured
from deployments.requests import FastParams, PresetParams, is_full, validated
from deployments.style_vector import one_style
from models.limits import FULL_DECODE_SIDE
from models.tensors import to_array


class FullSizeCalls:
    """StylesIngress's stream methods (the bot's; HTTP's size=full returns their result)."""

    async def stylize_stream(self, preset: str, image: bytes, fmt: str = "JPEG", size: int | str | None = None,
                             strength: float = 1.0, keep_colors: bool = False) -> AsyncIterator[dict]:
        """`stylize` as events: at size "full" {"type": "progress", "done", "total"} after each tile, then
        {"type": "result", "image": bytes}; at any other size the result only."""
        if not is_full(size):
            yield {"type": "result", "image": await self.stylize(preset, image, fmt, size, strength, keep_colors)}
            return
        with Measured("preset"):
            generator = self._generator(preset).options(stream=True)
            params = validated(PresetParams, {"size": size, "strength": strength, "keep_colors": keep_colors})
            img = to_array(await self._decode(image, FULL_DECODE_SIDE))
            stream = generator.stylize_full.remote(img, fmt, params.strength, params.keep_colors,
                                                   style=self.preset_styles.get(preset))
            async for event in relayed(stream, "preset"):
                yield event

    async def fast_stream(self, content: bytes, style: bytes | None, options: dict | None = None,
                          fmt: str = "JPEG") -> AsyncIterator[dict]:
        """`fast` as events, as stylize_stream's."""
        if not (isinstance(options, Mapping) and is_full(options.get("size"))):
            yield {"type": "result", "image": await self.fast(content, style, options, fmt)}
            return
        with Measured("fast"):
            params = validated(FastParams, options)
            fast = self._fast().options(stream=True)
            vector = one_style(style, params.style_vector)
            c = to_array(await self._decode(content, FULL_DECODE_SIDE))
            s = await self._style_input(style, vector)
            stream = fast.stylize_full.remote(c, s, fmt, params.strength, params.keep_colors)
            async for event in relayed(stream, "fast"):
                yield event
