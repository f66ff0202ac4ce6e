"""Chaos suite, the state store stalls and goes down while chats send photos and taps: a real redis-server (AOF on)
paused with SIGSTOP for 20 s, resumed, then killed and started again on its append-only file; a SQLite file held
by another process in an exclusive transaction (BEGIN EXCLUSIVE) for 20 s.

Every webhook call is answered within 2 s: 200 when the update was recorded, 503 when it was not (Telegram sends
it again; so does the test, once the store is back). Then every update is handled exactly once (each tap answered
once, each photo answered once), and each chat's next photo and preset tap get a painting."""
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from ray import serve

from bot import texts
from bot.ingress import build_bot_app
from bot.keyboards import SettingChoice
from bot.state import SqliteStore
from bot.state.redis_store import RedisStore
from tests.chaos.test_hostile_bot import fake  # noqa: F401 - this module's own fake Telegram (module scope)
from tests.conftest import free_port
from tests.redis_server import RedisServer
from tests.sqlite_lock import lock_sqlite
from tests.test_bot_e2e import Chat, bot_env

pytestmark = [pytest.mark.serve, pytest.mark.chaos]
STALL_S = 20                 # the deliberate stall (Redis paused: the 20 s)
LOCK_S = 8                   # SQLite held by another process: past the store's timeout, so calls are refused
ANSWER_WITHIN_S = 2.0        # every webhook call
CHATS = 3
POST_EVERY_S = 2.5           # each chat's pace: the resent backlog stays under the flood limit (12 in 10 s)
FAST = SettingChoice(key="quality", value="fast").pack()   # a tap that reads and writes the chat's state


@dataclass
class Post:
    chat: Chat
    update: dict
    seconds: float
    status: int


@dataclass
class Traffic:
    """Chats talking to the webhook, each POST timed; what got a 503 is sent again later, as Telegram does."""
    chats: list[Chat]
    posts: list[Post] = field(default_factory=list)
    recorded: list[Post] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def post(self, chat: Chat, update: dict) -> Post:
        started = time.monotonic()
        status = chat.post(update).status_code
        post = Post(chat, update, time.monotonic() - started, status)
        self.posts.append(post)
        if status == 200:
            self.recorded.append(post)
        return post

    def talk(self, chat: Chat) -> None:
        """A photo, then a tap, and so on, until stopped."""
        data = (chat.data_dir / "kodim23.jpg").read_bytes()
        while not self._stop.is_set():
            file_id = chat.fake.host_file(data)
            self.post(chat, chat.updates.photo(file_id, len(data)))
            self._stop.wait(POST_EVERY_S)
            self.post(chat, chat.updates.tap(FAST))
            self._stop.wait(POST_EVERY_S)

    def __enter__(self) -> "Traffic":
        self._threads = [threading.Thread(target=self.talk, args=(c,), daemon=True) for c in self.chats]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def refused_since(self, mark: int) -> int:
        return sum(p.status != 200 for p in self.posts[mark:])

    def resend_refused(self) -> None:
        """Send each refused update again until it is recorded, one per chat at a time (Telegram's own pace)."""
        def resend(chat: Chat) -> None:
            for p in [p for p in list(self.posts) if p.chat is chat and p.status != 200]:
                while self.post(chat, p.update).status != 200:
                    time.sleep(1)
                time.sleep(1.2)     # a chat's backlog arrives under the flood limit
        threads = [threading.Thread(target=resend, args=(c,)) for c in self.chats]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)


def wait_until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def photos_answered(chat: Chat) -> int:
    return sum(t in (texts.CHOOSE_STYLE, texts.NOT_RECORDED) for t in chat.texts())


def ride_out(bot: httpx.Client, fake, data_dir, prefix: str, outage, pending) -> None:
    """Chats talk through `outage()` (which returns once the store is back); then every refused update is sent
    again, each update is handled exactly once, and every chat still gets a painting. `pending()`: the store's
    unhandled updates."""
    chats = [Chat(bot, fake, data_dir, f"Chat{n}", prefix=prefix) for n in range(CHATS)]
    with Traffic(chats) as traffic:
        wait_until(lambda: all(photos_answered(c) for c in chats), 60, "the first photos answered")
        outage(traffic)
    traffic.resend_refused()
    wait_until(lambda: not pending(), 120, "every recorded update handled")

    slow = [round(p.seconds, 2) for p in traffic.posts if p.seconds >= ANSWER_WITHIN_S]
    assert not slow, f"webhook calls answered after {ANSWER_WITHIN_S} s: {slow}"
    assert {p.status for p in traffic.posts} <= {200, 503}
    for chat in chats:
        taps = [p.update["callback_query"]["id"] for p in traffic.recorded if p.chat is chat and p.update.get(
            "callback_query")]
        answers = [c.params["callback_query_id"] for c in fake.sent("answerCallbackQuery")
                   if c.params["callback_query_id"] in taps]
        assert sorted(answers) == sorted(taps)                       # every tap answered, once
        photos = [p for p in traffic.recorded if p.chat is chat and "message" in p.update]
        assert photos_answered(chat) == len(photos)                  # every photo answered, once
        assert len({p.update["update_id"] for p in photos}) == len(photos)

    for chat in chats:                                               # and the chats are usable
        menus = photos_answered(chat)
        chat.send_photo()
        chat.fake.wait_for(lambda c=chat: photos_answered(c) > menus, 60, "the style menu")
    for chat in chats:
        chat.tap(chat.keyboard()[0]["callback_data"])
    for chat in chats:
        chat.fake.wait_for(lambda c=chat: c.photos(), 120, "a painting")


@pytest.fixture(scope="module")
def redis_aof(tmp_path_factory):
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis-aof"), aof=True).start()
    yield server
    server.stop()


def deployed(styles_app, fake, name: str, prefix: str, env: dict) -> httpx.Client:
    serve.run(build_bot_app({"env": env}), name=name, route_prefix=prefix)
    return httpx.Client(base_url=styles_app["url"], timeout=30)


def test_redis_paused_then_killed_and_restarted_loses_no_update_and_handles_each_once(styles_app, fake, data_dir,
                                                                                      redis_aof, tmp_path):
    prefix = "/telegram-redis-outage"
    bot = deployed(styles_app, fake, "bot-redis-outage", prefix,
                   bot_env(fake, tmp_path / "unused.db", STYLEBOT_STATE_URL=redis_aof.url))
    state = RedisStore.from_url(redis_aof.url)

    def outage(traffic: Traffic) -> None:
        mark = len(traffic.posts)
        redis_aof.pause()
        try:
            time.sleep(STALL_S)
        finally:
            redis_aof.resume()
        assert traffic.refused_since(mark) > 0
        mark = len(traffic.posts)
        redis_aof.kill()
        wait_until(lambda: traffic.refused_since(mark) >= CHATS, 30, "webhook calls refused while Redis is down")
        redis_aof.start()                            # the same port, its append-only file

    try:
        ride_out(bot, fake, data_dir, prefix, outage, state.pending_updates)
    finally:
        state.close()
        bot.close()
        serve.delete("bot-redis-outage")


def test_sqlite_locked_by_another_process_loses_no_update_and_handles_each_once(styles_app, fake, data_dir,
                                                                                tmp_path):
    prefix, db = "/telegram-sqlite-outage", tmp_path / "state.db"
    bot = deployed(styles_app, fake, "bot-sqlite-outage", prefix, bot_env(fake, db))
    state = SqliteStore(db)

    def outage(traffic: Traffic) -> None:
        mark = len(traffic.posts)
        holder = lock_sqlite(db, LOCK_S)
        assert holder.wait(LOCK_S + 30) == 0
        assert traffic.refused_since(mark) > 0

    try:
        ride_out(bot, fake, data_dir, prefix, outage, state.pending_updates)
    finally:
        state.close()
        bot.close()
        serve.delete("bot-sqlite-outage")
