"""Preset throughput on a GPU: images per second at 512 px for each engine the catalogue serves, by batch size.

Run on the device machine: `python bench/presets_gpu.py`. The engines are loaded from the weights store as the
Serve deployments load them (models.loading), fed the batches the deployments' `@serve.batch` would give them,
and timed from CPU tensors in to CPU tensors out (the host copies included, the JPEG coding and the handle hop
not). Target for the service: 500 images/s at 512 px. Prints one markdown row per engine and batch size.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from models.cyclegan import GeneratorRunner, load_generator
from models.images import decode_image
from models.loading import load_fixed_styles, load_runner
from models.tensors import to_tensor
from models.weights_store import WeightsStore

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
PRESETS = Path(__file__).resolve().parents[1] / "weights" / "presets"


def engines(store: WeightsStore, device: str):
    """(name, runner, style per image) for each engine kind the catalogue uses."""
    yield "fixed style (arbitrary transformer, phase-averaged)", \
        load_fixed_styles(store, "fast_transform", ["style_monet"], device), "style_monet"
    yield "multistyle26", load_runner(store, "multistyle26", "multistyle", device), 3
    checkpoint = torch.load(PRESETS / "monet.pth", map_location="cpu", weights_only=True)
    yield "stylebot generator (ngf 32, 9 blocks)", GeneratorRunner(load_generator(checkpoint, "stylebot"), device), None


def images_per_second(runner, style, photos: torch.Tensor, repeats: int) -> float:
    """The runner returns CPU tensors, so each call has finished when it returns."""
    styles = None if style is None else [style] * len(photos)
    runner(photos, styles)  # warm-up: cudnn autotuning for this shape
    t0 = time.perf_counter()
    for _ in range(repeats):
        runner(photos, styles)
    return repeats * len(photos) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="1,8,32,64")
    ap.add_argument("--seconds", type=float, default=3.0, help="rough time per measurement")
    ap.add_argument("--device", default="cuda", help="cuda (the benchmark) or cpu (a smoke run)")
    args = ap.parse_args()
    store = WeightsStore()
    photo = to_tensor(decode_image((DATA / "kodim23.jpg").read_bytes()))
    photo = torch.nn.functional.interpolate(photo[None], size=(512, 512), mode="bilinear", antialias=True)[0]
    where = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    print(f"torch {torch.__version__}, {where}, photo {tuple(photo.shape[1:])}")
    print("| engine | batch | images/s | target |")
    print("| --- | ---: | ---: | ---: |")
    for name, runner, style in engines(store, args.device):
        for batch in (int(b) for b in args.batches.split(",")):
            photos = photo.expand(batch, -1, -1, -1).contiguous()
            try:
                rough = images_per_second(runner, style, photos, 1)
                repeats = max(2, int(args.seconds * rough / batch))
                rate = images_per_second(runner, style, photos, repeats)
                print(f"| {name} | {batch} | {rate:.0f} | 500 |", flush=True)
            except Exception as e:  # noqa: BLE001 - one engine's failure must not hide the others' numbers
                print(f"| {name} | {batch} | failed: {type(e).__name__}: {e} | 500 |", flush=True)


if __name__ == "__main__":
    main()
