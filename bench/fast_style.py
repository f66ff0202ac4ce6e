"""The fast arbitrary-style model: speed on this CPU, and quality side by side with Gatys NST.

Speed: own style image to result at 512 px long side (style vector + one transformer pass), median of runs,
for the torch port with float activations (what is served), the same with the files' int8 activation
quantisation run as written, and onnxruntime on the ONNX files (fixed at 384 px, so timed at 384 and shown
beside ours at 384). Target: at most 1 s at 512 px.

Quality: the pairs of ../shared/images/pairs.tsv at `--size` px (default 256; NST's own default, 384, takes
several minutes per pair on this CPU): NST with its default options otherwise and the fast model, judged by bench/texture_judge.py (a YOLOv8n backbone, a network neither model contains):
style distance to the painting (the photo's own for scale) and content distance to the photo. bench/judge.py's
Magenta embedding is printed too, marked: it is the fast model's own style predictor. Contact sheet (photo,
painting, NST, fast): bench/fast_vs_nst_sheet.jpg.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/fast_style.py [--pairs 4] [--repeats 7]
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from judge import Judge
from models.loading import load_fast, load_nst
from models.arbitrary import load_arbitrary
from models.nst import NSTOptions
from models.tensors import to_pil
from models.weights_store import WeightsStore
import sheets
from sheets import median_time
from texture_judge import TextureJudge

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"
SHEET = Path(__file__).resolve().parent / "fast_vs_nst_sheet.jpg"
TILE = 192


def load(path: Path, side: int) -> torch.Tensor:
    """The image with its long side exactly `side` px."""
    img = Image.open(path).convert("RGB")
    scale = side / max(img.size)
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    return torch.from_numpy(np.asarray(img, np.uint8).copy()).permute(2, 0, 1).float() / 255


def speed(args, store: WeightsStore) -> None:
    import onnxruntime as ort

    photo512 = load(SHARED / "photos" / "kodak_kodim23.jpg", 512)
    style = load(SHARED / "paintings" / "vangogh" / "gordicaleksa_vg_starry_night.jpg", 512)
    photo384 = torch.nn.functional.interpolate(photo512[None], size=(384, 384), mode="bilinear")[0]
    served = load_fast(store)
    exact = load_arbitrary(store.verified_path("fast_predict").read_bytes(),
                           store.verified_path("fast_transform").read_bytes(), fake_quant=True)
    predict = ort.InferenceSession(str(store.verified_path("fast_predict")), providers=["CPUExecutionProvider"])
    transform = ort.InferenceSession(str(store.verified_path("fast_transform")), providers=["CPUExecutionProvider"])

    def ort_run():
        sq = torch.nn.functional.interpolate(style[None], size=(256, 256), mode="bilinear", antialias=True)
        v = predict.run(None, {"style_image": sq.permute(0, 2, 3, 1).numpy()})[0]
        transform.run(None, {"content_image": photo384[None].permute(0, 2, 3, 1).contiguous().numpy(),
                             "mobilenet_conv/Conv/BiasAdd": v})

    rows = [
        ("torch, float activations (served)", 512, median_time(lambda: served.paint(photo512, served.style_vector(style)), args.repeats)),
        ("torch, int8 activations as written", 512, median_time(lambda: exact.paint(photo512, exact.style_vector(style)), args.repeats)),
        ("torch, float activations (served)", 384, median_time(lambda: served.paint(photo384, served.style_vector(style)), args.repeats)),
        ("onnxruntime (the files' fixed size)", 384, median_time(ort_run, args.repeats)),
    ]
    h, w = photo512.shape[1:]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; 512 px = {w}x{h}\n")
    print("| runner | px | s per image (style + paint) |")
    print("| --- | ---: | ---: |")
    for name, px, s in rows:
        print(f"| {name} | {px} | {s:.3f} |")
    print(f"\ntarget (<= 1 s at 512 px): {'MET' if rows[0][2] <= 1.0 else 'MISSED'}\n", flush=True)


def quality(args, store: WeightsStore) -> None:
    texture, magenta = TextureJudge(), Judge()
    fast, nst = load_fast(store), load_nst(store)
    with open(SHARED / "pairs.tsv") as f:
        pairs = list(csv.DictReader(f, delimiter="\t"))[: args.pairs]
    rows, sheet = [], []
    for pair in pairs:
        photo, painting = load(SHARED / pair["content"], args.size), load(SHARED / pair["style"], 512)
        t0 = time.perf_counter()
        nst_img = nst.run(photo, painting, NSTOptions(size=args.size)).image
        t_nst = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast_img = fast.paint(photo, fast.style_vector(painting))
        t_fast = time.perf_counter() - t0
        p_photo, p_painting, p_nst, p_fast = map(to_pil, (photo, painting, nst_img, fast_img))
        target = texture.grams(texture.features(p_painting))
        m_target = magenta.style(p_painting)
        row = {"pair": pair["note"], "t_nst": t_nst, "t_fast": t_fast,
               "photo_style": texture.style_distance(p_photo, target)}
        for name, img in (("nst", p_nst), ("fast", p_fast)):
            row[f"{name}_style"] = texture.style_distance(img, target)
            row[f"{name}_content"] = texture.content_distance(img, p_photo)
            row[f"{name}_magenta"] = magenta.style_distance(magenta.style(img), m_target)
        rows.append(row)
        sheet.append((pair["note"], [p_photo, p_painting, p_nst, p_fast]))
        print(f"{row['pair']}: NST {t_nst:.0f} s, fast {t_fast:.2f} s", flush=True)
    print(f"\n{args.size} px long side; style distance: Gram distance to the painting (lower is closer); content: "
          "feature distance to the photo (lower keeps more)")
    print("\n| pair | photo: style | NST: style | NST: content | fast: style | fast: content | NST s | fast s |"
          " Magenta style, NST / fast (fast's own predictor) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['pair']} | {r['photo_style']:.3f} | {r['nst_style']:.3f} | {r['nst_content']:.3f} | "
              f"{r['fast_style']:.3f} | {r['fast_content']:.3f} | {r['t_nst']:.0f} | {r['t_fast']:.2f} | "
              f"{r['nst_magenta']:.2f} / {r['fast_magenta']:.2f} |")
    contact_sheet(sheet, SHEET)
    print(f"\ncontact sheet: {SHEET}")


def contact_sheet(rows, path: Path) -> None:
    sheets.contact_sheet(rows, path, ["photo", "painting", "NST (Gatys)", "fast (one pass)"], TILE, quality=85)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--size", type=int, default=256, help="long side for the quality comparison")
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    store = WeightsStore()
    speed(args, store)
    if not args.speed_only:
        quality(args, store)


if __name__ == "__main__":
    main()
