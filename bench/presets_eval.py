"""How well each painting preset paints, on photos no preset was trained on.

For every preset (each painting preset the catalogue can serve, or checkpoints given with --checkpoint):
  - style ratio: style distance of its outputs to the artist's paintings (mean Gram over the collection), over
    the same distance for the input photos themselves. Lower is better; target <= 0.5.
  - content ratio: content distance (VGG19 relu4_2) of its outputs to the input photos, over the distance of
    the artist's paintings to the same photos. Lower is better; target <= 0.6.
  - time per 512 px image on this machine's CPU (and GPU when there is one), next to an official-size CycleGAN
    generator (ngf 64, 9 blocks, seeded) timed in the same run.
and a contact sheet PNG: the input photos in the first row, one row per preset.

    .venv/bin/python bench/presets_eval.py [--limit 24] [--checkpoint monet=var/train/monet.pth ...]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from models.cyclegan.checkpoints import load_generator
from models.cyclegan.network import ResnetGenerator
from models.cyclegan.inference import GeneratorRunner
from models.cyclegan.training import list_images, load_rgb, mean_grams, split_holdout
from models.tensors import resize_long_side, to_pil
from models.nst.options import CONTENT_LAYER, STYLE_CHANNELS, STYLE_LAYERS
from models.nst.losses import gram
from models.nst.vgg import VGG19Features
from models import loading
from models.catalogue import Catalogue
from models.weights_store import WeightsStore

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"
PAINTING_PRESETS = ("monet", "vangogh", "cezanne", "ukiyoe")
# ../shared/images/README.md: only these sources may be copied into the repository, and the sheet is committed.
REDISTRIBUTABLE = ("kodak_", "skimage_", "matplotlib_")


class Metrics:
    def __init__(self, vgg_state: dict):
        self.vgg = VGG19Features(vgg_state, STYLE_LAYERS + (CONTENT_LAYER,)).eval()

    @torch.no_grad()
    def features(self, img: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.vgg(img[None])

    @staticmethod
    def style_distance(feats: dict, grams: dict) -> float:
        return float(sum(F.mse_loss(gram(feats[layer])[0], grams[layer]) / STYLE_CHANNELS[layer] ** 2
                         for layer in STYLE_LAYERS))

    @staticmethod
    def content_distance(a: dict, b: dict) -> float:
        return float(F.mse_loss(a[CONTENT_LAYER], b[CONTENT_LAYER]))


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def contact_sheet(rows: list[tuple[str, list[torch.Tensor]]], thumb: int, path: Path) -> None:
    label_w = 150
    widths = [round(img.shape[-1] * thumb / img.shape[-2]) for img in rows[0][1]]
    sheet = Image.new("RGB", (label_w + sum(widths), thumb * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (label, images) in enumerate(rows):
        draw.text((8, r * thumb + thumb // 2 - 6), label, fill="black")
        x = label_w
        for img, w in zip(images, widths):
            sheet.paste(to_pil(img).resize((w, thumb), Image.LANCZOS), (x, r * thumb))
            x += w
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=SHARED / "photos")
    ap.add_argument("--paintings", type=Path, default=SHARED / "paintings", help="one folder per artist")
    ap.add_argument("--limit", type=int, default=24, help="held-out photos to evaluate (default 24)")
    ap.add_argument("--side", type=int, default=512, help="long side of the evaluated images")
    ap.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                    help="evaluate a stylebot checkpoint instead of the catalogue's weights for NAME")
    ap.add_argument("--max-paintings", type=int, default=48,
                    help="paintings per artist in the reference Gram (evenly spaced over the sorted list)")
    ap.add_argument("--sheet", type=Path, default=Path("bench/presets_sheet.png"))
    ap.add_argument("--sheet-photos", type=int, default=6,
                    help="held-out photos on the sheet (redistributable sources first, see REDISTRIBUTABLE)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per preset and device")
    args = ap.parse_args()

    store = WeightsStore()
    metrics = Metrics(store.load_state_dict("vgg19"))
    runners: dict[str, tuple[str, GeneratorRunner]] = {}
    for spec in args.checkpoint:
        name, path = spec.split("=", 1)
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        runners[name] = (f"checkpoint {path}", GeneratorRunner(load_generator(ckpt, "stylebot")))
    for status in Catalogue.load().statuses(store):
        if status.name in PAINTING_PRESETS and status.name not in runners and status.available:
            runners[status.name] = (status.choice.origin, loading.load_preset(store, status))
    if not runners:
        raise SystemExit("no painting preset is available: fetch or train one first")

    all_held_out = split_holdout(list_images(args.photos), 0.1)[1]
    held_out = all_held_out[:args.limit]
    photos = [resize_long_side(load_rgb(p), args.side, "bilinear") for p in held_out]
    photo_feats = [metrics.features(p) for p in photos]
    print(f"{len(photos)} held-out photos at {args.side} px; presets: {', '.join(runners)}")
    sheet_files = ([p for p in all_held_out if p.name.startswith(REDISTRIBUTABLE)][:args.sheet_photos]
                   or held_out[:args.sheet_photos])
    sheet_inputs = [resize_long_side(load_rgb(p), args.side, "bilinear") for p in sheet_files]

    results, sheet_rows = [], [("input", sheet_inputs)]
    for name, (origin, runner) in runners.items():
        files = list_images(args.paintings / name)
        files = files[::max(1, len(files) // args.max_paintings)][:args.max_paintings]
        paintings = [resize_long_side(load_rgb(p), args.side, "bilinear") for p in files]
        grams = mean_grams(metrics.vgg, paintings)
        outputs = [runner(p) for p in photos]
        out_feats = [metrics.features(o) for o in outputs]
        style_out = statistics.mean(metrics.style_distance(f, grams) for f in out_feats)
        style_photo = statistics.mean(metrics.style_distance(f, grams) for f in photo_feats)
        content_out = statistics.mean(metrics.content_distance(o, p) for o, p in zip(out_feats, photo_feats))
        content_painting = statistics.mean(
            metrics.content_distance(metrics.features(F.interpolate(paintings[i % len(paintings)][None],
                                                                    size=p.shape[-2:], mode="bilinear",
                                                                    antialias=True, align_corners=False)[0]), pf)
            for i, (p, pf) in enumerate(zip(photos, photo_feats)))
        square = torch.rand(3, args.side, args.side, generator=torch.Generator().manual_seed(0))
        t_cpu = median_time(lambda: runner(square), args.repeats)
        results.append({"preset": name, "origin": origin, "style": style_out / style_photo,
                        "content": content_out / content_painting, "cpu_s": t_cpu})
        sheet_rows.append((name, [runner(p) for p in sheet_inputs]))
        print(f"  {name}: style {style_out / style_photo:.3f}, content {content_out / content_painting:.3f}, "
              f"{t_cpu:.3f} s per {args.side} px image on CPU", flush=True)

    torch.manual_seed(0)
    official_size = GeneratorRunner(ResnetGenerator(ngf=64, n_blocks=9, affine=False))
    square = torch.rand(3, args.side, args.side, generator=torch.Generator().manual_seed(0))
    t_official = median_time(lambda: official_size(square), args.repeats)
    gpu = torch.cuda.is_available()
    if gpu:
        for r, (name, (_, runner)) in zip(results, runners.items()):
            gpu_runner = GeneratorRunner(runner.net.cpu(), device="cuda")
            r["gpu_s"] = median_time(lambda: (gpu_runner(square), torch.cuda.synchronize()), args.repeats * 4)

    contact_sheet(sheet_rows, 160, args.sheet)
    print(f"\nofficial-size CycleGAN generator (ngf 64, 9 blocks): {t_official:.3f} s per {args.side} px image on CPU")
    print(f"contact sheet: {args.sheet}\n")
    print("| preset | weights | style ratio (<= 0.5) | content ratio (<= 0.6) | CPU s / 512 px | vs official-size |"
          + (" GPU s / 512 px |" if gpu else ""))
    print("| --- | --- | ---: | ---: | ---: | ---: |" + (" ---: |" if gpu else ""))
    for r in results:
        print(f"| {r['preset']} | {r['origin']} | {r['style']:.3f} | {r['content']:.3f} | {r['cpu_s']:.3f} | "
              f"{r['cpu_s'] / t_official:.2f} |" + (f" {r['gpu_s']:.4f} |" if gpu else ""))


if __name__ == "__main__":
    main()
