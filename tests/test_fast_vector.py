"""Style vectors over HTTP and the handle: POST /v1/fast/vector gives a style image's vector, and POST /v1/fast
paints with a `style_vector` as it paints with the image (a client keeps its own styles). The real "styles" app."""
import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from models.arbitrary.fixed import VECTOR_BOUND as STYLE_VECTOR_BOUND, VECTOR_LENGTH as STYLE_VECTOR_LENGTH

pytestmark = pytest.mark.serve


@pytest.fixture()
def http(styles_app):
    with httpx.Client(base_url=styles_app["url"], timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def wave_vector(styles_app, data_dir) -> list[float]:
    with httpx.Client(base_url=styles_app["url"], timeout=120) as client:
        r = client.post("/v1/fast/vector", files={"style": (data_dir / "wave.jpg").read_bytes()})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    return r.json()["vector"]


def painted(r: httpx.Response) -> np.ndarray:
    assert r.status_code == 200, r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), np.float32)


def test_the_vector_is_a_hundred_plausible_numbers_and_the_same_through_the_handle(styles_app, data_dir,
                                                                                  wave_vector):
    assert len(wave_vector) == STYLE_VECTOR_LENGTH
    assert all(np.isfinite(wave_vector)) and max(map(abs, wave_vector)) < STYLE_VECTOR_BOUND / 2
    handle = styles_app["handle"]
    assert handle.style_vector.remote((data_dir / "wave.jpg").read_bytes()).result() == wave_vector
    other = handle.style_vector.remote((data_dir / "starry_night.jpg").read_bytes()).result()
    assert np.abs(np.array(other) - wave_vector).max() > 0.5          # another image, another style
    assert handle.fast_served.remote().result() is True


@pytest.mark.parametrize("options", [{"size": "200"}, {"size": "200", "strength": "0.5", "keep_colors": "true"}])
def test_painting_with_the_vector_equals_painting_with_the_image(http, data_dir, wave_vector, options):
    content = (data_dir / "kodim23.jpg").read_bytes()
    png = {"Accept": "image/png"}
    by_image = painted(http.post("/v1/fast", files={"content": content, "style": (data_dir / "wave.jpg").read_bytes()},
                                 data=options, headers=png))
    by_vector = painted(http.post("/v1/fast", files={"content": content},
                                  data={**options, "style_vector": json.dumps(wave_vector)}, headers=png))
    photo = np.asarray(Image.open(io.BytesIO(content)).convert("RGB").resize((200, 200)), np.float32)
    assert by_vector.shape == (200, 200, 3) and np.abs(by_vector - photo).mean() > 10     # painted, not the photo
    assert np.abs(by_vector - by_image).mean() < 0.5 and np.abs(by_vector - by_image).max() <= 8
    in_options = painted(http.post("/v1/fast", files={"content": content}, headers=png,
                                   data={"options": json.dumps({**options, "style_vector": wave_vector})}))
    assert np.abs(in_options - by_vector).mean() < 0.5                              # the JSON options field too


GOOD = [0.5] * STYLE_VECTOR_LENGTH


@pytest.mark.parametrize("raw, words", [
    ("[0.5, 0.5", "not JSON"),
    ("[" * 100_000, "not JSON"),                                   # nested past the parser's recursion limit
    ('{"vector": [0.5]}', "list"),
    ("0.5", "list"),
    ("[]", "has 0 numbers"),
    (json.dumps(GOOD[:99]), "has 99 numbers"),
    (json.dumps(GOOD + [0.5]), "has 101 numbers"),
    (json.dumps(["0.5"] * STYLE_VECTOR_LENGTH), "numbers only"),
    (json.dumps([True] * STYLE_VECTOR_LENGTH), "numbers only"),
    (json.dumps([None] + GOOD[1:]), "numbers only"),
    ("[NaN" + ", 0.5" * 99 + "]", "finite"),
    ("[Infinity" + ", 0.5" * 99 + "]", "finite"),
    ("[1e400" + ", 0.5" * 99 + "]", "finite"),
    ("[1" + "0" * 400 + ", 0.5" * 99 + "]", "outside"),
    (json.dumps([1e6] + GOOD[1:]), "outside"),
    (json.dumps([-STYLE_VECTOR_BOUND - 0.5] + GOOD[1:]), "outside"),
])
def test_a_bad_style_vector_is_a_json_422_naming_the_field(http, data_dir, raw, words):
    r = http.post("/v1/fast", files={"content": (data_dir / "kodim23.jpg").read_bytes()}, data={"style_vector": raw})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json", r.text
    message = r.json()["message"]
    assert r.json()["error"] == "bad_option" and "`style_vector`" in message and words in message


def test_exactly_one_of_a_style_image_and_a_style_vector(http, data_dir, wave_vector):
    content, style = (data_dir / "kodim23.jpg").read_bytes(), (data_dir / "wave.jpg").read_bytes()
    both = http.post("/v1/fast", files={"content": content, "style": style},
                     data={"style_vector": json.dumps(wave_vector)})
    neither = http.post("/v1/fast", files={"content": content})
    for r, word in ((both, "not both"), (neither, "not neither")):
        assert r.status_code == 422 and r.json()["error"] == "bad_option", r.text
        assert "`style`" in r.json()["message"] and "`style_vector`" in r.json()["message"] and word in r.text


def test_the_vector_endpoint_refuses_what_is_not_a_style_image_as_json(http, data_dir):
    r = http.post("/v1/fast/vector", files={"content": (data_dir / "wave.jpg").read_bytes()})
    assert r.status_code == 400 and "`style`" in r.json()["message"]
    r = http.post("/v1/fast/vector", files={"style": b"GIF89a not really"})
    assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/json"
    r = http.post("/v1/fast/vector", content=(data_dir / "wave.jpg").read_bytes(),
                  headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 400 and "multipart" in r.json()["message"]
    assert http.get("/v1/fast/vector").status_code == 405


def test_both_endpoints_are_in_the_openapi_schema(http):
    paths = http.get("/openapi.json").json()["paths"]
    vector = paths["/v1/fast/vector"]["post"]
    assert "style" in vector["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert vector["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/StyleVector")
    fast = paths["/v1/fast"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "style_vector" in fast["properties"] and fast["required"] == ["content"]
