"""Painting a clip without flicker: one set of instance-norm statistics for the whole clip.

An instance-normalised network normalises each picture by its own per-channel mean and variance, so two frames
that differ by a little noise or a passing hand are normalised differently everywhere, and the whole painting
shimmers. Here the statistics come once from a few key frames spread over the clip, painted side by side as one
strip (the same idea as thumbnail instance norm for full-size photos, models/fullres), and every frame is painted
with them: the network is then local, and a pixel that does not change in the source hardly changes in the
painting.

The statistics are exported by layer name (`export_stats`) so that one replica can record them and any other
replica of the same network can paint the clip's frames with them (`import_stats`).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import torch
from torch import nn

from models.cyclegan.finishing import finish
from models.fullres.normstats import NormStats, install_norm_hooks
from models.onnxgraph.module import OnnxModule

KEY_FRAMES = 4       # frames whose statistics stand for the clip's: enough to span a pan, cheap to paint

Paint = Callable[[torch.Tensor], torch.Tensor]
ExportedStats = dict[str, list[np.ndarray]]


def key_frame_indices(frames: int, count: int = KEY_FRAMES) -> list[int]:
    """`count` frame positions spread evenly over a clip of `frames` frames (fewer when the clip is shorter)."""
    if frames <= 0:
        return []
    count = min(count, frames)
    return sorted({round((i + 0.5) * frames / count - 0.5) for i in range(count)})


def strip(frames: list[np.ndarray]) -> np.ndarray:
    """Same-size (H, W, 3) frames side by side as one (H, W * n, 3) picture."""
    if not frames or len({f.shape for f in frames}) != 1:
        raise ValueError("key frames must be given, all the same size")
    return np.concatenate(frames, axis=1)


def as_batch(frames: list[np.ndarray]) -> torch.Tensor:
    """(H, W, 3) uint8 frames -> (N, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div_(255)


def as_frames(batch: torch.Tensor) -> list[np.ndarray]:
    """(N, 3, H, W) in [0, 1] -> (H, W, 3) uint8 frames."""
    pixels = batch.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    return list(pixels)


def _layer_names(net: nn.Module) -> dict[Hashable, str]:
    """NormStats keys of `net` -> stable names: the module's name, and for an ONNX graph's pool its output's."""
    names: dict[Hashable, str] = {}
    for name, module in net.named_modules():
        names[module] = name
        if isinstance(module, OnnxModule):
            for node in module.nodes:
                names[(module, node.outputs[0])] = f"{name}#{node.outputs[0]}"
    return names


def export_stats(stats: NormStats, net: nn.Module) -> ExportedStats:
    """A recording as plain arrays by layer name: what crosses from one replica to another."""
    names = _layer_names(net)
    return {names[key]: [v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else
                         tuple(t.detach().cpu().numpy() for t in v) for v in values]
            for key, values in stats.recorded.items()}


def import_stats(exported: ExportedStats, net: nn.Module) -> NormStats:
    """`export_stats`'s arrays made a NormStats for this copy of the network. ValueError when they name a layer
    the network does not have (statistics from another network)."""
    by_name = {name: key for key, name in _layer_names(net).items()}
    stats = NormStats()
    for name, values in exported.items():
        if name not in by_name:
            raise ValueError(f"the clip's statistics name a layer this network lacks: {name}")
        stats.recorded[by_name[name]] = [torch.from_numpy(np.asarray(v)) if not isinstance(v, tuple) else
                                         tuple(torch.from_numpy(np.asarray(t)) for t in v) for v in values]
    return stats


class ClipStopped(Exception):
    """The caller asked the painting to stop (a cancelled clip): raised between frames."""


class SteadyPainter:
    """One network's clip painter: `record` the clip's statistics from its key frames, then `paint` its frames
    in batches with them (in any replica holding the same network)."""

    def __init__(self, net: nn.Module, sub_batch: int = 1):
        """`sub_batch`: frames the network runs at once. 1 on a CPU, where a batch of eight 720p frames was
        measured 2-3x slower than the same frames one by one (activations leave the caches); more on a GPU."""
        self.net, self.sub_batch = net, max(1, sub_batch)
        install_norm_hooks(net)

    @torch.inference_mode()
    def record(self, paint: Paint, key_frames: list[np.ndarray]) -> ExportedStats:
        stats = NormStats()
        with stats.recording():
            paint(as_batch([strip(key_frames)]))
        return export_stats(stats, self.net)

    @torch.inference_mode()
    def paint(self, paint: Paint, frames: list[np.ndarray], exported: ExportedStats,
              strength: float = 1.0, keep_colors: bool = False,
              stopped: Callable[[], bool] = lambda: False) -> list[np.ndarray]:
        """Same-size (H, W, 3) uint8 frames painted under the clip's statistics, `sub_batch` at a time, finished
        as a photo is (strength, kept colours) and returned as uint8 frames. `stopped` is asked before each
        sub-batch: True ends the painting there (ClipStopped)."""
        photos = as_batch(frames)
        painted = []
        with import_stats(exported, self.net).frozen():
            for i in range(0, len(photos), self.sub_batch):
                if stopped():
                    raise ClipStopped()
                painted.append(paint(photos[i:i + self.sub_batch]))
        return _finished(photos, torch.cat(painted), strength, keep_colors)

    @torch.inference_mode()
    def paint_alone(self, paint: Paint, frames: list[np.ndarray], _unused: None = None,
                    strength: float = 1.0, keep_colors: bool = False,
                    stopped: Callable[[], bool] = lambda: False) -> list[np.ndarray]:
        """Each frame normalised by its own statistics, as a photo is: the flicker steady painting removes."""
        photos = as_batch(frames)
        painted = []
        for photo in photos:
            if stopped():
                raise ClipStopped()
            painted.append(paint(photo[None]))
        return _finished(photos, torch.cat(painted), strength, keep_colors)


def _finished(photos: torch.Tensor, painted: torch.Tensor, strength: float, keep_colors: bool) -> list[np.ndarray]:
    return as_frames(torch.stack([finish(x, y, strength, keep_colors) for x, y in zip(photos, painted)]))
