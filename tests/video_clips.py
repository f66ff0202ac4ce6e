"""Real clips made in the tests with PyAV (FFmpeg in its wheel) and Pillow: a panning scene with a thing moving
across it, a GIF with a palette and transparency, a video with an audio track, a phone video stored on its side,
a damaged one and one over the service's limits."""
from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parent / "data"


def scene(width: int = 160, height: int = 120, frames: int = 12, pan: float = 1.0, seed: int = 0) -> list[np.ndarray]:
    """A photo (tests/data/kodim23.jpg) panned `pan` px a frame, a red disc crossing it, a little sensor noise."""
    photo = np.asarray(Image.open(DATA / "kodim23.jpg").convert("RGB").resize((width * 2, height * 2)), np.float32)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    out = []
    for t in range(frames):
        x = int(t * pan)
        frame = photo[height // 2:height // 2 + height, x:x + width] + rng.normal(0, 2, (height, width, 3))
        frame[(yy - height * 0.6) ** 2 + (xx - 10 - t * width / frames) ** 2 < (height / 6) ** 2] = (200, 40, 40)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


def mp4(frames: list[np.ndarray], fps: int = 12, audio_seconds: float = 0.0) -> bytes:
    """H.264 MP4 of the frames, with a 440 Hz AAC tone of `audio_seconds` when asked."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        audio = out.add_stream("aac", rate=44100) if audio_seconds else None
        for frame in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(video.encode())
        if audio is not None:
            _tone(out, audio, audio_seconds)
    return buf.getvalue()


def _tone(out, audio, seconds: float) -> None:
    rate, step = 44100, 1024
    t = np.arange(int(rate * seconds)) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for start in range(0, len(wave) - step, step):
        frame = av.AudioFrame.from_ndarray(wave[None, start:start + step], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        out.mux(audio.encode(frame))
    out.mux(audio.encode())


def gif(frames: list[np.ndarray], fps: int = 10) -> bytes:
    """An animated GIF (a 64-colour palette each frame) whose top-left quarter is transparent."""
    images = []
    for frame in frames:
        img = Image.fromarray(frame).quantize(64)
        pixels = np.array(img)
        pixels[: frame.shape[0] // 2, : frame.shape[1] // 2] = 255   # index 255: the transparent colour
        img = Image.fromarray(pixels, "P")
        img.putpalette(Image.fromarray(frame).quantize(64).getpalette()[:192] + [0] * (768 - 192))
        images.append(img)
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=1000 // fps, loop=0,
                   transparency=255, disposal=2)
    return buf.getvalue()


def rotated(data: bytes) -> bytes:
    """The MP4 as a phone stores a portrait video: the frames landscape, its track's matrix turning them 90
    degrees to show them (the 'tkhd' box, version 0)."""
    at = data.index(b"tkhd")
    matrix = at + 4 + 4 + 20 + 8 + 8   # after the box type: version/flags, times and ids, reserved, layer...volume
    turn = struct.pack(">9i", 0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)
    return data[:matrix] + turn + data[matrix + 36:]


def too_long(seconds: int = 70) -> bytes:
    """A tiny clip of `seconds` at one frame a second: over the 60 s limit, cheap to make."""
    return mp4([np.full((32, 32, 3), 40 * (i % 6), np.uint8) for i in range(seconds)], fps=1)


def damaged(data: bytes) -> bytes:
    """The clip cut off in the middle of its frames."""
    return data[: len(data) * 2 // 3]
