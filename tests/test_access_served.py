"""API keys and rate limits on the deployed styles ingress (tests/test_access.py has the middleware alone): a second
StylesIngress with keys, a limit and a bot token over its environment's (`access_env`: the test cluster's
environment was set when it started), in front of the cluster's own generator and optimizer, under a route prefix.
Over real HTTP through Serve's proxy. The secrets test in tests/test_bot_e2e.py then finds none of them in Ray's
logs."""
import io
import json

import httpx
import pytest
from PIL import Image
from ray import serve

from tests.conftest import DATA, ray_logs_dir
from tests.test_web_app_auth import TOKEN, init_data

pytestmark = pytest.mark.serve
PREFIX = "/keyed"
KEY, OTHER_KEY = "k-served-0123456789abcdef", "k-served-other-9876543210"
PER_MINUTE = 6   # a token back every 10 s: the requests below take far less


@pytest.fixture(scope="module")
def keyed(styles_app):
    from deployments.ingress import StylesIngress

    env = {"STYLEBOT_API_KEYS": f"{KEY},{OTHER_KEY}", "TELEGRAM_BOT_TOKEN": TOKEN,
           "STYLEBOT_RATE_PER_MINUTE": str(PER_MINUTE)}
    ingress = StylesIngress.options(name="KeyedIngress", ray_actor_options={"num_cpus": 0.1})
    styles = [s for s in styles_app["handle"].list_styles.remote().result() if s["name"] == "vangogh"]
    serve.run(ingress.bind(serve.get_deployment_handle("NSTOptimizer", "styles"),
                           {"vangogh": serve.get_deployment_handle("Generator_vangogh", "styles")}, styles,
                           access_env=env), name="styles-keyed", route_prefix=PREFIX)
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
    headers = {"X-API-Key": OTHER_KEY, "X-Forwarded-For": "198.51.100.4"}   # a key and an address not used yet
    answers = [keyed.post("/v1/stylize/no_such_style", content=b"", headers=headers) for _ in range(PER_MINUTE + 1)]
    assert [a.status_code for a in answers] == [404] * PER_MINUTE + [429]   # counted whatever the answer
    assert answers[-1].json()["error"] == "rate_limited" and 1 <= int(answers[-1].headers["retry-after"]) <= 10


def test_the_keys_and_the_token_never_reach_the_logs(keyed):
    assert paint(keyed, {"X-API-Key": KEY[:-1] + "x"}).status_code == 401      # a near miss, refused and not logged
    secrets = (KEY.encode(), OTHER_KEY.encode(), TOKEN.encode(), KEY[:-1].encode())
    leaked = [p.name for p in ray_logs_dir().rglob("*") if p.is_file() and p.stat().st_size < 50_000_000
              and any(s in p.read_bytes() for s in secrets)]
    assert leaked == []
