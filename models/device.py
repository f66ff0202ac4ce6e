"""Where an engine runs: the device an accelerator setting resolves to, and a model replica's torch threads."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import torch


def prepare_torch(device: str) -> str:
    """Use the GPU the replica was given, else the CPU with as many threads as there are cores to share."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("this replica was given a GPU but torch sees none")
    threads = int(os.environ.get("STYLEBOT_TORCH_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(threads)
    return device


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


class CudaFastPath:
    """The CUDA fast paths the engines share: NHWC memory layout, bf16 autocast, and TF32 maths with cuDNN
    autotuning switched on only while the engine computes (`with fast.maths():`), then restored, so other code in
    the process keeps its own settings. On a CPU each method leaves things as they are."""

    def __init__(self, device: str | torch.device, tf32: bool = True):
        self.cuda = torch.device(device).type == "cuda"
        self.tf32 = tf32

    def module(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(memory_format=torch.channels_last) if self.cuda else module

    def tensor(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.cuda else x

    def autocast(self, enabled: bool = True):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.cuda and enabled else nullcontext()

    @contextmanager
    def maths(self) -> Iterator[None]:
        if not self.cuda:
            yield
            return
        backends = torch.backends
        saved = backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32, backends.cudnn.benchmark
        backends.cuda.matmul.allow_tf32 = backends.cudnn.allow_tf32 = self.tf32
        backends.cudnn.benchmark = True
        try:
            yield
        finally:
            backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32, backends.cudnn.benchmark = saved
