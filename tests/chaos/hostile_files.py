"""Hostile and odd files for the chaos suite, made in the test (nothing here is committed as data)."""
from __future__ import annotations

import io
import zipfile

from PIL import Image

from tests.crafted_images import png_header_only


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def photo_like(w: int = 160, h: int = 120, mode: str = "RGB") -> Image.Image:
    img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    img.paste((200, 40, 40), (w // 4, h // 4, w // 2, h // 2))
    return img.convert(mode) if mode != "RGB" else img


def corrupted_jpeg(real: bytes) -> bytes:
    data = bytearray(real)
    for i in range(len(data) // 3, len(data) // 3 + 400, 7):
        data[i] ^= 0x5A
    return bytes(data)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (96, 96), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def palette_with_transparency() -> bytes:
    img = photo_like().convert("P", palette=Image.ADAPTIVE, colors=16)
    return encoded(img, "PNG", transparency=0)


def exif_rotated(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encoded(photo_like(160, 96), "JPEG", exif=exif.tobytes(), quality=90)


def zip_file() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("photo.jpg", encoded(photo_like(), "JPEG"))
    return buf.getvalue()


def just_under_pixel_cap() -> bytes:
    return encoded(Image.new("RGB", (8000, 6200), (90, 120, 150)), "PNG", compress_level=1)  # 49.6 MP


# name -> (body, HTTP statuses that are a correct answer to POST /v1/stylize/vintage)
def stylize_bodies(real_jpeg: bytes) -> dict[str, tuple[bytes, set[int]]]:
    return {
        "empty": (b"", {415}),
        "one byte": (b"\xff", {415}),
        "text": (b"hello, this is not a picture", {415}),
        "html": (b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>", {415}),
        "pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF", {415}),
        "zip": (zip_file(), {415}),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" '
                b'height="100"/></svg>', {415}),
        "tiff": (encoded(photo_like(), "TIFF"), {415}),
        "truncated jpeg": (real_jpeg[: len(real_jpeg) // 3], {422}),
        "corrupted jpeg": (corrupted_jpeg(real_jpeg), {200, 422}),  # JPEG decoders may paint over damage
        "header only, 30000x30000 png": (png_header_only(30000, 30000), {413}),
        "just under the pixel cap": (just_under_pixel_cap(), {200}),
        "8000x40 strip": (encoded(Image.new("RGB", (8000, 40), "white"), "PNG"), {422}),
        "40x8000 strip": (encoded(Image.new("RGB", (40, 8000), "white"), "PNG"), {422}),
        "1x1": (encoded(Image.new("RGB", (1, 1)), "PNG"), {422}),
        "animated gif": (animated_gif(), {200}),
        "bmp": (encoded(photo_like(), "BMP"), {200}),
        "webp": (encoded(photo_like(), "WEBP"), {200}),
        "cmyk jpeg": (encoded(photo_like(mode="CMYK"), "JPEG"), {200}),
        "16-bit grey png": (encoded(Image.linear_gradient("L").resize((128, 96)).convert("I;16"), "PNG"), {200}),
        "palette with transparency": (palette_with_transparency(), {200}),
        "exif rotation 6": (exif_rotated(6), {200}),
        "exif rotation 3": (exif_rotated(3), {200}),
        "exif rotation 8": (exif_rotated(8), {200}),
        "40 MB body": (b"\0" * (40 * 1024 * 1024), {413}),
    }
