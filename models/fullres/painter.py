"""Full-resolution painting with any instance-normalised network, after URST (Chen et al., AAAI 2022):

1. paint a thumbnail of the photo (long side `thumb_side`, 1024 by default) and record every instance norm's
   per-channel mean and variance (models/fullres/normstats.py);
2. paint the photo tile by tile with those statistics frozen: with them the network is local, so a pixel's
   colour depends only on the photo within the network's reach of it;
3. read each tile with a margin of at least that reach on every inner side and keep only its core, written
   into a preallocated (H, W, 3) uint8 array.

Memory: the photo and the output (3 bytes a pixel each) plus one tile's activations and the thumbnail's; time:
linear in the pixels. With the statistics frozen the cores are exactly the pixels the whole image would get
painted with the same statistics (the tests check it to float rounding), so no border shows; what remains is
the difference between the thumbnail's statistics and the full image's own.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
import torch
from PIL import Image
from torch import nn

from models.fullres.normstats import NormStats, install_norm_hooks
from models.fullres.tiles import ALIGN, Tile, read_tile, round_up, thumbnail, tile_grid, write_tile

Paint = Callable[[torch.Tensor], torch.Tensor]   # (3, H, W) in [0, 1] -> (3, H, W) in [0, 1]

THUMB_SIDE = 1024   # the size the presets painted at before full resolution: the statistics they were shown at
TILE = 512          # core px; with a generator's 92 px margin a tile reads at most 696 x 696 px
REACH_SIDE = 384    # the probe image of measure_reach: enough for a reach up to 180 px


@torch.inference_mode()
def measure_reach(paint: Paint, net: nn.Module, side: int = REACH_SIDE) -> int:
    """How far (px) a change to the input moves the output, with the norms' statistics frozen: the margin a tile
    needs so that its core is painted exactly as in the whole image. Measured, not computed, so it holds for any
    network (an ONNX graph included): a 4 x 4 block in the middle of a noise image is inverted, and the furthest
    output pixel that changes at all sets the reach (outside it the same sums run on the same numbers: equal to
    the bit; a threshold would cut it short, as the furthest pixels move by 1e-7: 83 px for the vangogh preset
    exact, 68-79 px above 1e-6, 83 also with its ReLUs and tanh taken out, where nothing can stop a change). ValueError if the change reaches the probe's edge
    (the network is not local: a global statistic was not frozen, or the reach is over side / 2)."""
    install_norm_hooks(net)
    x = torch.rand(3, side, side, generator=torch.Generator().manual_seed(0))
    c = round_up(side // 2)
    moved = x.clone()
    moved[:, c:c + ALIGN, c:c + ALIGN] = 1 - moved[:, c:c + ALIGN, c:c + ALIGN]
    stats = NormStats()
    with stats.recording():
        paint(x)
    with stats.frozen():
        a = paint(x)
    with stats.frozen():
        b = paint(moved)
    ys, xs = torch.nonzero((a != b).any(0), as_tuple=True)
    if len(ys) == 0:
        raise ValueError("the output does not depend on the input")
    if min(ys.min(), xs.min()) == 0 or max(ys.max(), xs.max()) == side - 1:
        raise ValueError(f"a change reaches the edge of a {side} px probe: the network is not local with its "
                         "norm statistics frozen")
    last = c + ALIGN - 1
    return int(max(c - ys.min(), ys.max() - last, c - xs.min(), xs.max() - last))


class FullResPainter:
    """`painter(photo)`: (H, W, 3) uint8 (or a PIL image) -> the painting, (H, W, 3) uint8, at the photo's size.

    `paint`: the engine on one image, e.g. `runner.for_style(style)`; `net`: the module holding its norm layers
    (`runner.net`). `tile`: core side in px; `margin`: context px read around each core (by default
    measure_reach's value rounded up to a multiple of 4); `thumb_side`: the thumbnail's long side; `whole_side`
    (default `thumb_side`): a photo whose long side is no more is painted whole, as before full resolution (its
    thumbnail would be itself: the same pixels, sooner). One painter may serve several threads: each call keeps
    its statistics to itself. `reach_of`: the painting to measure the reach on, when `paint` adds a per-pixel
    step after it (a blend with the photo at strength 0 would reach nothing)."""

    def __init__(self, paint: Paint, net: nn.Module, tile: int = TILE, margin: int | None = None,
                 thumb_side: int = THUMB_SIDE, whole_side: int | None = None, reach_of: Paint | None = None):
        self.n_stats = install_norm_hooks(net)
        self.paint, self.net, self.tile, self.thumb_side = paint, net, tile, thumb_side
        self.whole_side = thumb_side if whole_side is None else whole_side
        self.reach = measure_reach(reach_of or paint, net) if margin is None else None
        self.margin = round_up(self.reach) if margin is None else margin

    @classmethod
    def for_runner(cls, runner, style=None, **options) -> "FullResPainter":
        """A painter for a GeneratorRunner (or its multi-style, transformer and fixed-style subclasses)
        painting `style` (None: a one-style generator; an index; a fixed style's name; a style vector)."""
        return cls(runner.for_style(style), runner.net, **options)

    def tiles(self, h: int, w: int) -> list[Tile]:
        if max(h, w) <= self.whole_side:
            return [Tile((0, 0, h, w), (0, 0, h, w))]
        return tile_grid(h, w, self.tile, self.margin)

    def record(self, photo: np.ndarray) -> NormStats:
        """The norm statistics of the photo's thumbnail, as painted at THUMB_SIDE."""
        stats = NormStats()
        with torch.inference_mode(), stats.recording():
            self.paint(thumbnail(photo, self.thumb_side))
        return stats

    @torch.inference_mode()
    def __call__(self, photo: np.ndarray | Image.Image, thumbnail_stats: bool = True,
                 on_tile: Callable[[int, int], None] | None = None) -> np.ndarray:
        """`on_tile(done, total)` is called after each tile (progress; an exception it raises stops the
        painting). `thumbnail_stats=False` paints each tile with its own statistics, the naive tiling that shows
        seams (kept for the tests and the benchmark, which show what the thumbnail's statistics remove)."""
        photo = np.asarray(photo.convert("RGB")) if isinstance(photo, Image.Image) else photo
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
            raise ValueError(f"a photo is an (H, W, 3) uint8 array, not {photo.dtype} {photo.shape}")
        h, w = photo.shape[:2]
        tiles = self.tiles(h, w)
        stats = self.record(photo) if thumbnail_stats and len(tiles) > 1 else None
        out = np.empty((h, w, 3), np.uint8)
        for done, tile in enumerate(tiles, 1):
            with stats.frozen() if stats is not None else nullcontext():
                painted = self.paint(read_tile(photo, tile))
            write_tile(out, tile, painted)
            if on_tile is not None:
                on_tile(done, len(tiles))
        return out

    def tile_count(self, h: int, w: int) -> int:
        return len(self.tiles(h, w))
