"""A labelled grid of pictures: every style on one sample photo."""
from __future__ import annotations

from PIL import Image, ImageDraw

LABEL_H = 18


def contact_sheet(items: list[tuple[str, Image.Image]], tile: int = 160, columns: int = 6) -> Image.Image:
    """`items`: (label, picture); each picture is fitted into a `tile` square cell under its label."""
    if not items:
        raise ValueError("a contact sheet needs at least one picture")
    columns = min(columns, len(items))
    rows = -(-len(items) // columns)
    sheet = Image.new("RGB", (columns * tile, rows * (tile + LABEL_H)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, img) in enumerate(items):
        x, y = (i % columns) * tile, (i // columns) * (tile + LABEL_H)
        thumb = img.convert("RGB")
        thumb.thumbnail((tile, tile), Image.LANCZOS)
        sheet.paste(thumb, (x + (tile - thumb.width) // 2, y + LABEL_H + (tile - thumb.height) // 2))
        draw.text((x + 4, y + 3), label[:28], fill="black")
    return sheet
