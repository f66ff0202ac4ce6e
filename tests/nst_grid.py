"""The NST robustness grid: hard kinds of content x paintings of very different make x sizes.

Shared by tests/test_nst_robustness.py (small sizes, small budgets: CI) and bench/nst_robustness.py (the same
grid up to 384 px). Photos and paintings are read from ../shared/images (see its README).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from models.tensors import to_tensor

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"


def _photo(name: str) -> torch.Tensor:
    return to_tensor(Image.open(SHARED / "photos" / name))


def _square(name: str) -> torch.Tensor:
    x = _photo(name)
    h, w = x.shape[-2:]
    side = min(h, w)
    return x[:, (h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]


def _grey(name: str) -> torch.Tensor:
    return to_tensor(Image.open(SHARED / "photos" / name).convert("L"))


def _tiny(name: str) -> torch.Tensor:
    img = Image.open(SHARED / "photos" / name).convert("RGB")
    img.thumbnail((64, 64), Image.LANCZOS)
    return to_tensor(img)


# name -> how to make it; each a (3, H, W) tensor in [0, 1]
CONTENTS: dict[str, Callable[[], torch.Tensor]] = {
    "square": lambda: _square("kodak_kodim23.jpg"),
    "portrait": lambda: _photo("matplotlib_grace_hopper.jpg"),
    "landscape": lambda: _photo("kodak_kodim08.jpg"),
    "greyscale": lambda: _grey("kodak_kodim05.jpg"),
    "very_dark": lambda: _photo("kodak_kodim21.jpg") * 0.06,
    "very_bright": lambda: 1 - (1 - _photo("skimage_coffee.jpg")) * 0.06,
    "flat_colour": lambda: torch.tensor([0.42, 0.55, 0.71]).view(3, 1, 1).expand(3, 240, 320).clone(),
    "tiny_64px": lambda: _tiny("set14_monarch.jpg"),
}

# name -> painting under ../shared/images/paintings
STYLES = {
    "starry_night": "vangogh/gordicaleksa_vg_starry_night.jpg",
    "great_wave": "ukiyoe/jcjohnson_wave.jpg",
    "flat_ukiyoe": "ukiyoe/kemco_hashi.jpg",                            # flat colour fields, hard outlines
    "near_monochrome": "monet/hispace_monet-charing_cross_bridge.jpg",   # blue-grey haze
    "cezanne": "cezanne/macmvak_cezanne.jpg",
    "impression_sunrise": "monet/trininevares_sol2.jpg",
}


def style_image(name: str) -> torch.Tensor:
    img = Image.open(SHARED / "paintings" / STYLES[name]).convert("RGB")
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
