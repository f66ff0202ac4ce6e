"""Builds the torch engines from the weights store: the Gatys optimizer and one runner per preset."""
from __future__ import annotations

from models.catalogue import PresetStatus
from models.cyclegan import GeneratorRunner, load_generator
from models.nst import GatysNST
from models.weights_store import WeightsError, WeightsStore


def load_nst(store: WeightsStore, device: str = "cpu") -> GatysNST:
    return GatysNST(store.load_state_dict("vgg19"), device=device)


def load_preset(store: WeightsStore, status: PresetStatus, device: str = "cpu") -> GeneratorRunner:
    if status.choice is None:
        raise WeightsError(status.name, None, f"preset unavailable: {status.reason}",
                           "fetch its weights (stylebot weights list)")
    checkpoint = store.load_state_dict(status.choice.weights)
    return GeneratorRunner(load_generator(checkpoint, status.choice.adapter), device=device)
