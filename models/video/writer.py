"""Writing a painted clip: H.264 in MP4 (what Telegram plays inline for animations, videos and video notes), at
the source's frame rate, with the source's sound copied across (re-encoded as AAC when MP4 cannot hold it)."""
from __future__ import annotations

import io
import os
import tempfile
from fractions import Fraction

import av
import numpy as np

CRF = 20            # visually clean for painted textures, which a higher CRF smears first
PRESET = "veryfast"


COPIED = ("aac", "mp3", "opus", "alac", "flac", "ac3")   # audio codecs MP4 holds as they are


class ClipWriter:
    """`writer.add(frame)` for each (H, W, 3) uint8 frame, then `writer.finish()` -> the MP4's bytes.
    `audio_from`: the source clip, whose first audio track goes into the MP4 (its streams are all declared before
    the first frame is written: MP4's header lists them)."""

    def __init__(self, width: int, height: int, fps: Fraction, audio_from: bytes | None = None):
        # a real file: faststart (the index before the frames, so a player starts at once) rewrites it by name
        handle, self.path = tempfile.mkstemp(suffix=".mp4", prefix="stylebot-clip-")
        os.close(handle)
        self.out = av.open(self.path, "w", format="mp4", options={"movflags": "+faststart"})
        self.video = self.out.add_stream("libx264", rate=fps)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.options = {"crf": str(CRF), "preset": PRESET}
        self.time_base = Fraction(1) / Fraction(fps)
        self.audio = AudioTrack(audio_from, self.out) if audio_from is not None else None
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        picture.pts, picture.time_base = self.frames, self.time_base
        self.frames += 1
        for packet in self.video.encode(picture):
            self.out.mux(packet)

    def finish(self) -> bytes:
        for packet in self.video.encode():
            self.out.mux(packet)
        if self.audio is not None:
            self.audio.write()
        try:
            self.out.close()
            with open(self.path, "rb") as f:
                return f.read()
        finally:
            os.unlink(self.path)

    def close(self) -> None:
        """Let go of everything without writing (a painting stopped partway)."""
        if self.audio is not None:
            self.audio.source.close()
        try:
            self.out.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)


class AudioTrack:
    """The source's first audio track, declared in `out` at once and written by `write()`: its packets as they
    are when MP4 takes the codec, else decoded and re-encoded as AAC."""

    def __init__(self, source: bytes, out):
        self.source = av.open(io.BytesIO(source), metadata_errors="ignore")
        self.out = out
        self.track = self.source.streams.audio[0] if self.source.streams.audio else None
        self.copy = self.track is not None and self.track.codec_context.name in COPIED
        if self.track is None:
            self.target = None
        elif self.copy:
            self.target = out.add_stream_from_template(self.track)
        else:
            self.target = out.add_stream("aac", rate=self.track.codec_context.sample_rate or 48000)

    def write(self) -> None:
        try:
            if self.track is not None:
                self._copy() if self.copy else self._reencode()
        finally:
            self.source.close()

    def _copy(self) -> None:
        for packet in self.source.demux(self.track):
            if packet.dts is not None:   # the demuxer's empty flush packet
                packet.stream = self.target
                self.out.mux(packet)

    def _reencode(self) -> None:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=self.target.rate)
        for frame in self.source.decode(self.track):
            for piece in resampler.resample(frame):
                for packet in self.target.encode(piece):
                    self.out.mux(packet)
        for packet in self.target.encode():
            self.out.mux(packet)
