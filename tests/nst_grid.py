"""The NST robustness grid: hard kinds of content x paintings of very different make x sizes.

Shared by tests/test_nst_robustness.py (small sizes, small budgets: CI) and bench/nst_robustness.py (the same
grid up to 384 px). Photos and paintings are in tests/data (tests/data/SOURCES.md: redistributable photos and public-domain
paintings at 512 px), so the grid needs nothing beside the repository.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from models.tensors import to_tensor

DATA = Path(__file__).resolve().parent / "data"
GRID = DATA / "grid"


def _photo(name: str) -> torch.Tensor:
    return to_tensor(Image.open(GRID / name).convert("RGB"))


def _grey(name: str) -> torch.Tensor:
    return to_tensor(Image.open(GRID / name).convert("L"))


def _tiny(name: str) -> torch.Tensor:
    img = Image.open(GRID / name).convert("RGB")
    img.thumbnail((64, 64), Image.LANCZOS)
    return to_tensor(img)


# name -> how to make it; each a (3, H, W) tensor in [0, 1]
CONTENTS: dict[str, Callable[[], torch.Tensor]] = {
    "square": lambda: to_tensor(Image.open(DATA / "kodim23.jpg").convert("RGB")),
    "portrait": lambda: _photo("matplotlib_grace_hopper.jpg"),
    "landscape": lambda: _photo("kodak_kodim08.jpg"),
    "greyscale": lambda: _grey("kodak_kodim05.jpg"),
    "very_dark": lambda: _photo("kodak_kodim21.jpg") * 0.06,
    "very_bright": lambda: 1 - (1 - _photo("skimage_coffee.jpg")) * 0.06,
    "flat_colour": lambda: torch.tensor([0.42, 0.55, 0.71]).view(3, 1, 1).expand(3, 240, 320).clone(),
    "tiny_64px": lambda: _tiny("kodak_kodim15.jpg"),
}

# name -> painting under tests/data
STYLES = {
    "starry_night": "starry_night.jpg",
    "great_wave": "wave.jpg",
    "flat_ukiyoe": "grid/hokusai_hashi.jpg",                   # flat colour fields, hard outlines
    "near_monochrome": "grid/monet_charing_cross_bridge.jpg",  # blue-grey haze
    "cezanne": "grid/cezanne_macmvak.jpg",
    "impression_sunrise": "grid/monet_impression_sunrise.jpg",
}


def style_image(name: str) -> torch.Tensor:
    img = Image.open(DATA / STYLES[name]).convert("RGB")
    img.thumbnail((512, 512), Image.LANCZOS)
    return to_tensor(img)


@dataclass(frozen=True)
class Case:
    content: str
    style: str
    size: int

    @property
    def id(self) -> str:
        return f"{self.content}-{self.style}-{self.size}"


def grid(sizes: tuple[int, ...]) -> list[Case]:
    """Every content with three styles, the styles rotating so each is met by four contents, and the sizes
    cycling: 8 x 3 = 24 cases."""
    styles, cases = list(STYLES), []
    for i, content in enumerate(CONTENTS):
        for j in range(3):
            k = 3 * i + j
            cases.append(Case(content, styles[k % len(styles)], sizes[k % len(sizes)]))
    return cases
