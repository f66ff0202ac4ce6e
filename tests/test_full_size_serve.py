"""Full size through the styles app (issue #25): `size=full` over HTTP and the handle paints the photo at its own
size, tile by tile (models/fullres), with every engine of the test catalogue; the handle's stream reports the
tiles done; a caller who leaves stops the painting."""
import asyncio
import io
import time

import httpx
import numpy as np
import pytest
from PIL import Image
from ray import serve

pytestmark = pytest.mark.serve
PRESETS = ["vangogh", "starry_blue", "candy"]   # a CycleGAN-layout generator, the 26-style network, a fixed style


@pytest.fixture()
def http(styles_app):
    with httpx.Client(base_url=styles_app["url"], timeout=300) as client:
        yield client


def photo(data_dir, w: int, h: int) -> bytes:
    img = Image.open(data_dir / "kodim23.jpg").convert("RGB").resize((w, h), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32) / 255


async def events_of(stream) -> list[dict]:
    return [e async for e in stream]


@pytest.mark.parametrize("preset", PRESETS)
def test_size_full_paints_the_photo_at_its_own_size(http, data_dir, preset):
    data = photo(data_dir, 1040, 560)       # over the 1024 px a preset painted at before: painted in 3 tiles
    r = http.post(f"/v1/stylize/{preset}", params={"size": "full"}, content=data,
                  headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    out = pixels(r.content)
    assert out.shape == (560, 1040, 3)
    assert np.abs(out - pixels(data)).mean() > 0.02   # painted, not the photo sent back (vintage is subtle: 0.036)


def test_the_service_paints_as_the_tiled_painter_does_with_its_finishing(http, data_dir, store):
    """The served painting is models/fullres's, strength and kept colours applied tile by tile: the same
    pixels, up to JPEG's rounding."""
    from models import loading
    from models.catalogue import Catalogue
    from models.cyclegan.finishing import finished
    from models.fullres import FullResPainter
    from tests.conftest import DATA

    data = photo(data_dir, 1040, 560)
    r = http.post("/v1/stylize/vangogh", params={"size": "full", "strength": 0.6, "keep_colors": "true"},
                  content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    catalogue = Catalogue.load(DATA / "styles.yaml")
    status = catalogue.status(catalogue.get("vangogh"), store)
    runner, style = loading.load_preset_runner(store, status)
    local = FullResPainter(finished(runner.for_style(style), 0.6, True), runner.net)(
        np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert np.abs(pixels(r.content) - local / 255).mean() < 0.01


def test_fast_with_size_full_paints_at_the_photos_size(http, data_dir):
    files = {"content": ("p.jpg", photo(data_dir, 1040, 560), "image/jpeg"),
             "style": ("s.jpg", (data_dir / "wave.jpg").read_bytes(), "image/jpeg")}
    r = http.post("/v1/fast", data={"size": "full", "strength": "0.8"}, files=files)
    assert r.status_code == 200, r.text
    assert pixels(r.content).shape == (560, 1040, 3)


def test_the_stream_reports_each_tile_then_the_result(styles_app, data_dir):
    handle = serve.get_app_handle("styles").options(stream=True)
    events = asyncio.run(events_of(handle.stylize_stream.remote("starry_blue", photo(data_dir, 1100, 700),
                                                                "JPEG", "full")))
    progress, result = events[:-1], events[-1]
    assert [e["done"] for e in progress] == list(range(1, len(progress) + 1)) == list(range(1, 7))
    assert {e["total"] for e in progress} == {6}
    assert result["type"] == "result" and pixels(result["image"]).shape == (700, 1100, 3)
    small = asyncio.run(events_of(handle.stylize_stream.remote("starry_blue", photo(data_dir, 1100, 700),
                                                               "JPEG", 256)))
    assert [e["type"] for e in small] == ["result"]          # any other size: the result only
    assert max(Image.open(io.BytesIO(small[0]["image"])).size) == 256


def test_a_caller_who_leaves_stops_the_painting(styles_app, data_dir):
    generator = serve.get_deployment_handle("Generator_multistyle26", "styles")
    before = generator.stats.remote().result()["full_size"]
    handle = serve.get_app_handle("styles").options(stream=True)

    async def leave_after_the_first_tile() -> dict:
        stream = handle.stylize_stream.remote("starry_blue", photo(data_dir, 2400, 1800), "JPEG", "full")
        first = await stream.__anext__()
        stream.cancel()
        return first

    first = asyncio.run(leave_after_the_first_tile())
    assert first["type"] == "progress" and first["total"] > 1
    end = time.monotonic() + 60
    while (now := generator.stats.remote().result()["full_size"])["stopped"] == before["stopped"]:
        assert time.monotonic() < end, "the painting went on after its caller left"
        time.sleep(0.2)
    assert now["painted"] == before["painted"]


def test_an_nst_result_comes_back_at_the_photos_size_when_asked(http, data_dir):
    """The optimiser paints at `size`; with full_size its picture is brought to the photo's size with a full-size
    painting's detail above its scale (models/fullres/enlarge.py), and shrunk back it is still the optimiser's."""
    data = photo(data_dir, 1040, 560)
    files = {"content": ("p.jpg", data, "image/jpeg"),
             "style": ("s.jpg", (data_dir / "wave.jpg").read_bytes(), "image/jpeg")}
    fields = {"size": "96", "steps": "40"}
    small = http.post("/v1/nst", data=fields, files=files)
    large = http.post("/v1/nst", data={**fields, "full_size": "true"}, files=files)
    assert small.status_code == large.status_code == 200, (small.text[:200], large.text[:200])
    small_px, large_px = pixels(small.content), pixels(large.content)
    assert small_px.shape == (52, 96, 3) and large_px.shape == (560, 1040, 3)
    back = np.asarray(Image.fromarray((large_px * 255).astype(np.uint8)).resize((96, 52), Image.BOX), np.float32) / 255
    assert np.abs(back - small_px).mean() < 0.04
