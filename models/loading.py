"""Builds the torch engines from the weights store: the Gatys optimizer and one runner per preset."""
from __future__ import annotations

from collections.abc import Callable

import torch

from models.arbitrary import ArbitraryStylizer, load_arbitrary
from models.arbitrary.fixed import FixedStyleRunner, read_vector_document
from models.arbitrary.stylizer import load_transformer
from models.catalogue import PresetStatus
from models.cyclegan import GeneratorRunner, load_generator
from models.multistyle import load_multistyle
from models.multistyle.inference import MultiStyleRunner
from models.nst import GatysNST
from models.weights_store import WeightsError, WeightsStore


def load_nst(store: WeightsStore, device: str = "cpu") -> GatysNST:
    return GatysNST(store.load_state_dict("vgg19"), device=device)


def load_fast(store: WeightsStore, device: str = "cpu") -> ArbitraryStylizer:
    """The fast arbitrary-style model: its two ONNX files, sha256-checked."""
    return load_arbitrary(store.verified_path("fast_predict").read_bytes(),
                          store.verified_path("fast_transform").read_bytes(), device, clean=True)


def load_style_vector(store: WeightsStore, name: str) -> torch.Tensor:
    """A fixed style's vector from its manifest entry (a JSON document, sha256-checked)."""
    path = store.verified_path(name)
    try:
        return read_vector_document(path.read_bytes(), str(path))
    except ValueError as e:
        raise WeightsError(name, path, str(e), f"delete it and run stylebot weights fetch {name}") from e


def load_fixed_styles(store: WeightsStore, weights: str, styles: list[str], device: str = "cpu") -> FixedStyleRunner:
    """The arbitrary network's transformer (`weights`) with the named style vectors, for fixed-style presets."""
    transformer = load_transformer(store.verified_path(weights).read_bytes())
    return FixedStyleRunner(transformer, {s: load_style_vector(store, s) for s in styles}, device=device)


def load_runner(store: WeightsStore, weights: str, adapter: str, device: str = "cpu",
                styles: list[str] | None = None) -> GeneratorRunner:
    """The runner of one generator file: a CycleGAN layout (see models.cyclegan.checkpoints), adapter
    `multistyle`, the 26-style network (its runner takes a style index per image), or adapter `arbitrary`, the
    arbitrary network's transformer with the fixed `styles` (style-vector names in the manifest)."""
    if adapter == "arbitrary":
        return load_fixed_styles(store, weights, styles or [], device)
    if adapter == "multistyle":
        return MultiStyleRunner(load_multistyle(store.verified_path(weights).read_bytes()), device=device)
    return GeneratorRunner(load_generator(store.load_state_dict(weights), adapter), device=device)


def load_preset(store: WeightsStore, status: PresetStatus, device: str = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """image -> image in the preset's style."""
    runner, style = load_preset_runner(store, status, device)
    return runner.for_style(style)


def load_preset_runner(store: WeightsStore, status: PresetStatus,
                       device: str = "cpu") -> tuple[GeneratorRunner, int | str | None]:
    """The runner that paints the preset, and the preset's style in it (None for a one-style generator)."""
    if status.choice is None:
        raise WeightsError(status.name, None, f"preset unavailable: {status.reason}",
                           "fetch its weights (stylebot weights list)")
    choice = status.choice
    styles = [choice.style] if choice.adapter == "arbitrary" else None
    return load_runner(store, choice.weights, choice.adapter, device, styles), choice.style
