"""The engines that compete for each preset in bench/catalogue_eval.py, and the build / judge split of the
artists' paintings that keeps the vectors and the judges apart."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from models import loading
from models.arbitrary.fixed import FixedStyleRunner, collection_vector, extrapolate
from models.catalogue import Catalogue
from models.cyclegan import GeneratorRunner, load_generator
from models.cyclegan.training import list_images, load_rgb
from models.tensors import resize_long_side
from models.weights_store import WeightsStore

PAINTING_PRESETS = ("monet", "vangogh", "cezanne", "ukiyoe")
# preset name -> the file name used in ../shared/images/seed_styles (pytorch/examples' names)
SEED_PRESETS = {"candy": "candy", "mosaic": "mosaic", "rain_princess": "rain-princess", "udnie": "udnie"}
# one famous work per artist, chosen by name before any measurement: always in the build half
SEED_GAINS = (0.75, 1.0, 1.25)  # a seed style's vector moved from ordinary photos': less or more of the artwork
CANONICAL = {"monet": "titu1994_water-lilies-1919-2.jpg", "vangogh": "gordicaleksa_vg_starry_night.jpg",
             "cezanne": "rmeno12_cezanne.jpg", "ukiyoe": "jcjohnson_wave.jpg"}


@dataclass
class Candidate:
    preset: str
    label: str
    engine: str                                    # "cyclegan" or "arbitrary"
    paint: Callable[[torch.Tensor], torch.Tensor]  # (3, H, W) in [0, 1] -> the same
    vector: torch.Tensor | None = None             # the fixed style, for the arbitrary engine
    provenance: dict | None = None


def split_paintings(files: list[Path], canonical: str) -> tuple[list[Path], list[Path]]:
    """(build, judge): the canonical work builds; the others alternate by sorted name."""
    rest = sorted(p for p in files if p.name != canonical)
    build = [p for p in files if p.name == canonical] + rest[0::2]
    return build, rest[1::2]


def painting_candidates(preset: str, build: list[Path], stylizer, fixed: Callable, neutral: torch.Tensor,
                        max_single: int) -> list[Candidate]:
    """Fixed styles from the build paintings: their mean, the mean moved out to the paintings' typical distance
    from ordinary photos (a mean of many vectors sits nearer the middle, so paints less of the style), the medoid,
    and single works (the canonical one first, then the others up to `max_single`, by name; Monet's 256 px
    kaggle squares only when no other is left)."""
    vectors = torch.stack([stylizer.style_vector(load_rgb(p)) for p in build])
    names = [p.name for p in build]
    out = []
    for method in ("mean", "medoid"):
        v, i = collection_vector(vectors, method)
        source = f"{method} of {len(build)} build paintings" + (f" ({names[i]})" if i is not None else "")
        out.append(fixed(preset, f"fixed: {source}", v, {"method": method, "paintings": names}))
    mean = vectors.mean(0)
    typical = (vectors - neutral).norm(dim=1).mean() / (mean - neutral).norm()
    out.append(fixed(preset, f"fixed: mean of {len(build)}, typical strength", extrapolate(mean, neutral, float(typical)),
                     {"method": "mean, moved to the paintings' typical distance from photos",
                      "gain": round(float(typical), 4), "paintings": names}))
    singles = sorted(range(len(build)), key=lambda i: (i > 0, names[i].startswith("kaggle_"), names[i]))
    for i in singles[:max_single]:
        kind = "canonical" if i == 0 else "single work"
        out.append(fixed(preset, f"fixed: {kind} {names[i]}", vectors[i], {"method": kind, "paintings": [names[i]]}))
    return out


def neutral_vector(stylizer, photos: list[Path]) -> torch.Tensor:
    """The mean style vector of ordinary photos: the middle that a fixed style's strength is measured from."""
    return torch.stack([stylizer.style_vector(resize_long_side(load_rgb(p), 384)) for p in photos]).mean(0)


def trained_candidates(args, store: WeightsStore, preset: str) -> list[Candidate]:
    """The trained generators for `preset`: --checkpoint ones, the project's own (stylebot_NAME in the manifest,
    retired from the catalogue or not) and any generator choice the catalogue lists."""
    out = []
    for spec in args.checkpoint:
        name, path = spec.split("=", 1)
        if name == preset:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            out.append(Candidate(preset, f"checkpoint {path}", "cyclegan", GeneratorRunner(load_generator(ckpt, "stylebot"))))
    preset_entry = Catalogue.load().get(preset)
    generators = {c.weights: c.adapter for c in (preset_entry.choices if preset_entry else ())
                  if c.adapter in ("stylebot", "upstream")}
    if f"stylebot_{preset}" in store.manifest:
        generators.setdefault(f"stylebot_{preset}", "stylebot")
    for weights, adapter in generators.items():
        if store.status(weights).present:
            runner = loading.load_runner(store, weights, adapter)
            out.append(Candidate(preset, f"generator {weights}", "cyclegan", runner))
    return out


def candidates(args, neutral_photos: list[Path]) -> tuple[list[Candidate], dict[str, list[str]],
                                                          dict[str, list[Image.Image]]]:
    """Every candidate, the build split (names) and the judge split (images) of the paintings. `neutral_photos`:
    photos (never the held-out ones) whose mean style vector is the neutral one."""
    store = WeightsStore()
    stylizer = loading.load_fast(store)
    transformer = stylizer.transformer.net

    def fixed(preset, label, vector, provenance) -> Candidate:
        runner = FixedStyleRunner(transformer, {preset: vector})
        return Candidate(preset, label, "arbitrary", runner.for_style(preset), vector,
                         {**provenance, "network": "fast_transform", "predictor": "fast_predict"})

    neutral = neutral_vector(stylizer, neutral_photos)
    cands, build_split, judge_split = [], {}, {}
    for preset in PAINTING_PRESETS:
        build, held = split_paintings(list_images(args.paintings / preset), CANONICAL[preset])
        build_split[preset] = [p.name for p in build]
        judge_split[preset] = [Image.open(p).convert("RGB") for p in held]
        if preset in args.presets:
            cands += trained_candidates(args, store, preset) + painting_candidates(preset, build, stylizer, fixed,
                                                                                  neutral, args.max_single)
    for preset, stem in SEED_PRESETS.items():
        if preset not in args.presets:
            continue
        cands += trained_candidates(args, store, preset)
        style = args.seed_styles / f"{stem}.jpg"
        if style.is_file():
            vector = stylizer.style_vector(load_rgb(style))
            for gain in SEED_GAINS:
                cands.append(fixed(preset, f"fixed: style image {style.name}" + (f", gain {gain}" if gain != 1 else ""),
                                   extrapolate(vector, neutral, gain),
                                   {"method": "style image", "gain": gain,
                                    "image": f"pytorch/examples fast_neural_style {style.name}"}))
    return cands, build_split, judge_split
