"""What every model replica does at start: pick its torch device and thread count, open the weights store."""
from __future__ import annotations

import os

import torch


def prepare_torch(device: str) -> str:
    """Use the GPU the replica was given, else the CPU with as many threads as there are cores to share."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("this replica was given a GPU but torch sees none")
    threads = int(os.environ.get("STYLEBOT_TORCH_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(threads)
    return device
