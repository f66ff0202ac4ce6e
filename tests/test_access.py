"""Who may use the API when it is public (deployments/access.py): the real middleware in front of a small FastAPI
app over real HTTP (Starlette's test client). Keys, the Mini App's initData, what stays open, rate limits."""
import logging

import pytest
from fastapi import FastAPI
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.testclient import TestClient

from deployments.access import AccessMiddleware, AccessPolicy, RateLimiter
from tests.test_web_app_auth import TOKEN, init_data

KEYS = "k-first-0123456789,k-second-abcdefgh"


def client(env: dict) -> TestClient:
    app = FastAPI()
    policy = AccessPolicy.from_env(env)
    app.add_middleware(AccessMiddleware, policy_of=lambda: policy)

    @app.post("/v1/stylize/{name}")
    def paint(name: str):
        return PlainTextResponse(f"painted {name}")

    @app.post("/v1/nst")
    def stream():
        return StreamingResponse(iter([b'{"type": "progress"}\n', b'{"type": "result"}\n']))

    for path in ("/", "/healthz", "/docs", "/static/studio/studio.js", "/v1/styles", "/v1/styles/candy/thumbnail"):
        app.add_api_route(path, lambda: PlainTextResponse("open"), methods=["GET"])
    return TestClient(app)


def test_without_keys_everything_is_open_and_unlimited():
    c = client({})
    assert all(c.post("/v1/stylize/candy").status_code == 200 for _ in range(300))


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": "k-first-012345678"},
                                     {"Authorization": "Bearer k-second-abcdefg"}, {"X-API-Key": ""},
                                     {"Authorization": "Basic k-first-0123456789"}])
def test_a_missing_or_wrong_key_is_a_json_401_that_never_echoes_a_key(headers, caplog):
    caplog.set_level(logging.DEBUG)
    got = client({"STYLEBOT_API_KEYS": KEYS}).post("/v1/stylize/candy", headers=headers)
    assert got.status_code == 401 and got.json()["error"] == "unauthorized" and "X-API-Key" in got.json()["message"]
    assert "k-first" not in got.text + caplog.text and "k-second" not in got.text + caplog.text


def test_each_key_works_as_a_header_or_a_bearer_token_and_streams_pass_through():
    c = client({"STYLEBOT_API_KEYS": KEYS})
    assert c.post("/v1/stylize/candy", headers={"X-API-Key": "k-first-0123456789"}).text == "painted candy"
    assert c.post("/v1/stylize/candy", headers={"Authorization": "Bearer k-second-abcdefgh"}).status_code == 200
    lines = c.post("/v1/nst", headers={"X-API-Key": "k-second-abcdefgh"}).text.splitlines()
    assert lines == ['{"type": "progress"}', '{"type": "result"}']


def test_keys_can_come_from_a_mounted_secret_file(tmp_path):
    secret = tmp_path / "keys"
    secret.write_text("k-from-a-secret-file\n\n")
    c = client({"STYLEBOT_API_KEYS_FILE": str(secret)})
    assert c.post("/v1/stylize/candy", headers={"X-API-Key": "k-from-a-secret-file"}).status_code == 200
    assert c.post("/v1/stylize/candy").status_code == 401


def test_the_page_its_files_the_docs_and_the_style_pictures_stay_open():
    c = client({"STYLEBOT_API_KEYS": KEYS})
    for path in ("/", "/healthz", "/docs", "/static/studio/studio.js", "/v1/styles", "/v1/styles/candy/thumbnail"):
        assert c.get(path).status_code == 200, path


def test_a_route_prefix_is_taken_off_before_the_open_paths_are_matched():
    from deployments.access import app_path

    assert app_path({"path": "/keyed/static/a.js", "root_path": "/keyed"}) == "/static/a.js"
    assert app_path({"path": "/keyed", "root_path": "/keyed"}) == "/"
    assert app_path({"path": "/keyedness/v1/nst", "root_path": "/keyed"}) == "/keyedness/v1/nst"
    assert app_path({"path": "/v1/nst"}) == "/v1/nst"


def test_inside_telegram_a_valid_init_data_is_enough_and_a_forged_one_is_not():
    c = client({"STYLEBOT_API_KEYS": KEYS, "TELEGRAM_BOT_TOKEN": TOKEN})
    assert c.post("/v1/stylize/candy", headers={"X-Telegram-Init-Data": init_data()}).status_code == 200
    forged = init_data().replace("424242", "424243")
    assert c.post("/v1/stylize/candy", headers={"X-Telegram-Init-Data": forged}).status_code == 401
    assert c.post("/v1/stylize/candy", headers={"X-Telegram-Init-Data": init_data(token="1:other")}).status_code == 401


def test_each_key_and_each_address_has_its_own_rate_limit_with_retry_after():
    c = client({"STYLEBOT_API_KEYS": KEYS, "STYLEBOT_RATE_PER_MINUTE": "5"})
    first = {"X-API-Key": "k-first-0123456789", "X-Forwarded-For": "203.0.113.7"}
    assert [c.post("/v1/stylize/a", headers=first).status_code for _ in range(6)] == [200] * 5 + [429]
    limited = c.post("/v1/stylize/a", headers=first)
    assert limited.json()["error"] == "rate_limited" and 1 <= int(limited.headers["retry-after"]) <= 12
    other = {"X-API-Key": "k-second-abcdefgh", "X-Forwarded-For": "198.51.100.9"}
    assert c.post("/v1/stylize/a", headers=other).status_code == 200       # another key, another address
    same_address = {"X-API-Key": "k-second-abcdefgh", "X-Forwarded-For": "spoofed, 203.0.113.7"}
    assert c.post("/v1/stylize/a", headers=same_address).status_code == 429  # the proxy's entry counts


def test_a_bucket_refills_evenly():
    limiter = RateLimiter(per_minute=60)
    assert [limiter.wait_s("a", 0.0) for _ in range(61)][-1] == 1
    assert limiter.wait_s("a", 1.01) == 0 and limiter.wait_s("a", 1.02) == 1


@pytest.mark.parametrize("rate", ["0", "-1", "lots"])
def test_a_bad_rate_setting_says_what_is_wrong(rate):
    with pytest.raises(ValueError, match="STYLEBOT_RATE_PER_MINUTE"):
        AccessPolicy.from_env({"STYLEBOT_RATE_PER_MINUTE": rate})
