"""Every option of every endpoint is checked before any work: an unknown, mistyped or out-of-range value is a JSON
422 that names the field (table-driven over all the endpoints that take options)."""
import json

import httpx
import pytest

DATA = __import__("pathlib").Path(__file__).parent / "data"
PHOTO = (DATA / "kodim23.jpg").read_bytes()
STYLE = (DATA / "wave.jpg").read_bytes()


def preset(query: str) -> dict:
    return {"method": "POST", "url": f"/v1/stylize/vintage?{query}", "content": PHOTO}


def form(path: str, fields: dict, query: str = "", files=("content", "style")) -> dict:
    images = {"content": PHOTO, "style": STYLE}
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
