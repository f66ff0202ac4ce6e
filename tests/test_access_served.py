"""API keys and rate limits on the deployed styles ingress (tests/test_access.py has the middleware alone): a second
StylesIngress, its keys and limit in its replica's environment as an operator sets them, in front of the test
cluster's own generator and optimizer, under a route prefix. Over real HTTP through Serve's proxy."""
import io
import json

import httpx
import pytest
from PIL import Image
from ray import serve

from tests.conftest import DATA
from tests.test_web_app_auth import TOKEN, init_data

pytestmark = pytest.mark.serve
PREFIX = "/keyed"
KEY = "k-served-0123456789abcdef"


@pytest.fixture(scope="module")
def keyed(styles_app):
    from deployments.ingress import StylesIngress

    env = {"STYLEBOT_API_KEYS": KEY, "TELEGRAM_BOT_TOKEN": TOKEN, "STYLEBOT_RATE_PER_MINUTE": "30"}
    ingress = StylesIngress.options(name="KeyedIngress", ray_actor_options={
        "num_cpus": 0.1, "runtime_env": {"env_vars": env}})
    styles = [s for s in styles_app["handle"].list_styles.remote().result() if s["name"] == "vangogh"]
    serve.run(ingress.bind(serve.get_deployment_handle("NSTOptimizer", "styles"),
                           {"vangogh": serve.get_deployment_handle("Generator_vangogh", "styles")}, styles),
              name="styles-keyed", route_prefix=PREFIX)
    with httpx.Client(base_url=styles_app["url"] + PREFIX, timeout=120) as client:
        yield client
    serve.delete("styles-keyed")


def paint(client, headers=None) -> httpx.Response:
    photo = (DATA / "kodim23.jpg").read_bytes()
    return client.post("/v1/stylize/vangogh", params={"size": 128}, content=photo,
                       headers={"Content-Type": "image/jpeg", **(headers or {})})


def test_without_a_key_the_api_is_a_json_401_and_the_page_stays_open(keyed):
    refused = paint(keyed)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized" and KEY not in refused.text
    assert paint(keyed, {"X-API-Key": KEY[:-1]}).status_code == 401
    for path in ("/", "/static/studio/studio.js", "/docs", "/healthz", "/v1/styles"):
        assert keyed.get(path).status_code == 200, path


def test_a_key_or_a_mini_apps_init_data_paints_and_streams_pass_through(keyed, data_dir):
    painted = paint(keyed, {"X-API-Key": KEY})
    assert painted.status_code == 200 and max(Image.open(io.BytesIO(painted.content)).size) == 128
    assert paint(keyed, {"X-Telegram-Init-Data": init_data()}).status_code == 200
    assert paint(keyed, {"X-Telegram-Init-Data": init_data(token="1:another-bot")}).status_code == 401
    files = {"content": (data_dir / "kodim23.jpg").read_bytes(), "style": (data_dir / "wave.jpg").read_bytes()}
    with keyed.stream("POST", "/v1/nst", params={"stream": "true"}, data={"size": "48", "steps": "20"},
                      files=files, headers={"Authorization": f"Bearer {KEY}"}) as stream:
        events = [json.loads(line)["type"] for line in stream.iter_lines() if line]
    assert stream.status_code == 200 and events[0] == "progress" and events[-1] == "result"


def test_past_the_limit_a_key_gets_429_with_retry_after(keyed):
    headers = {"X-API-Key": KEY, "X-Forwarded-For": "198.51.100.4"}
    answers = [keyed.post("/v1/stylize/no_such_style", content=b"", headers=headers).status_code for _ in range(31)]
    assert 429 in answers and 429 not in answers[:answers.index(429)] and set(answers[:answers.index(429)]) != {429}
    limited = keyed.post("/v1/stylize/no_such_style", content=b"", headers=headers)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 3
