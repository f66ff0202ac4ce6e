"""`stylebot stylize CLIP --style NAME -o OUT.mp4` (or `--style-image ART --fast`): a clip painted on this machine,
steady from frame to frame, the same way the service paints it (deployments/clip_job.py), with a progress bar."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".gif"}


def wants_video(args) -> bool:
    """A clip in (not a still GIF) or an .mp4 out."""
    return Path(args.output).suffix.lower() == ".mp4" or (
        Path(args.photo).suffix.lower() in VIDEO_SUFFIXES - {".gif"})


def _painter(args, store, device, key_frames: list[np.ndarray], strength: float):
    """(paint, net, what): the network that paints the clip and its style (a preset, or the quick network)."""
    from models import loading
    from models.fullres import THUMB_SIDE, thumbnail
    from models.tensors import to_tensor
    from models.video.steady import strip
    from serve_app.cli_inputs import CliError, decode_input, preset_runner

    if args.style:
        runner, style, caption = preset_runner(args, store, device)
        return runner.for_style(style), runner.net, strength, caption
    if not args.fast:
        raise CliError("clips are painted with a preset (--style) or the quick network (--style-image ART --fast): "
                       "the Gatys optimiser would take minutes a frame")
    model = loading.load_fast(store, device)
    art = to_tensor(decode_input(args.style_image, 768))
    vector = model.mixed_vector(model.style_vector(art), lambda: thumbnail(strip(key_frames), THUMB_SIDE), strength)
    return model.transformer.for_style(vector), model.transformer.net, 1.0, f"the style of {Path(args.style_image).name}"


def cmd_stylize_video(args, store, device) -> str:
    """Paint args.photo (a clip) into args.output (.mp4); returns a line saying what was written."""
    from models.video.clip_job import ClipJob
    from models.limits import MAX_VIDEO_SIDE, VIDEO_SIDE
    from models.video.clip import ClipError, frames_at, over_limits, probe
    from models.video.steady import SteadyPainter, key_frame_indices
    from serve_app.cli_inputs import CliError, read_input
    from serve_app.progress import ProgressBar

    if Path(args.output).suffix.lower() != ".mp4":
        raise CliError(f"{args.output}: a painted clip is written as .mp4")
    started, data = time.monotonic(), read_input(args.photo)
    side = VIDEO_SIDE if args.size is None else args.size
    if not isinstance(side, int) or side > MAX_VIDEO_SIDE:
        raise CliError(f"--size for a clip is a number of pixels up to {MAX_VIDEO_SIDE}")
    strength = 1.0 if args.strength is None else args.strength
    if strength > 1:
        raise CliError(f"--strength for a clip is between 0 and 1, not {strength:g}")
    try:
        info = probe(data)
        if (problem := over_limits(info)) is not None:
            raise CliError(f"{args.photo}: {problem}")
        size = info.painted_size(side)
        keys = frames_at(data, key_frame_indices(info.frames), size)
    except ClipError as e:
        raise CliError(f"{args.photo}: {e.message}") from None
    paint, net, finish_strength, what = _painter(args, store, device, keys, strength)
    steady = SteadyPainter(net)
    stats = steady.record(paint, keys)

    async def paint_chunk(frames):
        return await asyncio.to_thread(steady.paint, paint, frames, stats, finish_strength, args.keep_colors)

    video = asyncio.run(_run(ClipJob(data, info, size, paint_chunk), ProgressBar("frames")))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(video)
    return (f"wrote {out} ({size[0]}x{size[1]}, {info.frames} frames at {float(info.fps):g} fps"
            f"{', with sound' if info.has_audio else ''}, {what}, {time.monotonic() - started:.1f}s on {device})")


async def _run(job, bar) -> bytes:
    try:
        async for event in job.events():
            if event["type"] == "progress":
                bar.update(event["done"], event["total"])
            else:
                return event["video"]
    finally:
        bar.close()
    raise RuntimeError("the clip ended without a result")
