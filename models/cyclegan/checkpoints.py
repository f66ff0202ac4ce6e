"""Checkpoint adapters: turn each known state-dict layout into a strictly loaded ResnetGenerator.

- `upstream`: junyanz/pytorch-CycleGAN-and-pix2pix `latest_net_G` / `style_*.pth` files. InstanceNorm without
  affine; old files carry InstanceNorm `running_mean`/`running_var`/`num_batches_tracked` keys, which upstream
  deletes before loading (its `__patch_instance_norm_state_dict`), and so do we.
- `vintagify`: the vintagify package's generator, affine InstanceNorm, residual blocks keyed `block`.
- `stylebot`: the project's own trained presets: {"config": {...}, "state_dict": {...}} with fp16 tensors; the
  config names the decoder (`upsample`; presets saved before it was a choice have `transpose`).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from models.cyclegan.network import ResnetGenerator


class CheckpointError(ValueError):
    pass


_RUNNING_STATS = re.compile(r"\.(running_mean|running_var|num_batches_tracked)$")


def _strip_module_prefix(state: dict) -> dict:
    return {k.removeprefix("module."): v for k, v in state.items()}


def adapt_upstream(state: dict) -> tuple[dict, dict]:
    state = {k: v for k, v in _strip_module_prefix(state).items() if not _RUNNING_STATS.search(k)}
    return state, dict(affine=False, **_infer_shape(state))


def adapt_vintagify(state: dict) -> tuple[dict, dict]:
    state = {re.sub(r"\.block\.", ".conv_block.", k): v for k, v in _strip_module_prefix(state).items()}
    return state, dict(affine=True, **_infer_shape(state))


def adapt_stylebot(checkpoint: dict) -> tuple[dict, dict]:
    if "state_dict" not in checkpoint or "config" not in checkpoint:
        raise CheckpointError("a stylebot checkpoint holds `config` and `state_dict`")
    config = {"decoder": "transpose", **checkpoint["config"]}
    return {k: v.float() for k, v in checkpoint["state_dict"].items()}, config


def _infer_shape(state: dict) -> dict:
    try:
        ngf = state["model.1.weight"].shape[0]
    except KeyError:
        raise CheckpointError("not a CycleGAN ResNet generator (no model.1.weight)") from None
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"model\.(\d+)\.conv_block\.", k))}
    return dict(ngf=ngf, n_blocks=len(blocks))


ADAPTERS: dict[str, Callable[[dict], tuple[dict, dict]]] = {
    "upstream": adapt_upstream,
    "vintagify": adapt_vintagify,
    "stylebot": adapt_stylebot,
}


def load_generator(checkpoint: dict, adapter: str) -> ResnetGenerator:
    """Build the generator a checkpoint describes and load it strictly (every key must match)."""
    try:
        adapt = ADAPTERS[adapter]
    except KeyError:
        raise CheckpointError(f"unknown adapter {adapter!r}; known: {', '.join(ADAPTERS)}") from None
    state, config = adapt(checkpoint)
    net = ResnetGenerator(**config)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint does not fit the {adapter} layout: {e}") from None
    return net.eval().requires_grad_(False)


