"""The styles ingress's clips: `video` checks a clip against the service's limits before any painting, records
its norm statistics on a model replica from a few key frames, then paints it chunk by chunk
(deployments/clip_job.py) with a preset's generator or the quick own-style network. Gatys NST is not offered for
clips: at minutes a frame, a ten-second clip would take a day."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from deployments.calls import one_pass
from models.video.clip_job import ClipJob
from deployments.http_errors import BadInput
from deployments.metrics import Measured
from deployments.requests import VideoParams, validated
from deployments.style_vector import one_style
from models.error_codes import ErrorCode
from models.video.clip import ClipError, ClipInfo, NotAVideo, frames_at, over_limits, probe
from models.video.steady import key_frame_indices


def from_clip_error(e: ClipError) -> BadInput:
    return BadInput(e.code, e.message, 415 if isinstance(e, NotAVideo) else 422)


def check_limits(info: ClipInfo) -> None:
    """Refuse a clip the service will not paint, before any work, saying what the limit is."""
    problem = over_limits(info)
    if problem is not None:
        raise BadInput(ErrorCode.VIDEO_TOO_LONG, problem, 422)


class VideoCalls:
    """StylesIngress's clip method (the bot's; HTTP's POST /v1/video/{preset} and /v1/fast/video call it)."""

    async def _probe(self, data: bytes) -> ClipInfo:
        try:
            info = await asyncio.to_thread(probe, data)
        except ClipError as e:
            raise from_clip_error(e) from None
        check_limits(info)
        return info

    async def _key_frames(self, data: bytes, info: ClipInfo, size: tuple[int, int]) -> list[np.ndarray]:
        try:
            return await asyncio.to_thread(frames_at, data, key_frame_indices(info.frames), size)
        except ClipError as e:
            raise from_clip_error(e) from None

    async def video(self, data: bytes, preset: str | None = None, style: bytes | None = None,
                    options: dict | None = None) -> AsyncIterator[dict]:
        """Paint a clip with `preset`, or (preset None) in the style of `style` (an image, or options'
        `style_vector`) with the quick network. Events: {"type": "progress", "done", "total"} frames, then
        {"type": "result", "video": MP4 bytes, "width", "height", "fps", "frames", "has_audio"}. Options: size
        (the long side painted), strength, keep_colors, steady. Raises ServiceError for a bad clip or overload."""
        with Measured("video"):
            params = validated(VideoParams, options)
            handle, kwargs, style_args, what = await self._video_target(preset, style, params)
            info = await self._probe(data)
            size = info.painted_size(params.size)
            keys = await self._key_frames(data, info, size)
            clip = await one_pass(what, f"{what} clip", "painting service",
                                  lambda: handle.clip_stats.remote(keys, *style_args, params.strength))

            async def paint_chunk(frames: list[np.ndarray]) -> list[np.ndarray]:
                return await one_pass(what, f"{what} clip", "painting service", lambda: handle.paint_frames.remote(
                    frames, clip, params.strength, params.keep_colors, steady=params.steady, **kwargs))

            job = ClipJob(data, info, size, paint_chunk, params.steady)
            try:
                async for event in job.events():
                    yield event
            except ClipError as e:
                raise from_clip_error(e) from None

    async def _video_target(self, preset: str | None, style: bytes | None, params: VideoParams) -> tuple:
        """(handle, paint_frames's keywords, clip_stats's style arguments, metrics target) for the clip."""
        if preset is not None:
            if params.style_vector is not None:
                raise BadInput(ErrorCode.BAD_OPTION, "Option 'style_vector' is for clips painted in your own style "
                                                     "(POST /v1/fast/video); a preset has its own style.", 422)
            style_index = self.preset_styles.get(preset)
            handle = self._generator(preset)
            return handle, {"style": style_index}, (style_index,), preset
        fast = self._fast()
        vector = one_style(style, params.style_vector)
        return fast, {}, (await self._style_input(style, vector),), "fast"
