"""Builds the torch engines from the weights store: the Gatys optimizer and one runner per preset."""
from __future__ import annotations

from collections.abc import Callable

import torch

from models.arbitrary import ArbitraryStylizer, load_arbitrary
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
                          store.verified_path("fast_transform").read_bytes(), device)


def load_runner(store: WeightsStore, weights: str, adapter: str, device: str = "cpu") -> GeneratorRunner:
    """The runner of one generator file: a CycleGAN layout (see models.cyclegan.checkpoints) or, adapter
    `multistyle`, the 26-style network (its runner takes a style index per image)."""
    if adapter == "multistyle":
        return MultiStyleRunner(load_multistyle(store.verified_path(weights).read_bytes()), device=device)
    return GeneratorRunner(load_generator(store.load_state_dict(weights), adapter), device=device)


def load_preset(store: WeightsStore, status: PresetStatus, device: str = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """image -> image in the preset's style."""
    if status.choice is None:
        raise WeightsError(status.name, None, f"preset unavailable: {status.reason}",
                           "fetch its weights (stylebot weights list)")
    return load_runner(store, status.choice.weights, status.choice.adapter, device).for_style(status.choice.style)
