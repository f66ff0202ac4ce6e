"""Builds the torch engines from the weights store: the Gatys optimizer and one runner per preset."""
from __future__ import annotations

import torch

from deployments.cyclegan import GeneratorRunner, load_generator
from deployments.nst import GatysNST
from serve_app.catalogue import PresetStatus
from serve_app.weights_store import WeightsError, WeightsStore


def pick_device(accelerator: str = "auto") -> str:
    if accelerator not in ("auto", "cpu", "gpu", "cuda"):
        raise ValueError(f"accelerator must be auto, cpu or gpu, not {accelerator!r}")
    if accelerator == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if accelerator == "auto":
        return "cpu"
    raise RuntimeError("a GPU was asked for but torch sees none")


def load_nst(store: WeightsStore, device: str = "cpu") -> GatysNST:
    return GatysNST(store.load_state_dict("vgg19"), device=device)


def load_preset(store: WeightsStore, status: PresetStatus, device: str = "cpu") -> GeneratorRunner:
    if status.choice is None:
        raise WeightsError(status.name, None, f"preset unavailable: {status.reason}",
                           "fetch its weights (stylebot weights list)")
    checkpoint = store.load_state_dict(status.choice.weights)
    return GeneratorRunner(load_generator(checkpoint, status.choice.adapter), device=device)
