"""The tile grid of a full-resolution painting, and the two reads of the photo it needs (a thumbnail, and one
tile at a time), all from an (H, W, 3) uint8 array without ever holding the photo in float."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from models.tensors import fit_long_side, from_array

ALIGN = 4          # the networks downsample twice by 2: tiles start on the same 4 px phase as the whole image
THUMB_STRIP = 64   # thumbnail rows made per step (each from a strip of the photo, so no full-size copy is made)


def round_up(n: int, multiple: int = ALIGN) -> int:
    return -(-n // multiple) * multiple


@dataclass(frozen=True)
class Tile:
    """`core`: the pixels this tile writes, (top, left, bottom, right); `box`: the pixels it reads, the core
    and up to `margin` px of context on each side that is not the photo's edge."""
    core: tuple[int, int, int, int]
    box: tuple[int, int, int, int]

    def crop(self) -> tuple[slice, slice]:
        """Where the core lies in the tile's painted box."""
        top, left = self.core[0] - self.box[0], self.core[1] - self.box[1]
        return slice(top, top + self.core[2] - self.core[0]), slice(left, left + self.core[3] - self.core[1])


def _cuts(n: int, tile: int, margin: int) -> list[int]:
    """Starts of ceil(n / tile) near-equal cores of at most `tile` px (multiples of ALIGN), and n at the end;
    one core when the whole side is no more than a tile reads (tile + 2 margins)."""
    k = 1 if n <= tile + 2 * margin else math.ceil(n / tile)
    step = round_up(math.ceil(n / k))
    return [min(i * step, n) for i in range(k)] + [n]


def tile_grid(h: int, w: int, tile: int, margin: int) -> list[Tile]:
    """Cores of at most `tile` px covering the image, row by row, each read with `margin` px of context."""
    if tile % ALIGN or margin % ALIGN:
        raise ValueError(f"tile and margin must be multiples of {ALIGN} px, not {tile} and {margin}")
    ys, xs = _cuts(h, tile, margin), _cuts(w, tile, margin)
    tiles = []
    for top, bottom in zip(ys, ys[1:]):
        for left, right in zip(xs, xs[1:]):
            if bottom > top and right > left:
                box = (max(0, top - margin), max(0, left - margin), min(h, bottom + margin), min(w, right + margin))
                tiles.append(Tile((top, left, bottom, right), box))
    return tiles


def borders(tiles: list[Tile]) -> tuple[list[int], list[int]]:
    """The rows and columns where one tile's core meets the next (the first pixel of the later core)."""
    ys = sorted({t.core[0] for t in tiles} - {0})
    xs = sorted({t.core[1] for t in tiles} - {0})
    return ys, xs


def read_tile(photo: np.ndarray, tile: Tile) -> torch.Tensor:
    """The tile's box of the photo as (3, h, w) float32 in [0, 1]."""
    top, left, bottom, right = tile.box
    return from_array(photo[top:bottom, left:right])


def write_tile(out: np.ndarray, tile: Tile, painted: torch.Tensor) -> None:
    """The core of a painted (3, h, w) box into the (H, W, 3) uint8 output."""
    rows, cols = tile.crop()
    core = painted[:, rows, cols].clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0)
    top, left, bottom, right = tile.core
    out[top:bottom, left:right] = core.numpy()


def thumbnail(photo: np.ndarray, long_side: int) -> torch.Tensor:
    """The photo shrunk (area average) to `long_side` as (3, h, w) float32, made strip by strip: the same
    pixels as shrinking it whole, with only a strip of the photo copied at a time. The photo itself when it is
    no larger."""
    h, w = photo.shape[:2]
    if max(h, w) <= long_side:
        return from_array(photo)
    th, tw = fit_long_side((h, w), long_side)
    rows = []
    for a in range(0, th, THUMB_STRIP):
        b = min(th, a + THUMB_STRIP)
        y0, y1 = a * h / th, b * h / th
        first, last = math.floor(y0), min(h, math.ceil(y1))
        strip = Image.fromarray(np.ascontiguousarray(photo[first:last]))
        rows.append(np.asarray(strip.resize((tw, b - a), Image.BOX, box=(0, y0 - first, w, y1 - first))))
    return from_array(np.concatenate(rows))
