"""Results made to fit Telegram's upload limits (bot/telegram_fit.py), on real encoded pictures: a photo at most
10 MB with width + height at most 10000, a document at most 50 MB; the highest JPEG quality that fits, and a
smaller picture only when none does."""
import io

import numpy as np
from PIL import Image

from bot import texts
from bot.jobs.helpers import shrunk_note
from bot.telegram_fit import PHOTO_BYTES, QUALITIES, fit, fit_document, fit_photo
from models.images import encode_image


def noise(w: int, h: int, fmt: str = "PNG") -> bytes:
    """Pixels no encoder can shrink much: the worst case for a byte limit."""
    pixels = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return encode_image(Image.fromarray(pixels), fmt)


def picture(w: int, h: int) -> bytes:
    """A smooth picture (a gradient): small when encoded, whatever its size."""
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
    pixels = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2).astype(np.uint8)
    return encode_image(Image.fromarray(pixels), "JPEG")


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_picture_that_fits_goes_as_it_is():
    data = picture(1600, 1200)
    for fitted in (fit_photo(data), fit_document(data)):
        assert fitted.data is data and fitted.ext == "jpg" and fitted.size == (1600, 1200)
        assert fitted.shrunk_from is None


def test_a_photo_over_10_mb_is_the_best_jpeg_under_it_at_the_same_size():
    data = noise(2400, 2000)                     # 14 MB of PNG
    assert len(data) > PHOTO_BYTES
    fitted = fit_photo(data)
    assert fitted.ext == "jpg" and len(fitted.data) <= PHOTO_BYTES
    assert opened(fitted.data).size == fitted.size == (2400, 2000) and fitted.shrunk_from is None
    assert fit_document(data).data is data       # 14 MB is a fine document
    used = next(q for q in QUALITIES if len(encode_image(opened(data), "JPEG", quality=q)) <= PHOTO_BYTES)
    assert used < QUALITIES[0]                   # the top quality did not fit ...
    assert encode_image(opened(data), "JPEG", quality=used) == fitted.data   # ... and the best that did was used


def test_a_photo_wider_than_telegram_allows_is_shrunk_and_says_so():
    fitted = fit_photo(picture(9000, 1800))      # width + height 10800
    w, h = opened(fitted.data).size
    assert (w, h) == fitted.size and w + h <= 10_000 and abs(w / h - 5) < 0.01
    assert fitted.shrunk_from == (9000, 1800)
    note = shrunk_note(fitted, texts.for_language("en"))
    assert f"{w}x{h}" in note and "9000x1800" in note
    assert "9000x1800" in shrunk_note(fitted, texts.for_language("ru"))
    assert fit_document(picture(9000, 1800)).shrunk_from is None   # a document has no such limit


def test_a_picture_no_quality_can_fit_is_shrunk_until_one_does():
    data = noise(1000, 800, "JPEG")
    fitted = fit(data, max_bytes=150_000, max_sides=None)
    assert len(fitted.data) <= 150_000 and fitted.shrunk_from == (1000, 800)
    w, h = fitted.size
    assert w < 1000 and abs(w / h - 1.25) < 0.01
    assert shrunk_note(fitted, texts.for_language("en")) != ""
