"""Decoding, validating and encoding user images. Every failure is an ImageError whose message can be shown to
the person who sent the file, and whose `code` a client can act on.

Pixel counts are checked from the header, before the pixels are decoded, so a decompression bomb costs nothing.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from models import limits
from models.error_codes import ErrorCode

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF"}  # MPO: JPEGs from phone cameras


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = limits.MAX_UPLOAD_BYTES
    max_pixels: int = limits.MAX_PIXELS
    min_side: int = limits.MIN_IMAGE_SIDE
    max_side: int = limits.MAX_SIDE


DEFAULT_LIMITS = ImageLimits()


class ImageError(ValueError):
    code = ErrorCode.BAD_IMAGE

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAnImage(ImageError):
    code = ErrorCode.NOT_AN_IMAGE


class UnsupportedFormat(ImageError):
    code = ErrorCode.UNSUPPORTED_FORMAT


class UnreadableImage(ImageError):
    code = ErrorCode.UNREADABLE_IMAGE


class ImageTooLarge(ImageError):
    code = ErrorCode.IMAGE_TOO_LARGE


class ImageTooSmall(ImageError):
    code = ErrorCode.IMAGE_TOO_SMALL


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def decode_image(data: bytes, limits: ImageLimits = DEFAULT_LIMITS, max_side: int | None = None) -> Image.Image:
    """Bytes -> upright RGB image whose long side is at most `max_side` (default limits.max_side)."""
    max_side = max_side or limits.max_side
    if not data:
        raise NotAnImage("The file is empty. Please send a photo (JPEG, PNG or WebP).")
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"The file is {_mb(len(data))}; the limit is {_mb(limits.max_bytes)}. "
                            "Please send a smaller image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("The image has far too many pixels. Please send a smaller image.") from None
    except UnidentifiedImageError:
        raise NotAnImage("This file is not an image I can read. Please send a photo (JPEG, PNG or WebP).") from None
    except Exception:
        raise UnreadableImage("The image could not be read; it may be damaged. Please send it again.") from None

    if img.format not in ACCEPTED_FORMATS:
        raise UnsupportedFormat(f"{img.format} images are not supported. Please send a JPEG, PNG or WebP image.")
    w, h = img.size
    if w * h > limits.max_pixels:
        raise ImageTooLarge(f"The image is {w}x{h} pixels; the limit is {limits.max_pixels // 1_000_000} "
                            "megapixels. Please send a smaller image.")
    if min(w, h) < limits.min_side:
        raise ImageTooSmall(f"The image is {w}x{h} pixels; it needs to be at least {limits.min_side} pixels "
                            "on each side. Please send a larger image.")
    try:
        upright = (h, w) if img.getexif().get(0x0112) in (5, 6, 7, 8) else (w, h)  # as the person sees it
        if img.format in ("JPEG", "MPO"):
            img.draft("RGB", (max_side, max_side))  # decode at a reduced scale when the JPEG allows it
        img.seek(0)  # first frame of an animation
        img.load()
        img = ImageOps.exif_transpose(img) or img
        rgb = to_rgb(img)
    except ImageError:
        raise
    except Exception:
        raise UnreadableImage("The image could not be read; it may be damaged or cut off. "
                              "Please send it again.") from None
    rgb = shrink(rgb, max_side)
    rgb.info["original_size"] = upright  # for messages about the image the person knows
    return rgb


def shrink(img: Image.Image, long_side: int) -> Image.Image:
    """Shrink `img` in place so that its long side is at most `long_side` (Lanczos, aspect kept); returns it."""
    if max(img.size) > long_side:
        img.thumbnail((long_side, long_side), Image.LANCZOS)
    return img


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB. Transparency goes onto white; 16-bit and float greys are scaled, not clipped."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return img.convert("I").point(lambda v: v * (1 / 257)).convert("L").convert("RGB")
    if mode == "I":
        _, hi = img.getextrema()
        scale = 255 / hi if hi > 255 else 1
        return img.point(lambda v: v * scale).convert("L").convert("RGB")
    if mode == "F":
        _, hi = img.getextrema()
        scale = 255 if hi <= 1.0 else 1
        return img.point(lambda v: v * scale).convert("L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def encode_image(img: Image.Image, fmt: str = "JPEG", quality: int = 92, png_level: int = 6) -> bytes:
    fmt = fmt.upper()
    buf = io.BytesIO()
    if fmt in ("JPEG", "JPG"):
        rgb, sub = img.convert("RGB"), 0 if quality >= 90 else 2
        try:
            rgb.save(buf, "JPEG", quality=quality, optimize=True, subsampling=sub)
        except OSError:  # Pillow's optimised-Huffman buffer overflows on very noisy images ("Suspension not allowed")
            buf = io.BytesIO()
            rgb.save(buf, "JPEG", quality=quality, subsampling=sub)
    elif fmt == "PNG":
        img.save(buf, "PNG", optimize=False, compress_level=png_level)
    else:
        raise ValueError(f"cannot encode {fmt}; use JPEG or PNG")
    return buf.getvalue()


def format_for_path(path: str) -> str:
    """Output format from a file name: .jpg/.jpeg -> JPEG, .png -> PNG."""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext in ("jpg", "jpeg"):
        return "JPEG"
    if ext == "png":
        return "PNG"
    raise ValueError(f"the output file must end in .jpg, .jpeg or .png, not {path!r}")
