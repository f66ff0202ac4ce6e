"""The NST robustness grid at the sizes CI cannot afford: 8 kinds of content x 6 paintings at 192-384 px.

The grid is tests/nst_grid.py (CI runs it at 64-160 px with 50 evaluations). Per case this prints the
evaluations used, the time, how many times the style loss fell from the photo's (must be >= 10), the mean
absolute change of the pixels, and the first evaluation whose whole objective was 10x below the photo's style
loss (so its style loss was at least that far down).

    .venv/bin/python bench/nst_robustness.py [--steps 100] [--sizes 192,256,320,384] [--start K] [--cases N]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.nst import GatysNST, NSTOptions  # noqa: E402
from models.nst.options import CONTENT_LAYER  # noqa: E402
from models.tensors import resize_long_side  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402
from tests.nst_grid import CONTENTS, grid, style_image  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--sizes", default="192,256,320,384")
    ap.add_argument("--cases", type=int, default=24, help="run cases [start, cases) of the grid")
    ap.add_argument("--start", type=int, default=0)
    args = ap.parse_args()
    nst = GatysNST(WeightsStore().load_state_dict("vgg19"))
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, budget {args.steps} evaluations")
    print("| case | evaluations | s | style loss fell (x) | mean pixel change | first 10x at | ok |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    failures = 0
    for case in grid(sizes)[args.start: args.cases]:
        content, painting = CONTENTS[case.content](), style_image(case.style)
        options = NSTOptions(size=case.size, steps=args.steps, min_style_drop=0)  # measured here, not raised
        photo = resize_long_side(content, case.size)[None]
        with torch.no_grad():
            target = nst._features(photo)[CONTENT_LAYER]
            grams = nst.style_grams(painting, tuple(photo.shape[-2:]), options)
            before = float(nst.objective(photo, target, grams, options)[1]["style"])
        seen: list[tuple[int, float]] = []
        t0 = time.perf_counter()
        result = nst.run(content, painting, options, progress=lambda s, n, loss: seen.append((s, loss)))
        seconds = time.perf_counter() - t0
        with torch.no_grad():
            after = float(nst.objective(result.image[None], target, grams, options)[1]["style"])
        drop = before / after
        change = float((result.image - photo[0]).abs().mean())
        ok = drop >= 10 and change > 0.05
        failures += not ok
        # the whole objective (style + content + tv) bounds its style part from above
        first = next((step for step, loss in seen if loss * 10 <= before), "-")
        print(f"| {case.id} | {result.steps} | {seconds:.1f} | {drop:.1f} | {change:.3f} | {first} |"
              f" {'yes' if ok else 'NO'} |", flush=True)
    print(f"\n{failures} of {len(grid(sizes)[args.start: args.cases])} cases failed")


if __name__ == "__main__":
    main()
