"""Two bot replicas sharing one Redis state store, end to end: the real "styles" app, real aiogram, the fake
Telegram Bot API, a real redis-server. The proxy spreads webhook calls over both replicas; leases in Redis keep a
chat's updates in order, handle each update once, and move a dead replica's job to the live one."""
import threading
import time

import httpx
import pytest
import ray
import redis
from ray import serve

from bot import texts
from bot.ingress import build_bot_app
from tests.conftest import free_port, nst_answers_within
from tests.fake_telegram import FakeTelegram
from bot.state.redis_store import RedisStore
from tests.test_bot_e2e import (SECRET, TOKEN, Chat, bot_env, saved_style_paints_like_its_image,
                                saved_styles_are_renamed_and_deleted_in_styles, start_nst)

pytestmark = pytest.mark.serve
APP, PREFIX, LEASE_S = "bot-replicas", "/telegram-replicas", 3


@pytest.fixture(scope="module")
def fake():
    f = FakeTelegram(TOKEN).start(free_port())
    yield f
    f.stop()


@pytest.fixture(scope="module")
def keys(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def bot(styles_app, fake, redis_server, tmp_path_factory):
    env = bot_env(fake, tmp_path_factory.mktemp("unused") / "unused.db", STYLEBOT_STATE_URL=redis_server.url,
                  STYLEBOT_LEASE_S=str(LEASE_S), TELEGRAM_WEBHOOK_SECRET=SECRET)
    serve.run(build_bot_app({"env": env, "replicas": 2}), name=APP, route_prefix=PREFIX)
    client = httpx.Client(base_url=styles_app["url"], timeout=30)
    yield client
    client.close()
    serve.delete(APP)


@pytest.fixture()
def chat(bot, fake, data_dir):
    return Chat(bot, fake, data_dir, prefix=PREFIX)


@pytest.fixture()
def state(redis_server):
    """The replicas' state store (their key prefix), opened by the test too."""
    store = RedisStore.from_url(redis_server.url)
    yield store
    store.close()


def jobs_of(keys, chat_id: int) -> list[dict]:
    found = [keys.hgetall(k) for k in keys.scan_iter("{stylebot}:job:*")]
    return sorted((j for j in found if j.get("chat_id") == str(chat_id)), key=lambda j: int(j["id"]))


def test_both_replicas_take_webhook_calls_and_a_duplicated_update_is_handled_once(bot, chat):
    replicas = {bot.get(f"{PREFIX}/healthz").json()["replica"] for _ in range(40)}
    assert len(replicas) == 2
    update = chat.updates.text("/help")
    threads = [threading.Thread(target=chat.post, args=(update,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chat.wait_text("How it works")
    time.sleep(1.5)
    assert sum("How it works" in t for t in chat.texts()) == 1


def test_a_chats_updates_are_answered_in_order_across_replicas(chat):
    said = ["/help", "/cancel", "/start", "/cancel", "/help", "/start", "/cancel", "/help"]
    kind = {"/help": "How it works", "/cancel": texts.NOTHING_TO_CANCEL, "/start": "Hi, Ada!"}
    chat.fake.fail("sendMessage", 429, retry_after=1, chat_id=chat.id)   # the first answer stalls a second
    for text in said:
        chat.say(text)                           # each call returns once the update is recorded
    def delivered() -> list[str]:  # the 429 attempt was refused: it is not an answer
        return [c.params["text"] for c in chat.fake.sent("sendMessage", chat.id) if c.status == 200]

    chat.fake.wait_for(lambda: len(delivered()) >= len(said), 60, "every answer")
    time.sleep(1)
    answered = [next(c for c, marker in kind.items() if marker in t) for t in delivered()]
    assert answered == said


def test_a_job_of_a_replica_that_dies_is_finished_by_another_and_delivered_once(chat, keys):
    assert nst_answers_within(60)
    start_nst(chat)
    deadline = time.monotonic() + 30
    while not (jobs := jobs_of(keys, chat.id)) or not keys.get(f"{{stylebot}}:lease:job:{jobs[-1]['id']}"):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    job_id = jobs[-1]["id"]
    owner = keys.get(f"{{stylebot}}:lease:job:{job_id}").split("@")[0]
    ray.kill(ray.get_actor(f"SERVE_REPLICA::{APP}#BotIngress#{owner}", namespace="serve"), no_restart=True)
    call = chat.fake.wait_for(lambda: chat.photos(), 240, "the result from the surviving replica")[0]
    assert call.params["caption"] == texts.CAPTION_NST
    new_owner = keys.get(f"{{stylebot}}:lease:job:{job_id}")
    time.sleep(3)
    assert len(chat.photos()) == 1
    assert jobs_of(keys, chat.id)[-1]["status"] == "done"
    assert any(texts.RESTARTED_RESUMING in t for t in chat.texts())    # the person knows it started again
    assert new_owner is None or not new_owner.startswith(owner)         # released by its new runner when done


def test_a_saved_style_is_kept_in_redis_and_paints_on_either_replica(chat, state):
    saved_style_paints_like_its_image(chat, state)


def test_saved_styles_in_redis_are_renamed_and_deleted_in_styles(chat, state, styles_app):
    saved_styles_are_renamed_and_deleted_in_styles(chat, state, styles_app["handle"])
