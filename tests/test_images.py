import io

import pytest
from PIL import Image

from models.images import (ImageLimits, ImageTooLarge, ImageTooSmall, NotAnImage, UnreadableImage,
                          UnsupportedFormat, decode_image, encode_image, format_for_path)
from tests.crafted_images import png_header_only


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF"])
def test_decodes_each_accepted_format(fmt):
    img = Image.new("RGB", (80, 60), (200, 30, 40))
    out = decode_image(encoded(img, fmt))
    assert out.mode == "RGB" and out.size == (80, 60)
    r, g, b = out.getpixel((40, 30))
    assert r > 150 and g < 80 and b < 90


def test_gif_gives_the_first_frame():
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    out = decode_image(buf.getvalue())
    assert out.getpixel((10, 10))[0] > 200


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (120, 60), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 60, 60))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    out = decode_image(encoded(img, "JPEG", exif=exif.tobytes(), quality=95))
    assert out.size == (60, 120)
    assert sum(out.getpixel((30, 10))) > 600  # the white half is now on top


def test_transparency_goes_onto_white():
    img = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    img.putpixel((0, 0), (0, 0, 255, 255))
    out = decode_image(encoded(img, "PNG"))
    assert out.getpixel((20, 20)) == (255, 255, 255)
    assert out.getpixel((0, 0)) == (0, 0, 255)
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([10, 20, 30, 200, 200, 200])
    out = decode_image(encoded(pal, "PNG", transparency=0))
    assert out.getpixel((5, 5)) == (255, 255, 255)


def test_cmyk_greyscale_and_16_bit_become_rgb():
    cmyk = decode_image(encoded(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG"))
    r, g, b = cmyk.getpixel((20, 20))
    assert r > 200 and g < 60 and b < 60
    grey = decode_image(encoded(Image.new("L", (40, 40), 90), "PNG"))
    assert grey.getpixel((3, 3)) == (90, 90, 90)
    deep = Image.new("I;16", (40, 40), 65535)
    deep.paste(32896, (0, 0, 20, 40))
    out = decode_image(encoded(deep, "PNG"))
    assert out.getpixel((30, 5)) == (255, 255, 255)
    assert out.getpixel((5, 5))[0] in (127, 128)  # scaled, not clipped to white


def test_resizes_to_the_maximum_side():
    out = decode_image(encoded(Image.new("RGB", (2000, 1000)), "JPEG"), max_side=500)
    assert out.size == (500, 250)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n1 0 obj << >> endobj\n", "hello".encode(),
                                  b"GIF89a-but-not-really"])
def test_not_an_image(data):
    with pytest.raises(NotAnImage) as e:
        decode_image(data)
    assert "photo" in e.value.message and e.value.code == "not_an_image"


def test_truncated_image_is_unreadable():
    data = encoded(Image.effect_noise((400, 300), 60).convert("RGB"), "JPEG")
    with pytest.raises(UnreadableImage) as e:
        decode_image(data[: len(data) // 3])
    assert "again" in e.value.message


def test_unsupported_format():
    with pytest.raises(UnsupportedFormat) as e:
        decode_image(encoded(Image.new("RGB", (40, 40)), "TIFF"))
    assert "TIFF" in e.value.message and "JPEG" in e.value.message


@pytest.mark.parametrize("w,h", [(20000, 20000), (9000, 6000)])
def test_too_many_pixels_refused_before_decoding(w, h):
    with pytest.raises(ImageTooLarge) as e:
        decode_image(png_header_only(w, h))
    assert "smaller" in e.value.message


def test_too_many_bytes_and_too_small():
    with pytest.raises(ImageTooLarge):
        decode_image(encoded(Image.effect_noise((64, 64), 50), "PNG"), ImageLimits(max_bytes=1000))
    with pytest.raises(ImageTooSmall) as e:
        decode_image(encoded(Image.new("RGB", (10, 200)), "PNG"))
    assert "10x200" in e.value.message


def test_encode_round_trip_and_format_from_path():
    img = Image.new("RGB", (50, 40), (10, 200, 30))
    assert Image.open(io.BytesIO(encode_image(img, "PNG"))).getpixel((1, 1)) == (10, 200, 30)
    assert Image.open(io.BytesIO(encode_image(img, "JPEG"))).format == "JPEG"
    assert format_for_path("a/b.JPG") == "JPEG" and format_for_path("x.png") == "PNG"
    with pytest.raises(ValueError):
        format_for_path("x.gif")
