"""A copy of the training images small enough for the GPU machine's 64 MiB transfer limit.

`python bench/shrink_for_device.py ../shared/images .gpu_data`: photos resized to 288 px on the short side
(LANCZOS, WebP quality 72), paintings to at most 640 px on the long side (WebP 80). Names keep their stems, so the
sorted order, and with it the held-out tenth of `stylebot train-preset`, is the same as the originals'.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageOps

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def shrink(src: Path, dst: Path, short_side: int | None, long_side: int | None, quality: int) -> None:
    image = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
    w, h = image.size
    scale = min(1.0, short_side / min(w, h)) if short_side else min(1.0, long_side / max(w, h))
    if scale < 1.0:
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    image.save(dst.with_suffix(".webp"), "WEBP", quality=quality, method=6)


def main(source: Path, target: Path) -> None:
    for src in sorted((source / "photos").rglob("*")):
        if src.suffix.lower() in SUFFIXES:
            shrink(src, target / "photos" / src.relative_to(source / "photos"), 288, None, 72)
    for folder in ("paintings", "seed_styles"):
        for src in sorted((source / folder).glob("*/*" if folder == "paintings" else "*")):
            if src.suffix.lower() in SUFFIXES:
                shrink(src, target / folder / src.relative_to(source / folder), None, 640, 80)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
