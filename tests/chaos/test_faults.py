"""Chaos suite, faults mid-job: the NST replica killed through Ray, the whole service (both Serve applications)
restarted, the Bot API unreachable while the result is made. Each ends with the result delivered exactly once, or the person
told what happened, and the chat's next request gets a result.

The NST jobs here are sized (128 px, 80 evaluations) to run for several seconds, so the fault lands while the
optimizer works on them; each test waits for a progress edit, which the bot only sends once the stream runs."""
import io
import threading
import time

import httpx
import pytest
import ray
from PIL import Image
from ray import serve

from bot import texts
from bot.ingress import build_bot_app
from tests.chaos.test_hostile_bot import fake  # noqa: F401 - this module's own fake Telegram (module scope)
from tests.conftest import deploy_styles_app, nst_answers_within
from tests.test_bot_e2e import TOKEN, Chat, bot_env, start_nst, state_db, wait_statuses  # noqa: F401

pytestmark = [pytest.mark.serve, pytest.mark.chaos]
PREFIX = "/telegram-faults"
APP = "bot-faults"


def deploy_bot(fake, state_db) -> None:
    env = bot_env(fake, state_db, STYLEBOT_NST_MAX_SIZE="128", STYLEBOT_NST_MAX_STEPS="80")
    serve.run(build_bot_app({"env": env}), name=APP, route_prefix=PREFIX)


@pytest.fixture(scope="module")
def bot(styles_app, fake, state_db):
    deploy_bot(fake, state_db)
    client = httpx.Client(base_url=styles_app["url"], timeout=30)
    yield client
    client.close()
    serve.delete(APP)


@pytest.fixture()
def chat(bot, fake, data_dir):
    return Chat(bot, fake, data_dir, prefix=PREFIX)


def start_long_nst(chat) -> None:
    """Start an own-style job and return once the optimizer reports progress on it."""
    assert nst_answers_within(60), "the optimizer is still busy with an earlier job"
    start_nst(chat)
    chat.fake.wait_for(lambda: chat.fake.sent("editMessageText", chat.id), 60, "the first progress edit")


def assert_delivered_once_and_usable(chat, state_db, earlier: list[str] | None = None) -> None:
    call = chat.fake.wait_for(lambda: chat.photos(), 300, "the NST result")[0]
    assert call.params["caption"] == texts.CAPTION_NST
    wait_statuses(state_db, chat.id, (earlier or []) + ["done"], timeout=30)
    menus = chat.texts().count(texts.CHOOSE_STYLE)           # the chat's next request gets a result
    chat.send_photo()
    chat.fake.wait_for(lambda: chat.texts().count(texts.CHOOSE_STYLE) > menus, 60, "the style menu")
    chat.tap(chat.keyboard()[0]["callback_data"])
    chat.fake.wait_for(lambda: len(chat.photos()) >= 2, 60, "the next result")
    wait_statuses(state_db, chat.id, (earlier or []) + ["done", "done"], timeout=30)
    # the first painting went out once: a second copy would have arrived by the time the next job was done
    assert [c.params["caption"] for c in chat.photos()][:1] == [texts.CAPTION_NST] and len(chat.photos()) == 2
    assert TOKEN not in " ".join(chat.texts())


def kill_replicas(deployment: str) -> int:
    """Kill every live replica of a "styles" deployment through Ray, as a crash or an OOM kill would."""
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
             if a["name"].startswith(f"SERVE_REPLICA::styles#{deployment}#")]
    for name in names:
        ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)
    return len(names)


def test_the_nst_replica_killed_mid_job_is_run_again_and_delivered_once(chat, state_db):
    start_long_nst(chat)
    assert kill_replicas("NSTOptimizer") == 1
    chat.fake.wait_for(lambda: any(e.params["text"] == texts.INTERRUPTED_RESTARTING
                                   for e in chat.fake.sent("editMessageText", chat.id)), 60,
                       "the person told the job starts again")
    assert_delivered_once_and_usable(chat, state_db)


def test_the_whole_service_restarted_mid_nst_resumes_and_delivers_once(chat, fake, state_db):
    start_long_nst(chat)
    serve.delete(APP)                  # everything goes away mid-optimisation: the bot...
    serve.delete("styles")             # ...and the models
    deploy_styles_app()
    deploy_bot(fake, state_db)         # the bot comes back and resumes the job from its state store
    chat.wait_text(texts.RESTARTED_RESUMING)
    assert_delivered_once_and_usable(chat, state_db)


def test_the_bot_api_down_while_the_result_is_made_delays_it_but_delivers_it_once(chat, fake, state_db):
    start_long_nst(chat)
    fake.go_offline()                  # connection refused for every call, the result is made meanwhile
    try:
        wait_statuses(state_db, chat.id, ["delivering"], timeout=240)   # made, and waiting for Telegram
        time.sleep(5)                  # several delivery attempts refused (every 1 s: STYLEBOT_TELEGRAM_RETRY_MS 100)
        assert chat.photos() == []
    finally:
        fake.go_online()
    assert_delivered_once_and_usable(chat, state_db)


def test_a_preset_replica_lost_mid_request_is_retried_and_every_request_answered(styles_app, data_dir):
    """The replica painting a batch dies (a crash, an OOM kill, its node gone): the ingress sends each request of
    the batch again, to the replica Serve starts instead, and every caller gets its picture; the retries are
    counted in stylebot_retries."""
    from ray import serve

    from tests.prometheus import scrape, total

    photo = (data_dir / "kodim23.jpg").read_bytes()
    before = total(scrape(styles_app["metrics_url"]), "ray_stylebot_retries_total", target="vangogh")
    answers: list[httpx.Response] = []

    def paint() -> None:
        answers.append(httpx.post(f"{styles_app['url']}/v1/stylize/vangogh", params={"size": 256}, content=photo,
                                  headers={"Content-Type": "image/jpeg"}, timeout=180))

    callers = [threading.Thread(target=paint) for _ in range(4)]
    for t in callers:
        t.start()
    generator = serve.get_deployment_handle("Generator_vangogh", "styles")
    deadline = time.monotonic() + 60
    while generator.stats.remote().result()["painting"] == 0:   # killed only while it paints
        assert time.monotonic() < deadline, "the generator never started painting"
        time.sleep(0.05)
    assert kill_replicas("Generator_vangogh") == 1
    for t in callers:
        t.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert all(Image.open(io.BytesIO(a.content)).size == (256, 256) for a in answers)
    deadline = time.monotonic() + 90   # Ray exports custom metrics every few seconds
    while total(scrape(styles_app["metrics_url"]), "ray_stylebot_retries_total", target="vangogh") <= before:
        assert time.monotonic() < deadline, "the retries were never counted"
        time.sleep(2)
