"""The "styles" Serve application on a real local Ray cluster: HTTP and handle paths, streaming, cancellation,
batching, back-pressure and bad input. One cluster and one app for the whole module."""
import asyncio
import base64
import io
import json
import time

import httpx
import numpy as np
import pytest
from PIL import Image
from ray import serve

from tests.conftest import nst_answers_within
from tests.crafted_images import png_header_only

pytestmark = pytest.mark.serve


@pytest.fixture(scope="module")
def app(styles_app):
    return styles_app


@pytest.fixture()
def http(app):
    with httpx.Client(base_url=app["url"], timeout=120) as client:
        yield client


def photo_bytes(data_dir, name="kodim23.jpg"):
    return (data_dir / name).read_bytes()


LONG_NST = {"size": 192, "steps": 1000}   # minutes of work: a probe only gets through if it was stopped


def nst_stats():
    return serve.get_deployment_handle("NSTOptimizer", "styles").stats.remote().result()


def wait_until_free(timeout=60):
    return nst_answers_within(timeout)


# -- HTTP -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content,style,side,scale,expected", [
    ((512, 384), (1024, 768), 256, 1.0, 256),      # same shape: the style at the content's size
    ((512, 384), (1024, 768), 256, 2.0, 512),      # style_scale 2: twice the size
    ((384, 512), (1024, 256), 128, 1.0, 222),      # a wide style keeps the content's area: 96*128 = 222*55.5
    ((64, 64), (1024, 1024), 64, 0.1, 16),         # never below the 16 px the deepest style layer needs
])
def test_the_style_image_is_shipped_at_the_size_the_job_needs(content, style, side, scale, expected):
    from deployments.ingress import style_side_for

    assert style_side_for(content, style, side, scale) == expected


def test_health_and_styles(http):
    assert http.get("/healthz").json() == {"status": "ok", "presets": ["candy", "red_fire", "starry_blue", "vangogh", "vintage"],
                                           "nst": True, "fast": True}
    listed = http.get("/v1/styles").json()
    assert listed["nst_max_size"] == 1024                 # the studio's own-style sizes are fitted to it
    styles = {s["name"]: s for s in listed["styles"]}
    assert styles["vintage"]["available"] and styles["vintage"]["origin"] == "vintagify 0.1.2"
    assert styles["vangogh"]["origin"] == "stylebot's own" and styles["vangogh"]["caption"] == "Van Gogh (stylebot's own)"
    assert not styles["monet"]["available"]
    assert "stylebot weights fetch monet" in styles["monet"]["reason"]


def test_stylize_over_http_in_jpeg_and_png(http, data_dir):
    r = http.post("/v1/stylize/vintage", content=photo_bytes(data_dir))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (384, 384)
    r = http.post("/v1/stylize/vintage?size=200", content=photo_bytes(data_dir), headers={"Accept": "image/png"})
    assert r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (200, 200)


def test_preset_strength_and_colours_over_http(http, data_dir):
    photo = np.asarray(Image.open(data_dir / "kodim23.jpg").convert("RGB"), dtype=np.float32)

    def painted(query: str) -> np.ndarray:
        r = http.post(f"/v1/stylize/vangogh{query}", content=photo_bytes(data_dir), headers={"Accept": "image/png"})
        assert r.status_code == 200, r.text
        return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=np.float32)

    full, quarter, none = painted(""), painted("?strength=0.25"), painted("?strength=0")
    assert np.abs(none - photo).mean() < 2                      # strength 0: the photo (after its JPEG decode)
    assert np.abs(quarter - photo).mean() == pytest.approx(np.abs(full - photo).mean() / 4, rel=0.15)
    kept = painted("?keep_colors=true")
    chroma = lambda a: a - a.mean(axis=2, keepdims=True)  # noqa: E731 - colour without the light
    assert np.abs(chroma(kept) - chroma(photo)).mean() < np.abs(chroma(full) - chroma(photo)).mean() / 2
    for query, word in (("?strength=1.5", "between 0 and 1"), ("?strength=-1", "between 0 and 1"),
                        ("?strength=nan", "between 0 and 1"), ("?strength=lots", "strength"),
                        ("?keep_colors=maybe", "keep_colors")):
        r = http.post(f"/v1/stylize/vangogh{query}", content=photo_bytes(data_dir))
        assert r.status_code == 422 and word in json.dumps(r.json()), (query, r.text)


def test_the_styles_of_one_network_share_its_deployment(app, http, data_dir):
    deployments = serve.status().applications["styles"].deployments
    assert "Generator_multistyle26" in deployments and "Generator_starry_blue" not in deployments
    styles = {s["name"]: s for s in http.get("/v1/styles").json()["styles"]}
    assert styles["starry_blue"]["group"] == "more" and styles["vangogh"]["group"] == "main"
    painted = {}
    for name in ("starry_blue", "red_fire"):
        r = http.post(f"/v1/stylize/{name}", content=photo_bytes(data_dir), headers={"Accept": "image/png"})
        assert r.status_code == 200
        painted[name] = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=np.float32)
    assert np.abs(painted["starry_blue"] - painted["red_fire"]).mean() > 10   # two different styles
    group = app["handle"].stylize_all.remote(photo_bytes(data_dir), "JPEG", 128, group="more").result()
    assert sorted(group) == ["candy", "red_fire", "starry_blue"]
    main = app["handle"].stylize_all.remote(photo_bytes(data_dir), "JPEG", 128).result()
    assert sorted(main) == ["vangogh", "vintage"]
    sheet = http.get("/v1/styles/sheet")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(sheet.content)).size == (5 * 128, 128 + 18)   # five styles, one row


def test_a_fixed_style_preset_is_served_by_the_arbitrary_networks_deployment(app, http, data_dir, store):
    """The catalogue's engine choice is honoured: candy is a fixed style, painted by Generator_fast_transform with
    its shipped vector, as the engine paints it locally."""
    from models import loading
    from models.catalogue import Catalogue
    from models.tensors import to_tensor

    assert "Generator_fast_transform" in serve.status().applications["styles"].deployments
    styles = {s["name"]: s for s in http.get("/v1/styles").json()["styles"]}
    assert styles["candy"]["engine"] == "fixed style" and styles["vangogh"]["engine"] == "generator"
    r = http.post("/v1/stylize/candy", content=photo_bytes(data_dir), headers={"Accept": "image/png"})
    assert r.status_code == 200, r.text
    served = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=np.float32)
    catalogue = Catalogue.load(data_dir / "styles.yaml")
    local = loading.load_preset(store, catalogue.status(catalogue.get("candy"), store))
    photo = to_tensor(Image.open(io.BytesIO(photo_bytes(data_dir))).convert("RGB"))
    expected = local(photo).permute(1, 2, 0).numpy() * 255
    assert served.shape == expected.shape and np.abs(served - expected).mean() < 1.0
    stats = serve.get_deployment_handle("Generator_fast_transform", "styles").stats.remote().result()
    assert stats["preset"] == "fast_transform"


def test_missing_weights_preset_is_404_with_the_reason(http, data_dir):
    r = http.post("/v1/stylize/monet", content=photo_bytes(data_dir))
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "style_unavailable" and "stylebot weights fetch monet" in body["message"]
    r = http.post("/v1/stylize/picasso", content=photo_bytes(data_dir))
    assert r.status_code == 404 and r.json()["error"] == "unknown_style"


def _tiny_png():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("body,status,code", [
    (b"%PDF-1.4 not an image", 415, "not_an_image"),
    (b"", 415, "not_an_image"),
    ("huge", 413, "image_too_large"),
    ("tiny", 422, "image_too_small"),
    ("truncated", 422, "unreadable_image"),
])
def test_bad_images_get_4xx_with_json(http, data_dir, body, status, code):
    if body == "huge":
        body = png_header_only(30000, 30000)
    elif body == "tiny":
        body = _tiny_png()
    elif body == "truncated":
        body = photo_bytes(data_dir)[:3000]
    r = http.post("/v1/stylize/vintage", content=body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code and r.json()["message"]


def _png(w, h):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 80, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_inputs_that_used_to_be_500_are_json_4xx(http, data_dir):
    r = http.post("/v1/stylize/vintage", content=_png(8000, 40))        # 1024 x 5 once fitted
    assert r.status_code == 422 and r.json()["error"] == "image_too_narrow", r.text
    assert "8000x40" in r.json()["message"]
    r = http.post("/v1/stylize/vintage?size=1", content=photo_bytes(data_dir))
    assert r.status_code == 422 and r.json()["error"] == "bad_option"
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    r = http.post("/v1/nst", files=files, data={"seed": "1000000000000000000000000000000"})
    assert r.status_code == 422 and r.json()["error"] == "bad_option" and "seed" in r.json()["message"].lower()
    r = http.post("/v1/nst", files={"content": _png(600, 40), "style": files["style"]}, data={"size": "64"})
    assert r.status_code == 422 and r.json()["error"] == "image_too_narrow", r.text
    assert http.get("/healthz").json()["status"] == "ok"


def test_an_oversized_body_is_refused_before_it_is_read(http):
    r = http.post("/v1/stylize/vintage", content=b"\0" * (40 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["error"] == "image_too_large"

    def chunks():  # no Content-Length: the limit applies while the body streams in
        for _ in range(40):
            yield b"\0" * (1024 * 1024)
    r = http.post("/v1/stylize/vintage", content=chunks())
    assert r.status_code == 413 and r.json()["error"] == "image_too_large"


def test_bad_requests(http, data_dir):
    assert http.get("/v1/nope").status_code == 404
    assert http.get("/v1/stylize/vintage").status_code == 405
    r = http.post("/v1/nst", content=b"x")
    assert r.status_code == 400 and "multipart" in r.json()["message"]
    r = http.post("/v1/nst", files={"content": photo_bytes(data_dir)})
    assert r.status_code == 400 and "style" in r.json()["message"]
    r = http.post("/v1/nst", files={"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")},
                  data={"steps": "lots"})
    assert r.status_code == 422 and r.json()["error"] == "bad_option"
    r = http.post("/v1/nst", files={"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")},
                  data={"size": "5000"})
    assert r.status_code == 422


def test_nst_over_http_streams_progress_then_the_image(http, data_dir):
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    with http.stream("POST", "/v1/nst", files=files, data={"size": "64", "steps": "30", "seed": "1"},
                     headers={"Accept": "application/x-ndjson"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        events = [json.loads(line) for line in r.iter_lines() if line]
    progress = [e for e in events if e["type"] == "progress"]
    assert [e["step"] for e in progress] == list(range(1, len(progress) + 1))
    assert events[-1]["type"] == "result"
    img = Image.open(io.BytesIO(base64.b64decode(events[-1]["image"])))
    assert img.size == (64, 64)


def test_fast_own_style_over_http(http, data_dir):
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    photo = np.asarray(Image.open(io.BytesIO(files["content"])).convert("RGB").resize((200, 200)), np.float32)
    r = http.post("/v1/fast", files=files, data={"size": "200"}, headers={"Accept": "image/png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    full = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), np.float32)
    assert full.shape == (200, 200, 3) and np.abs(full - photo).mean() > 20
    r = http.post("/v1/fast", files=files, data={"options": json.dumps({"size": 200, "keep_colors": True})})
    kept = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), np.float32)
    # the wave's blues are gone: the kept-colour result's mean colour is the photo's, the full one's is not
    assert np.abs(kept.mean((0, 1)) - photo.mean((0, 1))).max() < np.abs(full.mean((0, 1)) - photo.mean((0, 1))).max()
    other = http.post("/v1/fast", files={**files, "style": photo_bytes(data_dir, "starry_night.jpg")},
                      data={"size": "200"})
    assert np.abs(np.asarray(Image.open(io.BytesIO(other.content)).convert("RGB"), np.float32) - full).mean() > 10


@pytest.mark.parametrize("data, status, error, words", [
    ({"steps": "100"}, 422, "bad_option", "/v1/nst only"),
    ({"strength": "1.5"}, 422, "bad_option", "between 0 and 1"),
    ({"strength": "a lot"}, 422, "bad_option", "number"),
    ({"colour": "yes"}, 422, "bad_option", "Unknown option"),
    ({"options": "[1, 2]"}, 422, "bad_option", "JSON object"),
    ({"size": "8"}, 422, "bad_option", "at least"),
])
def test_fast_bad_options_are_json_4xx(http, data_dir, data, status, error, words):
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    r = http.post("/v1/fast", files=files, data=data)
    assert r.status_code == status and r.headers["content-type"] == "application/json", r.text
    assert r.json()["error"] == error and words in r.json()["message"]


def test_fast_without_a_style_image_or_with_a_broken_one_is_json_4xx(http, data_dir):
    r = http.post("/v1/fast", files={"content": photo_bytes(data_dir)})   # neither a style image nor a vector
    assert r.status_code == 422 and "`style`" in r.json()["message"]
    r = http.post("/v1/fast", files={"content": photo_bytes(data_dir), "style": b"GIF89a not really"})
    assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/json"
    r = http.post("/v1/fast", content=photo_bytes(data_dir), headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 400 and "multipart" in r.json()["message"]


def test_nst_over_http_without_streaming_returns_the_image(http, data_dir):
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    r = http.post("/v1/nst", files=files, data={"size": "48", "steps": "30"}, headers={"Accept": "image/png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (48, 48)


def test_nst_that_leaves_the_photo_unchanged_is_422_never_an_image(http, data_dir):
    # One evaluation cannot move the photo toward the style: the engine's check refuses the result.
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    r = http.post("/v1/nst", files=files, data={"size": "64", "steps": "1"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json", r.text
    assert r.json()["error"] == "style_not_transferred" and "photo" in r.json()["message"]
    with http.stream("POST", "/v1/nst", files=files, data={"size": "64", "steps": "1"},
                     headers={"Accept": "application/x-ndjson"}) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert [e["type"] for e in events] == ["progress", "error"]
    assert events[-1]["error"] == "style_not_transferred" and events[-1]["status"] == 422
    assert wait_until_free()


def test_handle_nst_refusal_is_typed(app, data_dir):
    from deployments.http_errors import ServiceError

    gen = app["handle"].options(stream=True).nst.remote(photo_bytes(data_dir), photo_bytes(data_dir, "wave.jpg"),
                                                         {"size": 64, "steps": 1})
    with pytest.raises(ServiceError) as e:
        list(gen)
    assert e.value.code == "style_not_transferred" and e.value.status == 422


def test_http_client_leaving_frees_the_optimizer(app, data_dir):
    files = {"content": photo_bytes(data_dir), "style": photo_bytes(data_dir, "wave.jpg")}
    with httpx.Client(base_url=app["url"], timeout=60) as client:
        with client.stream("POST", "/v1/nst", files=files, data={"size": "192", "steps": "1000", "options":
                           json.dumps({"style_scale": 1.0})}, headers={"Accept": "application/x-ndjson"}) as r:
            lines = r.iter_lines()
            assert json.loads(next(lines))["type"] == "progress"
    assert wait_until_free(), "the optimizer kept running after the client left"


# -- handle API (what the bot uses) ------------------------------------------------------------------------
def test_handle_lists_and_stylizes(app, data_dir):
    h = app["handle"]
    names = [s["name"] for s in h.list_styles.remote().result()]
    assert "vintage" in names and "monet" in names
    out = h.stylize.remote("vintage", photo_bytes(data_dir), "PNG").result()
    assert Image.open(io.BytesIO(out)).format == "PNG"
    everything = h.stylize_all.remote(photo_bytes(data_dir)).result()
    assert set(everything) == {"vangogh", "vintage"}


def test_handle_errors_are_typed(app):
    from deployments.http_errors import ServiceError

    with pytest.raises(ServiceError) as e:
        app["handle"].stylize.remote("vintage", b"not an image").result()
    assert e.value.code == "not_an_image" and e.value.status == 415


def test_handle_nst_stream_and_cancel_frees_the_replica(app, data_dir):
    h = app["handle"].options(stream=True)
    gen = h.nst.remote(photo_bytes(data_dir), photo_bytes(data_dir, "wave.jpg"), LONG_NST)
    seen = []
    for event in gen:
        seen.append(event)
        if len(seen) == 2:
            break
    gen.cancel()
    assert [e["type"] for e in seen] == ["progress", "progress"]
    assert wait_until_free(), "cancel() did not stop the optimizer"
    # The freed replica serves the next request, and the style features are cached from the first.
    events = list(h.nst.remote(photo_bytes(data_dir), photo_bytes(data_dir, "wave.jpg"),
                               {"size": 64, "steps": 30}))
    assert events[-1]["type"] == "result"
    assert nst_stats()["style_cache_entries"] >= 1


def test_back_pressure_is_503_with_retry_after(app, http, data_dir):
    h = app["handle"].options(stream=True)
    args = (photo_bytes(data_dir), photo_bytes(data_dir, "wave.jpg"), LONG_NST)
    running = h.nst.remote(*args)
    next(iter(running))                  # one running (max_ongoing_requests: 1)
    queued = h.nst.remote(*args)         # one queued (max_queued_requests: 1)
    time.sleep(0.5)
    try:
        files = {"content": args[0], "style": args[1]}
        r = http.post("/v1/nst", files=files, data={"size": "64", "steps": "5"})
        assert r.status_code == 503, r.text
        assert r.headers.get("content-type") == "application/json", (r.text, dict(r.headers))
        assert r.json()["error"] == "busy" and int(r.headers["retry-after"]) > 0
    finally:
        running.cancel()
        queued.cancel()
    assert wait_until_free()


def test_concurrent_requests_are_batched_and_equal_single_results(app, data_dir):
    from models.tensors import to_tensor
    from models.images import decode_image

    h = app["handle"]
    photo = photo_bytes(data_dir)

    async def burst():
        return await asyncio.gather(*(h.stylize.remote("vintage", photo, "PNG") for _ in range(6)))

    results = asyncio.run(burst())
    single = h.stylize.remote("vintage", photo, "PNG").result()
    ref = to_tensor(decode_image(single))
    for out in results:
        assert (to_tensor(decode_image(out)) - ref).abs().max() <= 1.5 / 255
    stats = serve.get_deployment_handle("Generator_vintage", "styles").stats.remote().result()
    assert max(stats["recent_batch_sizes"]) > 1


def test_back_pressure_is_recognised_however_wrapped():
    from ray.serve.exceptions import BackPressureError

    from deployments.calls import is_back_pressure

    bp = BackPressureError(num_queued_requests=1, max_queued_requests=1)
    wrapped = RuntimeError("task failed")
    wrapped.cause = bp
    assert is_back_pressure(bp) and is_back_pressure(wrapped)
    assert not is_back_pressure(ValueError("no"))


def test_an_nst_replica_with_room_for_two_advances_both_jobs_together(app, data_dir):
    # What a GPU replica does (capacity = max_ongoing_requests = the batch), here on the CPU with two.
    from deployments.nst_optimizer import NSTOptimizer

    handle = serve.run(NSTOptimizer.options(name="NSTOptimizer_batched", max_ongoing_requests=2,
                                            ray_actor_options={"num_cpus": 0.1}).bind("cpu", capacity=2),
                       name="nst-batched", route_prefix=None)
    try:
        from models.images import decode_image
        from models.tensors import to_array

        stream = handle.options(stream=True)
        content = to_array(decode_image(photo_bytes(data_dir), max_side=64))   # as the ingress ships it

        async def both():
            async def one(style):
                art = to_array(decode_image(photo_bytes(data_dir, style), max_side=64))
                return [e async for e in stream.run.remote(content, art, {"size": 64, "steps": 30})]
            return await asyncio.gather(one("wave.jpg"), one("starry_night.jpg"))

        results = asyncio.run(both())
        for events in results:
            assert events[-1]["type"] == "result"
            assert Image.open(io.BytesIO(events[-1]["image"])).size == (64, 64)
        assert results[0][-1]["image"] != results[1][-1]["image"]
        stats = handle.stats.remote().result()
        assert stats["capacity"] == 2 and stats["widest_step"] == 2 and not stats["busy"]
    finally:
        serve.delete("nst-batched")


def test_the_openapi_schema_lists_every_route_and_the_docs_are_served(http):
    schema = http.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/healthz", "/v1/styles", "/v1/styles/sheet", "/v1/stylize/{preset}", "/v1/nst", "/v1/fast"} <= set(paths)
    assert {p["name"] for p in paths["/v1/stylize/{preset}"]["post"]["parameters"]} >= {"size", "strength", "keep_colors"}
    assert "multipart/form-data" in paths["/v1/nst"]["post"]["requestBody"]["content"]
    assert "image/jpeg" in paths["/v1/stylize/{preset}"]["post"]["requestBody"]["content"]
    assert {"Health", "Styles", "ErrorBody"} <= set(schema["components"]["schemas"])
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_a_parameter_of_the_wrong_type_is_a_json_422(http, data_dir):
    r = http.post("/v1/stylize/vintage?size=abc", content=photo_bytes(data_dir))
    assert r.status_code == 422 and r.json()["error"] == "bad_option" and "size" in r.json()["message"]
