"""Every option of every endpoint is checked before any work: an unknown, mistyped or out-of-range value is a JSON
422 that names the field (table-driven over all the endpoints that take options), through HTTP and through the
handle API the bot uses alike (one pydantic model per endpoint, deployments/requests.py), and the OpenAPI schema
shows each model's fields with their types and ranges."""
import json

import httpx
import pytest

DATA = __import__("pathlib").Path(__file__).parent / "data"
PHOTO = (DATA / "kodim23.jpg").read_bytes()
STYLE = (DATA / "wave.jpg").read_bytes()
CLIP = __import__("tests.video_clips", fromlist=["mp4"]).mp4(
    __import__("tests.video_clips", fromlist=["scene"]).scene(64, 48, frames=3))


def preset(query: str) -> dict:
    return {"method": "POST", "url": f"/v1/stylize/vintage?{query}", "content": PHOTO}


def form(path: str, fields: dict, query: str = "", files=("content", "style")) -> dict:
    images = {"content": PHOTO, "style": STYLE, "video": CLIP}
    return {"method": "POST", "url": f"{path}?{query}" if query else path,
            "files": {n: images[n] for n in files}, "data": fields}


CASES = [  # (request, the field the answer must name)
    (preset("size=abc"), "size"), (preset("size=-5"), "size"), (preset("strength=lots"), "strength"),
    (preset("strength=1.5"), "strength"), (preset("strength=nan"), "strength"),
    (preset("keep_colors=maybe"), "keep_colors"), (preset("colour=blue"), "colour"),
    (form("/v1/nst", {"size": "huge"}), "size"), (form("/v1/nst", {"steps": "-3"}), "steps"),
    (form("/v1/nst", {"keep_colors": "maybe"}), "keep_colors"), (form("/v1/nst", {"seed": "x"}), "seed"),
    (form("/v1/nst", {"style_scale": "inf"}), "style_scale"), (form("/v1/nst", {"brush": "1"}), "brush"),
    (form("/v1/nst", {}, "stream=maybe"), "stream"), (form("/v1/nst", {}, "colour=blue"), "colour"),
    (form("/v1/nst", {"options": json.dumps({"keep_colors": "maybe"})}), "keep_colors"),
    (form("/v1/fast", {"keep_colors": "maybe"}), "keep_colors"), (form("/v1/fast", {"strength": "2"}), "strength"),
    (form("/v1/fast", {"size": "big"}), "size"), (form("/v1/fast", {"steps": "10"}), "steps"),
    (form("/v1/fast", {"brush": "1"}), "brush"), (form("/v1/fast", {}, "size=256"), "size"),
    (form("/v1/fast/vector", {"size": "256"}, files=("style",)), "size"),
    (form("/v1/fast/vector", {}, "x=1", files=("style",)), "x"),
    (preset("size=2.5"), "size"), (preset("strength=true"), "strength"), (preset("keep_colors=2"), "keep_colors"),
    (form("/v1/nst", {"strength": "101"}), "strength"), (form("/v1/nst", {"size": "2000"}), "size"),
    (form("/v1/nst", {"steps": "2.5"}), "steps"), (form("/v1/nst", {"style_scale": "nan"}), "style_scale"),
    (form("/v1/nst", {"options": json.dumps({"seed": -1})}), "seed"),
    (form("/v1/fast", {"style_scale": "2"}), "style_scale"), (form("/v1/fast", {"strength": "inf"}), "strength"),
    (form("/v1/fast", {"options": json.dumps({"seed": 3})}), "seed"),
    (form("/v1/fast/vector", {"options": json.dumps({"size": 256})}, files=("style",)), "size"),
    (form("/v1/video/vintage", {"size": "2000"}, files=("video",)), "size"),
    (form("/v1/video/vintage", {"strength": "2"}, files=("video",)), "strength"),
    (form("/v1/video/vintage", {"steady": "maybe"}, files=("video",)), "steady"),
    (form("/v1/video/vintage", {"keep_colors": "2"}, files=("video",)), "keep_colors"),
    (form("/v1/video/vintage", {"fps": "5"}, files=("video",)), "fps"),
    (form("/v1/video/vintage", {}, "stream=maybe", files=("video",)), "stream"),
    (form("/v1/video/vintage", {"options": json.dumps({"size": "full"})}, files=("video",)), "size"),
    (form("/v1/fast/video", {"style_vector": "[1, 2]"}, files=("video",)), "style_vector"),
    (form("/v1/fast/video", {"steps": "10"}, files=("video", "style")), "steps"),
    (form("/v1/nst", {}, "stream=true&previews=1"), "previews"), (form("/v1/nst", {}, "previews=often"), "previews"),
    ({"method": "GET", "url": "/v1/styles/vintage/thumbnail?size=64"}, "size"),
]


@pytest.fixture(scope="module")
def client(styles_app):
    with httpx.Client(base_url=styles_app["url"], timeout=120) as c:
        yield c


@pytest.mark.parametrize("request_, field", CASES, ids=[f"{c[0]['url']}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_option_is_a_json_422_naming_the_field(client, request_, field):
    r = client.request(**request_)
    assert r.status_code == 422 and r.headers["content-type"] == "application/json", (r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] == "bad_option" and field in body["message"], body


def test_the_size_over_the_service_limit_says_the_limit(client):
    body = client.request(**form("/v1/nst", {"size": "5000"})).json()
    assert body["error"] == "bad_option" and "between 16 and 1024 px" in body["message"], body
    body = client.request(**form("/v1/fast", {"steps": "10"})).json()
    assert "applies to /v1/nst only" in body["message"], body


@pytest.mark.parametrize("request_", [preset("size=huge"), preset("size=12.5"), form("/v1/fast", {"size": "fullest"})])
def test_a_bad_size_says_a_whole_number_or_full(client, request_):
    body = client.request(**request_).json()
    assert body["error"] == "bad_option" and 'a whole number or "full"' in body["message"], body


HANDLE_CASES = [  # (method, args, the field the refusal must name): what the bot calls, checked by the same models
    ("stylize", ("vintage", PHOTO, "JPEG", 32), "size"),
    ("stylize", ("vintage", PHOTO, "JPEG", None, 1.5), "strength"),
    ("stylize", ("vintage", PHOTO, "JPEG", None, float("nan")), "strength"),
    ("stylize_all", (PHOTO, "JPEG", None, 1.0, "maybe"), "keep_colors"),
    ("fast", (PHOTO, STYLE, {"steps": 10}), "steps"),
    ("fast", (PHOTO, STYLE, {"colour": "blue"}), "colour"),
    ("fast", (PHOTO, None, {"style_vector": [0.5]}), "style_vector"),
    ("nst", (PHOTO, STYLE, {"seed": -1}), "seed"),
    ("nst", (PHOTO, STYLE, {"keep_colors": "maybe"}), "keep_colors"),
    ("nst", (PHOTO, STYLE, {"steps": 100_000}), "steps"),
]


@pytest.mark.parametrize("method, args, field", HANDLE_CASES, ids=[f"{c[0]}-{c[2]}" for c in HANDLE_CASES])
def test_a_bad_option_through_the_handle_is_a_typed_refusal_naming_the_field(styles_app, method, args, field):
    from deployments.http_errors import ServiceError

    handle = styles_app["handle"]
    with pytest.raises(ServiceError) as e:
        if method == "nst":
            list(handle.options(stream=True).nst.remote(*args))
        else:
            getattr(handle, method).remote(*args).result()
    assert e.value.code == "bad_option" and e.value.status == 422 and field in e.value.message, e.value.message


def test_the_openapi_schema_is_generated_from_the_request_models(client):
    from deployments.requests import (FastParams, NSTParams, NSTQuery, PresetParams, StreamQuery, VectorParams,
                                      VideoParams, field_schemas)

    paths = client.get("/openapi.json").json()["paths"]

    def form_fields(path):
        return paths[path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]

    def query(path):
        return {p["name"]: {**p["schema"], "description": p["description"]}
                for p in paths[path]["post"]["parameters"] if p["in"] == "query"}

    for shown, model in ((query("/v1/stylize/{preset}"), PresetParams), (query("/v1/nst"), NSTQuery),
                         (form_fields("/v1/nst"), NSTParams), (form_fields("/v1/fast"), FastParams),
                         (form_fields("/v1/fast/vector"), VectorParams), (form_fields("/v1/video/{preset}"), VideoParams),
                         (form_fields("/v1/fast/video"), VideoParams), (query("/v1/video/{preset}"), StreamQuery)):
        for name, schema in field_schemas(model).items():
            assert {k: shown[name].get(k) for k in ("type", "minimum", "maximum", "default")} == \
                {k: schema.get(k) for k in ("type", "minimum", "maximum", "default")}, (model.__name__, name)
        assert set(shown) - set(model.model_fields) <= {"content", "style", "video", "options"}, model.__name__
    nst = form_fields("/v1/nst")
    assert nst["size"]["type"] == "integer" and (nst["size"]["minimum"], nst["size"]["maximum"]) == (16, 4096)
    assert nst["strength"]["type"] == "number" and nst["keep_colors"]["type"] == "boolean"
    assert nst["content"]["format"] == "binary" and query("/v1/stylize/{preset}")["strength"]["maximum"] == 1
    assert set(form_fields("/v1/fast/vector")) == {"style"}
    for size in (query("/v1/stylize/{preset}")["size"], form_fields("/v1/fast")["size"]):
        assert {"type": "integer", "minimum": 64} in size["anyOf"] and {"type": "string", "const": "full"} in size["anyOf"]
