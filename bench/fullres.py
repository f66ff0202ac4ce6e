"""Full resolution (#25): time, peak memory and seams of models/fullres against the whole-image path.

For each engine (the vangogh preset generator, the multi-style network, the arbitrary network with a fixed
style) and each size (megapixels, 3:2; tests/data/kodim23.jpg upscaled, strip by strip so the input costs its
3 bytes a pixel and no more): one fresh process per case, so cases do not share memory, reporting
- seconds of the painting (the thumbnail pass included) and seconds per megapixel against 1 MP,
- peak resident memory (ru_maxrss of the child: torch, weights, the photo, the painting, the activations),
- the seam peak at the tile borders (models/fullres/seams.py; the whole-image painting measured at the same
  borders as the control).
The whole-image path runs as the baseline in the same run, at 1024 px long side too (the memory reference), until
it runs out of memory: each child may allocate at most --mem-limit-gb (RLIMIT_DATA; the 2-core VM has 23 GB
shared with others), and a size it cannot paint ends the whole-image path for that engine.

Then the sheet, bench/fullres_sheet.jpg: for each engine, 1:1 crops around the tile-border crossing nearest the
centre of a --sheet-mp painting: tiled with the thumbnail's statistics, tiled with each tile's own, whole.

    nice -n 10 .venv/bin/python bench/fullres.py [--sizes 1,6,12,24,48] [--engines generator,multistyle,arbitrary]
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sheets  # noqa: E402

PHOTO = ROOT / "tests" / "data" / "kodim23.jpg"
SHEET = ROOT / "bench" / "fullres_sheet.jpg"
ENGINES = {  # name: (weights, adapter, style, fixed styles)
    "generator": ("stylebot_vangogh", "stylebot", None, None),
    "multistyle": ("multistyle26", "multistyle", 3, None),
    "arbitrary": ("fast_transform", "arbitrary", "style_vangogh", ["style_vangogh"]),
}
CROP = 256


def make_photo(mp: float | None, long_side: int | None = None) -> np.ndarray:
    """kodim23 (3:2) upscaled to `mp` megapixels (or to `long_side`), bicubic, made 64 rows at a time."""
    src = Image.open(PHOTO).convert("RGB")
    w = long_side or round(math.sqrt(mp * 1e6 * 1.5))
    h = round(w / 1.5)
    out = np.empty((h, w, 3), np.uint8)
    sy = src.height / h
    for a in range(0, h, 64):
        b = min(h, a + 64)
        out[a:b] = np.asarray(src.resize((w, b - a), Image.BICUBIC, box=(0, a * sy, src.width, b * sy)))
    return out


def load_engine(name: str):
    from models import loading
    from models.weights_store import WeightsStore

    weights, adapter, style, styles = ENGINES[name]
    runner = loading.load_runner(WeightsStore(), weights, adapter, styles=styles)
    return runner, style


def paint_whole(runner, style, photo: np.ndarray) -> np.ndarray:
    from models.tensors import from_array

    y = runner.for_style(style)(from_array(photo))
    return y.clamp(0, 1).mul(255).round().to(__import__("torch").uint8).permute(1, 2, 0).numpy()


def child(engine: str, mp: float, path: str, tile: int, limit_gb: float, long_side: int | None) -> dict:
    """One case in this process: the painting's time, this process's peak RSS, the seam peak."""
    from models.fullres import FullResPainter, borders, seam_peak

    resource.setrlimit(resource.RLIMIT_DATA, (int(limit_gb * 2 ** 30),) * 2)
    runner, style = load_engine(engine)
    painter = FullResPainter.for_runner(runner, style, tile=tile)
    photo = make_photo(mp, long_side)
    h, w = photo.shape[:2]
    try:
        seconds, cpu = [], []
        for _ in range(2 if h * w <= 1.1e6 else 1):   # the 1 MP time is every ratio's reference: the best of two
            t, c = time.perf_counter(), cpu_seconds()
            out = painter(photo) if path == "tiled" else paint_whole(runner, style, photo)
            seconds.append(time.perf_counter() - t)
            cpu.append(cpu_seconds() - c)
    except (MemoryError, RuntimeError) as e:
        if "alloc" not in str(e) and not isinstance(e, MemoryError):
            raise
        return dict(engine=engine, path=path, mp=mp, w=w, h=h, oom=True, rss_mb=max_rss_mb())
    rows, cols = borders(painter.tiles(h, w))
    return dict(engine=engine, path=path, mp=mp, w=w, h=h, oom=False, seconds=min(seconds), cpu_s=min(cpu),
                rss_mb=max_rss_mb(), seam=seam_peak(out, rows, cols), tiles=len(painter.tiles(h, w)), margin=painter.margin)


def cpu_seconds() -> float:
    """CPU seconds of this process, all threads: the time that holds on a VM shared with other people's runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def max_rss_mb() -> float:
    """This process's peak RSS. ru_maxrss, checked against VmHWM: Linux carries the parent's peak into a child's
    ru_maxrss across fork and exec, so the parent runs the cases before it imports torch (the sheet comes last)
    and stays far below any case's peak."""
    hwm = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM:"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if abs(rss - hwm) > 0.05 * hwm:
        print(f"ru_maxrss {rss} kB differs from VmHWM {hwm} kB: the parent's peak leaked in", file=sys.stderr)
    return hwm / 1024


def run_case(args, engine: str, mp: float, path: str, long_side: int | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", engine, str(mp), path, "--tile", str(args.tile),
           "--mem-limit-gb", str(args.mem_limit_gb)] + (["--long-side", str(long_side)] if long_side else [])
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        return dict(engine=engine, path=path, mp=mp, oom=True, error=done.stderr.strip().splitlines()[-1:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def run_engine(args, engine: str) -> list[dict]:
    results = [run_case(args, engine, 0, "whole", long_side=1024)]
    whole_fits = True
    for mp in args.sizes:
        results.append(run_case(args, engine, mp, "tiled"))
        if whole_fits:
            results.append(run_case(args, engine, mp, "whole"))
            whole_fits = not results[-1]["oom"]
    return results


def table(engine: str, results: list[dict], tile: int) -> list[str]:
    ref = next(r for r in results if r["path"] == "whole" and r["mp"] == 0)
    tiled = {r["mp"]: r for r in results if r["path"] == "tiled"}
    whole = {r["mp"]: r for r in results if r["path"] == "whole" and r["mp"]}
    one = tiled.get(min(tiled)) if tiled else None
    lines = [f"{engine} (margin {one['margin'] if one else '?'} px, {tile} px cores); whole image at 1024 px: "
             f"{ref['seconds']:.1f} s ({ref['cpu_s']:.1f} CPU s), {ref['rss_mb']:.0f} MB", "",
             "| MP | tiles | tiled s (CPU s) | CPU s/MP vs 1 MP | tiled peak MB | seam tiled | whole s (CPU s) | "
             "whole peak MB | seam whole |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    per_mp = one["cpu_s"] / one["mp"] if one else None
    for mp, t in sorted(tiled.items()):
        wr = whole.get(mp)
        w_cells = ("out of memory", f"> {wr['rss_mb']:.0f}", "") if wr and wr["oom"] else \
            (f"{wr['seconds']:.1f} ({wr['cpu_s']:.1f})", f"{wr['rss_mb']:.0f}", f"{wr['seam']:.2f}") if wr \
            else ("not run",) * 3
        lines.append(f"| {mp:g} | {t['tiles']} | {t['seconds']:.1f} ({t['cpu_s']:.1f}) | "
                     f"{t['cpu_s'] / mp / per_mp:.2f} | {t['rss_mb']:.0f} | {t['seam']:.2f} | "
                     + " | ".join(w_cells) + " |")
    return lines + [""] + verdicts(ref, tiled, per_mp) + [""]


def verdicts(ref: dict, tiled: dict, per_mp: float | None) -> list[str]:
    out = []
    for mp in (24, 48):
        if mp in tiled:
            t = tiled[mp]
            out.append(f"- {mp} MP: peak {t['rss_mb']:.0f} MB = {t['rss_mb'] / ref['rss_mb']:.2f}x the 1024 px "
                       f"whole-image peak; CPU time {t['cpu_s'] / (mp * per_mp):.2f}x {mp} times the 1 MP time")
    return out


def crossing(painter, h: int, w: int) -> tuple[int, int]:
    """The tile-border crossing nearest the image's centre."""
    from models.fullres import borders

    rows, cols = borders(painter.tiles(h, w))
    return min(rows, key=lambda y: abs(y - h / 2)), min(cols, key=lambda x: abs(x - w / 2))


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 255)


def shrunk(a: np.ndarray, long_side: int = 1024) -> np.ndarray:
    from models.fullres import thumbnail

    return (thumbnail(a, long_side).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def sheet_row(args, engine: str) -> tuple[tuple[str, list[Image.Image]], str]:
    """The engine's three crops at one crossing, and a line of numbers: seam peaks, the tiled painting against
    the whole one at full size, and both shrunk to 1024 px against the 1024 px painting."""
    from models.fullres import FullResPainter, borders, seam_peak

    runner, style = load_engine(engine)
    painter = FullResPainter.for_runner(runner, style, tile=args.tile)
    photo = make_photo(args.sheet_mp)
    h, w = photo.shape[:2]
    images = {"tiled": painter(photo), "naive": painter(photo, thumbnail_stats=False),
              "whole": paint_whole(runner, style, photo)}
    small = paint_whole(runner, style, shrunk(photo))
    y, x = crossing(painter, h, w)
    crops = [Image.fromarray(images[k][y - CROP // 2:y + CROP // 2, x - CROP // 2:x + CROP // 2])
             for k in ("tiled", "naive", "whole")]
    rows, cols = borders(painter.tiles(h, w))
    seams = ", ".join(f"{k} {seam_peak(v, rows, cols):.2f}" for k, v in images.items())
    line = (f"- {engine}, {w}x{h}: seam peak {seams}; MAD tiled vs whole {mad(images['tiled'], images['whole']):.3f} "
            f"(each tile's own statistics: {mad(images['naive'], images['whole']):.3f}); shrunk to 1024 px vs "
            f"the 1024 px painting: tiled {mad(shrunk(images['tiled']), small):.3f}, "
            f"whole {mad(shrunk(images['whole']), small):.3f}")
    return (f"{engine}: border crossing at x={x}, y={y}, the centre of each crop", crops), line


def make_sheet(args) -> list[str]:
    rows, lines = [], []
    for engine in args.engines:
        row, line = sheet_row(args, engine)
        rows.append(row)
        lines.append(line)
        print(line, flush=True)
    heads = ["tiled, thumbnail statistics", "tiled, each tile's own", "whole image"]
    sheets.contact_sheet(rows, SHEET, heads, CROP, quality=90)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,6,12,24,48", help="megapixels, comma-separated")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--tile", type=int, default=512, help="core px of a tile")
    ap.add_argument("--mem-limit-gb", type=float, default=8.0, help="what one child may allocate (RLIMIT_DATA)")
    ap.add_argument("--sheet-mp", type=float, default=3.0)
    ap.add_argument("--no-sheet", action="store_true")
    ap.add_argument("--sheet-only", action="store_true")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "MP", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--long-side", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        engine, mp, path = args.child
        print(json.dumps(child(engine, float(mp), path, args.tile, args.mem_limit_gb, args.long_side)))
        return
    args.sizes = [float(s) for s in args.sizes.split(",")]
    args.engines = args.engines.split(",")
    report = []
    for engine in [] if args.sheet_only else args.engines:
        report += table(engine, run_engine(args, engine), args.tile)
    report += [] if args.no_sheet else make_sheet(args)
    print("\n".join(report))


if __name__ == "__main__":
    main()
