"""Reading a clip (MP4, WebM, MOV, GIF...) with PyAV, whose wheels ship their own FFmpeg: what it is
(`probe`), and its frames upright and shrunk to the size they are painted at (`read_frames`).

Every failure is a ClipError whose message can be shown to the person who sent the file and whose `code` a
client can act on, as models.images does for photos.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from models.error_codes import ErrorCode
from models.limits import MAX_CLIP_FRAMES, MAX_CLIP_PIXEL_RATE, MAX_CLIP_SECONDS

ALIGN = 4   # painted frames are a multiple of this on each side: the generators' two stride-2 steps, and yuv420p


class ClipError(ValueError):
    code = ErrorCode.UNREADABLE_VIDEO

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAVideo(ClipError):
    code = ErrorCode.NOT_A_VIDEO


class EmptyClip(ClipError):
    code = ErrorCode.EMPTY_VIDEO


@dataclass(frozen=True)
class ClipInfo:
    width: int          # as shown: after the rotation the file asks for
    height: int
    fps: Fraction
    frames: int         # counted by decoding, so a file's wrong header does not matter
    duration_s: float
    rotation: int       # degrees counter-clockwise the stored frames are turned to show them (0, 90, 180, 270)
    has_audio: bool
    codec: str

    def painted_size(self, long_side: int) -> tuple[int, int]:
        """(width, height) of the painted frames: the long side at most `long_side`, each a multiple of ALIGN."""
        s = min(1.0, long_side / max(self.width, self.height))
        return (max(ALIGN, round(self.width * s / ALIGN) * ALIGN),
                max(ALIGN, round(self.height * s / ALIGN) * ALIGN))


def over_limits(info: ClipInfo) -> str | None:
    """Why the service will not paint this clip (too long, too many frames, too many pixels a second to decode),
    in words fit to show the person; None when it will."""
    if info.duration_s > MAX_CLIP_SECONDS + 0.5 or info.frames > MAX_CLIP_FRAMES:
        return (f"The clip is {info.duration_s:.0f} s long ({info.frames} frames); at most {MAX_CLIP_SECONDS} s and "
                f"{MAX_CLIP_FRAMES} frames are painted. Please trim it and send it again.")
    if info.width * info.height * float(info.fps) > MAX_CLIP_PIXEL_RATE:
        return (f"The clip is {info.width}x{info.height} at {float(info.fps):.0f} frames per second: more than 1080p "
                "at 60 frames per second. Please send a smaller or slower clip.")
    return None


def _open(data: bytes):
    if not data:
        raise EmptyClip("The file is empty. Please send the video again.")
    try:
        container = av.open(io.BytesIO(data), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise NotAVideo("This file is not a video I can read. Please send an MP4, a GIF or a WebM clip.") from None
    except (av.error.FFmpegError, OSError):
        raise ClipError("The video could not be read; it may be damaged. Please send it again.") from None
    if not container.streams.video:
        container.close()
        raise NotAVideo("This file has no pictures in it. Please send a video or a GIF.")
    return container


def _upright(frame, rotation: int, size: tuple[int, int] | None) -> np.ndarray:
    """One decoded frame as (H, W, 3) uint8 RGB, turned as the file asks, resized to `size` (w, h, as shown)."""
    if size is not None and rotation in (90, 270):
        size = (size[1], size[0])   # the stored frame is the shown one on its side
    width, height = size if size is not None else (frame.width, frame.height)
    if frame.format.has_palette or len(frame.format.components) in (2, 4):   # a GIF's, or a WebM's alpha
        rgba = frame.to_ndarray(format="rgba", width=width, height=height).astype(np.float32)
        alpha = rgba[..., 3:] / 255
        rgb = (rgba[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)   # transparency onto white
    else:
        rgb = frame.to_ndarray(format="rgb24", width=width, height=height)
    return np.ascontiguousarray(np.rot90(rgb, k=rotation // 90)) if rotation else rgb


def _rotation(frame) -> int:
    return int(round(getattr(frame, "rotation", 0) or 0)) % 360 // 90 * 90


def _decoded(container) -> Iterator:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    try:
        yield from container.decode(stream)
    except av.error.FFmpegError:
        raise ClipError("The video stops partway: it may be damaged or cut off. Please send it again.") from None


def _frame_count(container, stream) -> int:
    """How many frames the clip has: its packets, counted without decoding them (a header's count may lie)."""
    count = 0
    try:
        for packet in container.demux(stream):
            count += packet.size > 0
    except av.error.FFmpegError:
        raise ClipError("The video stops partway: it may be damaged or cut off. Please send it again.") from None
    return count


def probe(data: bytes) -> ClipInfo:
    """What the clip is, from its header, its first frame (size and rotation) and a count of its packets: cheap
    enough to refuse a clip over the limits before any painting. ClipError when it cannot be read."""
    container = _open(data)
    try:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        first = next(iter(_decoded(container)), None)
        if first is None and stream.frames:   # the header lists frames that are not there
            raise ClipError("The video could not be read; it may be damaged or cut off. Please send it again.")
        if first is None:
            raise EmptyClip("The video has no frames. Please send another one.")
        container.seek(0)
        count = max(1, _frame_count(container, stream))
        if stream.frames and count < stream.frames:   # the index lists frames the file no longer holds
            raise ClipError("The video is cut off: it holds fewer frames than it lists. Please send it again.")
        rotation = _rotation(first)
        w, h = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
        return ClipInfo(w, h, Fraction(fps), count, count / float(fps), rotation, bool(container.streams.audio),
                        stream.codec_context.name)
    finally:
        container.close()


def _raw_frames(data: bytes) -> Iterator:
    container = _open(data)
    try:
        yield from _decoded(container)
    finally:
        container.close()


def read_frames(data: bytes, size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Every frame, upright, as (H, W, 3) uint8 RGB at `size` (width, height as shown; default the clip's own)."""
    for frame in _raw_frames(data):
        yield _upright(frame, _rotation(frame), size)


def frames_at(data: bytes, indices: list[int], size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """The frames at these positions (0-based, in decoding order), one pass, only those converted."""
    wanted, found = set(indices), {}
    for i, frame in enumerate(_raw_frames(data)):
        if i in wanted:
            found[i] = _upright(frame, _rotation(frame), size)
            if len(found) == len(wanted):
                break
    return [found[i] for i in indices if i in found]
