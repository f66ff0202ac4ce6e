"""Own style at full size (issue #25 item 4): the optimiser keeps its working size; which enlargement of its
result is better at the photo's own size?

- bicubic: the plain enlargement (the baseline);
- detail (style): models/fullres/enlarge.py's with_painted_detail: the NST result up to its own scale, and above
  it the high band of the arbitrary network's full-size painting of the photo (models/fullres, tile by tile) with
  the style image's style vector;
- detail (result): the same with the style vector of the NST result itself.

Photos: the --count largest photos of ../shared/images/photos that are not BSDS (long side 680-923 px; or pass
--photos DIR), each painted by Gatys NST at --side px (an enlargement of 4-6x, as 512 px to a 12 MP photo is) in
the style of one painting per artist of ../shared/images/paintings, in turn (or --paintings DIR).

Measured at the photo's size:
- sharpness: the mean gradient magnitude over the photo's (1: as crisp as the photo);
- detail: edge correlation with the photo at full size (models/structure.py): its shapes at full resolution;
- style: distance to the painting by two judges that share no network with the method (it uses VGG19 and
  Magenta's networks): bench/stats_judge.py (colour and texture statistics, no network) and bench/texture_judge.py
  (Gram matrices of a YOLOv8n backbone), on the whole picture and on its centre 320 px at 1:1 against the
  painting's own centre at 1024 px, each as a ratio over bicubic's (at most 1: no further from the style).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/nst_fullres.py   (about 10 minutes on 2 cores)
Writes bench/out/nst_fullres.json and bench/nst_fullres_sheet.jpg (1:1 crops).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from models import loading  # noqa: E402
from models.fullres import FullResPainter, thumbnail  # noqa: E402
from models.fullres.enlarge import bicubic, with_painted_detail  # noqa: E402
from models.nst import NSTOptions  # noqa: E402
from models.structure import edge_correlation, edge_magnitude  # noqa: E402
from models.tensors import to_array, to_pil, to_tensor  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402
from sheets import contact_sheet  # noqa: E402
from stats_judge import StatsJudge  # noqa: E402
from texture_judge import TextureJudge  # noqa: E402

SHARED = ROOT.parent / "shared" / "images"
METHODS = ("bicubic", "detail (style)", "detail (result)")
CROP = 320


def photos(folder: Path, count: int) -> list[Path]:
    found = [p for p in sorted(folder.iterdir()) if p.suffix.lower() in (".jpg", ".png") and "bsds" not in p.name]
    return sorted(found, key=lambda p: -max(Image.open(p).size))[:count]


def paintings(folder: Path) -> list[Path]:
    return [sorted(d.iterdir())[0] for d in sorted(folder.iterdir()) if d.is_dir()] or sorted(folder.iterdir())


def centre(img: Image.Image, side: int = CROP) -> Image.Image:
    w, h = img.size
    left, top = max(0, (w - side) // 2), max(0, (h - side) // 2)
    return img.crop((left, top, left + min(side, w), top + min(side, h)))


def sharpness(img: Image.Image, photo: Image.Image) -> float:
    return float(edge_magnitude(img).mean() / max(edge_magnitude(photo).mean(), 1e-9))


class Enlargements:
    """The NST result at the photo's size, each way."""

    def __init__(self, store: WeightsStore):
        self.fast = loading.load_fast(store)
        net = self.fast.transformer.net
        probe = self.fast.transformer.for_style(self.fast.style_vector(to_tensor(Image.new("RGB", (64, 64)))))
        self.margin = FullResPainter(probe, net).margin

    def painted(self, photo: np.ndarray, vector) -> np.ndarray:
        painter = FullResPainter(self.fast.transformer.for_style(vector), self.fast.transformer.net,
                                 margin=self.margin)
        return painter(photo)

    def all(self, result: np.ndarray, photo: np.ndarray, style: Image.Image) -> dict[str, np.ndarray]:
        by_style = self.fast.style_vector(to_tensor(style))
        by_result = self.fast.style_vector(to_tensor(Image.fromarray(result)))
        return {"bicubic": bicubic(result, photo.shape[:2]),
                "detail (style)": with_painted_detail(result, self.painted(photo, by_style)),
                "detail (result)": with_painted_detail(result, self.painted(photo, by_result))}


def measure(out: Image.Image, photo: Image.Image, style: Image.Image, judges: dict) -> dict:
    row = {"sharpness": sharpness(out, photo), "detail": edge_correlation(photo, out, side=max(photo.size))}
    style_crop = centre(thumbnail_pil(style, 1024))
    for name, judge in judges.items():
        row[f"{name}_whole"] = judge.distance(judge.embed(out), judge.embed(style))
        row[f"{name}_crop"] = judge.distance(judge.embed(centre(out)), judge.embed(style_crop))
    return row


def thumbnail_pil(img: Image.Image, side: int) -> Image.Image:
    return to_pil(thumbnail(np.asarray(img.convert("RGB")), side))


def summary(rows: list[dict]) -> dict:
    """Per method: medians of the measures, and each judge's style distance as a ratio over bicubic's."""
    out = {}
    for method in METHODS:
        mine = [r[method] for r in rows]
        s = {k: statistics.median(m[k] for m in mine) for k in ("sharpness", "detail")}
        for key in [k for k in mine[0] if k.endswith(("_whole", "_crop"))]:
            ratios = [r[method][key] / r["bicubic"][key] for r in rows]
            s[f"{key}_ratio"] = statistics.median(ratios)
            s[f"{key}_no_further"] = sum(x <= 1.0 for x in ratios)
        out[method] = s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=SHARED / "photos")
    ap.add_argument("--paintings", type=Path, default=SHARED / "paintings")
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--side", type=int, default=160, help="the optimiser's working size (long side, px)")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "nst_fullres.json")
    ap.add_argument("--sheet", type=Path, default=ROOT / "bench" / "nst_fullres_sheet.jpg")
    args = ap.parse_args()
    for folder in (args.photos, args.paintings):
        if not folder.is_dir():
            sys.exit(f"{folder} is not here: pass --photos DIR (photos of 600 px or more) and --paintings DIR "
                     "(one folder of paintings per artist, or paintings)")
    store = WeightsStore()
    nst, enlarge = loading.load_nst(store), Enlargements(store)
    judges = {"stats": StatsJudge(), "yolo": TextureJudge()}
    styles = paintings(args.paintings)
    rows, sheet = [], []
    for i, path in enumerate(photos(args.photos, args.count)):
        photo = Image.open(path).convert("RGB")
        style = Image.open(styles[i % len(styles)]).convert("RGB")
        started = time.perf_counter()
        result = nst.run(to_tensor(photo), to_tensor(thumbnail_pil(style, 512)),
                         NSTOptions(size=args.side, steps=args.steps)).image
        outs = enlarge.all(to_array(to_pil(result)), np.asarray(photo), style)
        row = {m: measure(Image.fromarray(o), photo, style, judges) for m, o in outs.items()}
        rows.append({"photo": path.name, "style": styles[i % len(styles)].name, **row})
        print(f"{path.name} {photo.size} in {time.perf_counter() - started:.0f}s: "
              + "; ".join(f"{m} sharp {r['sharpness']:.2f} detail {r['detail']:.2f}" for m, r in row.items()),
              flush=True)
        if i < 6:
            sheet.append((f"{path.name} ({photo.size[0]}x{photo.size[1]}), NST at {args.side} px; 1:1 centre",
                          [centre(photo), *(centre(Image.fromarray(o)) for o in outs.values())]))
    report = {"side": args.side, "steps": args.steps, "photos": len(rows), "summary": summary(rows), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    contact_sheet(sheet, args.sheet, ["photo", *METHODS], CROP)
    print(json.dumps(report["summary"], indent=1))


if __name__ == "__main__":
    main()
