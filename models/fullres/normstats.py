"""Instance-norm statistics that can be recorded on one image and replayed on another (URST's "thumbnail instance
normalisation", Chen et al. 2022): the piece that lets an instance-normalised network paint an image tile by tile
with no seam.

An instance norm is the only place such a network looks at the whole image: every other layer is a convolution
(local). Freeze the per-channel mean and variance of each norm layer and the network is local, so a tile painted
with frozen statistics equals the same pixels of the whole image painted with them.

`install_norm_hooks(net)` makes each norm layer of `net` consult the active `NormStats` session, if any:
- `torch.nn.InstanceNorm2d` (the CycleGAN-style generators),
- `models.multistyle.network.ConditionalInstanceNorm` (the multi-style network),
- every `GlobalAveragePool` node of an `OnnxModule` (the arbitrary network's transformer spells its conditional
  instance norm out as GlobalAveragePool -> Sub -> Mul -> GlobalAveragePool -> Add -> Sqrt -> Reciprocal -> ...;
  its two pools are the mean and the variance; a global pool is by definition a whole-image statistic).
Outside a session the layers run as before (the session lives in a ContextVar, so other threads and requests
sharing the network are unaffected). `with stats.recording():` runs the network normally and keeps each layer's
statistics; `with stats.frozen():` replays them. A layer that runs several times per forward pass (the arbitrary
network's phase-averaged second pass) keeps one entry per call, replayed in the same order, from the start
again when they run out (so one frozen session may paint several images).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import MethodType

import torch
from torch import nn

from models.multistyle.network import EPS as CIN_EPS
from models.multistyle.network import ConditionalInstanceNorm
from models.onnxgraph.module import OnnxModule

_ACTIVE: ContextVar["NormStats | None"] = ContextVar("norm_stats", default=None)
_HOOKED = "_fullres_hooked"
POOL = "GlobalAveragePool"


class NormStats:
    """The statistics of one recording, per norm layer and call, and the mode they are used in."""

    def __init__(self):
        self.recorded: dict[Hashable, list] = {}
        self.mode: str | None = None
        self._calls: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self.recorded.values())

    @contextmanager
    def _session(self, mode: str) -> Iterator["NormStats"]:
        self.mode, self._calls = mode, {}
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)
            self.mode = None

    def recording(self):
        """Run the network as usual and keep every norm layer's statistics (replacing earlier ones)."""
        self.recorded = {}
        return self._session("record")

    def frozen(self):
        """Run the network with the recorded statistics in place of each layer's own."""
        if not self.recorded:
            raise RuntimeError("nothing recorded: run the network under recording() first")
        return self._session("freeze")

    def get(self, key: Hashable, compute: Callable[[], object]):
        """This call's statistics of layer `key`: computed and kept when recording, the recorded ones (the n-th call
        gets the n-th, cycling) when frozen."""
        k = self._calls.get(key, 0)
        self._calls[key] = k + 1
        if self.mode == "record":
            value = compute()
            self.recorded.setdefault(key, []).append(value)
            return value
        kept = self.recorded.get(key)
        if not kept:
            raise RuntimeError("a norm layer ran that the recording did not see (another network?)")
        return kept[k % len(kept)]


def _moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image, per-channel mean and biased variance over (H, W), in float32, shaped (N, C, 1, 1)."""
    x = x.float()
    var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0)
    return mean, var


def _normalise(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, eps: float,
               gamma: torch.Tensor | None, beta: torch.Tensor | None) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps) * gamma + beta as one multiply-add (gamma, beta: (N or 1, C, 1, 1) or None)."""
    scale = torch.rsqrt(var + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    return torch.addcmul(shift.to(x.dtype), x, scale.to(x.dtype))


def _hook_instance_norm(m: nn.InstanceNorm2d) -> None:
    original = m.forward
    if m.track_running_stats:
        raise ValueError("an InstanceNorm2d with running statistics is not an instance norm at inference")

    def forward(self, x):
        stats = _ACTIVE.get()
        if stats is None:
            return original(x)
        mean, var = stats.get(self, lambda: _moments(x))
        affine = (self.weight[None, :, None, None], self.bias[None, :, None, None]) if self.affine else (None, None)
        return _normalise(x, mean, var, self.eps, *affine)

    m.forward = MethodType(forward, m)


def _hook_conditional_norm(m: ConditionalInstanceNorm) -> None:
    original = m.forward

    def forward(self, x, style):
        stats = _ACTIVE.get()
        if stats is None:
            return original(x, style)
        mean, var = stats.get(self, lambda: _moments(x))
        gamma, beta = (style @ self.gamma)[:, :, None, None], (style @ self.beta)[:, :, None, None]
        return _normalise(x, mean, var, CIN_EPS, gamma, beta)

    m.forward = MethodType(forward, m)


def _hook_onnx_pools(m: OnnxModule) -> int:
    original = m._run

    def run(self, node, values):
        stats = _ACTIVE.get()
        if stats is None or node.op_type != POOL:
            return original(node, values)
        return (stats.get((self, node.outputs[0]), lambda: original(node, values)[0]),)

    m._run = MethodType(run, m)
    return sum(node.op_type == POOL for node in m.nodes)


def install_norm_hooks(net: nn.Module) -> int:
    """Make every instance norm of `net` obey NormStats sessions (idempotent); returns how many statistics a
    forward pass computes (norm layers, or ONNX global pools). ValueError when there are none."""
    count = 0
    for m in net.modules():
        if isinstance(m, nn.InstanceNorm2d):
            hook, n = _hook_instance_norm, 1
        elif isinstance(m, ConditionalInstanceNorm):
            hook, n = _hook_conditional_norm, 1
        elif isinstance(m, OnnxModule):
            hook, n = None, sum(node.op_type == POOL for node in m.nodes)
        else:
            continue
        if not getattr(m, _HOOKED, False):
            _hook_onnx_pools(m) if hook is None else hook(m)
            setattr(m, _HOOKED, True)
        count += n
    if not count:
        raise ValueError(f"{type(net).__name__} has no instance norm to take from a thumbnail")
    return count
