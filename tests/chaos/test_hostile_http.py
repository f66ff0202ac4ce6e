"""Chaos suite, hostile input over HTTP: every kind of bad or odd request gets a JSON 4xx (or, for a valid if
unusual image, a picture), never a 5xx or a traceback, and the service stays healthy after all of them."""
import io
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.chaos.hostile_files import encoded, stylize_bodies

pytestmark = [pytest.mark.serve, pytest.mark.chaos]


@pytest.fixture(scope="module")
def http(styles_app):
    with httpx.Client(base_url=styles_app["url"], timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def real_jpeg(data_dir):
    return (data_dir / "kodim23.jpg").read_bytes()


def assert_json_error(r: httpx.Response, statuses: set[int]) -> dict:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str) and body["message"]
    assert "Traceback" not in r.text
    return body


BODIES = stylize_bodies((Path(__file__).parents[1] / "data" / "kodim23.jpg").read_bytes())


@pytest.mark.parametrize("name", list(BODIES))
def test_stylize_answers_every_body_with_json_4xx_or_a_picture(http, name):
    body, statuses = BODIES[name]
    r = http.post("/v1/stylize/vintage?size=128", content=body)
    if r.status_code == 200:
        assert 200 in statuses, f"{name} was painted but should have been refused"
        assert Image.open(io.BytesIO(r.content)).format == "JPEG"
    else:
        assert_json_error(r, statuses - {200})


def test_exif_rotation_is_honoured(http):
    r = http.post("/v1/stylize/vintage?size=128", content=BODIES["exif rotation 6"][0])
    assert Image.open(io.BytesIO(r.content)).size == (77, 128)   # 160x96 stored, shown upright as 96x160


@pytest.mark.parametrize("name", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "x" * 5000, "🎨🖼", "van%00gogh",
                                  "%ff%fe", "vintage%20", "VINTAGE"])
def test_odd_style_names_are_404_json(http, name, real_jpeg):
    r = http.post(f"/v1/stylize/{name}", content=real_jpeg)
    assert_json_error(r, {404})


@pytest.mark.parametrize("field,value", [
    ("size", "-1"), ("size", "abc"), ("size", "1e3"), ("size", "99999999999999999999"), ("steps", "0"),
    ("steps", "1e9"), ("steps", "1000000"), ("strength", "nan"), ("strength", "inf"), ("strength", "-1"),
    ("strength", "1000"), ("seed", "-5"), ("seed", "1000000000000000000000000000000"), ("seed", "1.5"),
    ("style_scale", "100"), ("style_scale", "0"), ("colour", "blue"), ("options", "[1, 2]"),
    ("options", "{not json"), ("options", '{"size": {"a": 1}}'), ("options", '{"steps": null}'),
])
def test_every_nst_option_out_of_range_or_of_the_wrong_type_is_422(http, real_jpeg, field, value):
    files = {"content": real_jpeg, "style": real_jpeg}
    r = http.post("/v1/nst", files=files, data={field: value})
    assert_json_error(r, {422})


def test_broken_multipart_is_400(http):
    r = http.post("/v1/nst", content=b"--abc\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nxx",
                  headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert_json_error(r, {400})
    r = http.post("/v1/nst", content=b"garbage", headers={"content-type": "multipart/form-data"})
    assert_json_error(r, {400})


def test_thousands_of_form_fields_are_refused(http, real_jpeg):
    fields = {f"f{i}": "x" for i in range(3000)}
    r = http.post("/v1/nst", files={"content": real_jpeg, "style": real_jpeg}, data=fields)
    assert_json_error(r, {400, 413, 422})


def test_nst_bad_images_are_refused_like_presets(http, real_jpeg):
    assert_json_error(http.post("/v1/nst", files={"content": b"%PDF-1.4", "style": real_jpeg}), {415})
    assert_json_error(http.post("/v1/nst", files={"content": real_jpeg, "style": b""}), {415})
    assert_json_error(http.post("/v1/nst", files={"content": real_jpeg}), {400})
    strip = encoded(Image.new("RGB", (4000, 40), "white"), "PNG")
    assert_json_error(http.post("/v1/nst", files={"content": strip, "style": real_jpeg}, data={"size": "256"}),
                      {422})


@pytest.mark.parametrize("method,path,status", [("GET", "/v1/nope", 404), ("DELETE", "/v1/styles", 405),
                                                ("GET", "/v1/stylize/vintage", 405), ("PUT", "/v1/nst", 405),
                                                ("GET", "/" + "a/" * 500, 404)])
def test_unknown_routes_and_methods_are_json(http, method, path, status):
    assert_json_error(http.request(method, path), {status})


def test_the_service_is_healthy_after_all_of_it(http, real_jpeg):
    assert http.get("/healthz").json()["status"] == "ok"
    r = http.post("/v1/stylize/vintage?size=128", content=real_jpeg)
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (128, 128)
    assert json.loads(http.get("/v1/styles").text)["styles"]
