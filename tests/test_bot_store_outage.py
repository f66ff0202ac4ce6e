"""The bot while its state store does not answer, without Ray: BotApp with real aiogram against the fake Telegram
Bot API, a stub styles app, and a SQLite store whose chosen step hangs until the test lets it go (then does its
work late, as a stalled Redis or a locked SQLite file does). The chaos suite does the same with a real Redis
paused and killed and a SQLite file locked by another process (tests/chaos/test_store_outage.py)."""
import asyncio
import threading
import time

import pytest

from bot import texts
from bot.app import BotApp
from bot.config import BotSettings
from bot.keyboards import StyleChoice, content_tag
from bot.state import AsyncStore, ChatState, SqliteStore, StoreUnavailable
from bot.update_intake import CLAIM_TIMEOUT_S
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram, Updates

TOKEN = "123456789:AAOutageTestTokenValue_abcdefghijklm"


class Styles:
    """The styles app as the bot sees it: one preset that paints at once."""

    async def catalogue(self) -> list[dict]:
        return [{"name": "vangogh", "label": "Van Gogh", "available": True}]

    async def available(self) -> list[dict]:
        return await self.catalogue()

    async def fast_served(self) -> bool:
        return False


class Hanging(SqliteStore):
    """A SQLite store whose `step`, once called, finds the database busy until `go` is set (another thread holds
    the connection), then runs: it starts as it would (the time it records is taken) and finishes late."""

    def __init__(self, path, step: str):
        super().__init__(path)
        self.go = threading.Event()
        original = getattr(self, step)

        def busy_until_go():
            with self._lock:
                busy.set()
                self.go.wait(30)

        def hang(*args, **kwargs):
            if not self.go.is_set():
                threading.Thread(target=busy_until_go, daemon=True).start()
                busy.wait(5)
            return original(*args, **kwargs)
        busy = threading.Event()
        hang.__name__ = step
        setattr(self, step, hang)


@pytest.fixture(scope="module")
def fake():
    f = FakeTelegram(TOKEN).start(free_port())
    yield f
    f.stop()


def run_bot(fake, sync, scenario, timeout_s: float = 2.0):
    """Run `scenario(app)` against a BotApp on `sync` (store calls time out after `timeout_s`)."""
    settings = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": fake.url,
                                     "STYLEBOT_PUBLIC_URL": "https://bot.example.org"})

    async def main():
        app = BotApp(settings, Styles(), store=AsyncStore(sync, timeout_s=timeout_s))
        try:
            await scenario(app)
        finally:
            sync.go.set()
            await app.stop()
            for router in app.dp.sub_routers:   # the handlers' routers are module-level: free for the next test
                router._parent_router = None
    asyncio.run(main())


async def until(predicate, timeout_s: float = 10.0, what: str = "it"):
    deadline = time.monotonic() + timeout_s
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {predicate()!r}"
        await asyncio.sleep(0.02)
    return found


def test_an_update_the_store_does_not_take_in_time_is_refused_fast_and_handled_once_when_resent(fake, tmp_path):
    sync = Hanging(tmp_path / "s.db", "claim_update")
    chat = Updates(901)
    update = chat.text("/help")

    async def scenario(app):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):            # the webhook answers 503: Telegram sends it again
            await app.accept(update)
        assert time.monotonic() - started < CLAIM_TIMEOUT_S + 0.3
        sync.go.set()                                    # the store answers: the claim is written late
        await until(lambda: sync.pending_updates(), what="the late claim")
        assert await app.accept(update) is False         # Telegram's resend is a duplicate...
        await until(lambda: fake.texts(901), what="the answer")                   # ...handled all the same
        await until(lambda: not sync.pending_updates(), what="the update marked handled")
        assert await app.accept(update) is False
        await asyncio.sleep(0.3)
        assert len(fake.texts(901)) == 1 and "How it works" in fake.texts(901)[0]

    run_bot(fake, sync, scenario)


def test_a_job_the_store_does_not_take_in_time_is_refused_to_the_person_and_never_runs(fake, tmp_path):
    sync = Hanging(tmp_path / "s.db", "create_job")
    chat = Updates(902, language_code="ru")
    file_id = fake.host_file(b"not needed: the job never runs")
    sync.save_chat(ChatState(902, content_file_id=file_id))
    tap = chat.tap(StyleChoice(name="vangogh", content=content_tag(file_id)).pack())

    async def scenario(app):
        assert await app.accept(tap) is True
        answer = await until(lambda: [c for c in fake.sent("answerCallbackQuery")
                                      if c.params["callback_query_id"] == tap["callback_query"]["id"]],
                             what="the tap's answer")
        assert answer[0].params["text"] == texts.for_language("ru").NOT_RECORDED
        sync.go.set()                                    # the store answers: the job is written late...
        await until(lambda: (job := sync.job(1)) and job.status == "cancelled",
                    what="the late job cancelled")       # ...and cancelled before it runs
        await until(lambda: not sync.pending_updates(), what="the tap marked handled")
        assert sync.job(1).reason == "not recorded in time" and not fake.sent("sendPhoto", 902)
        assert len([c for c in fake.sent("answerCallbackQuery")
                    if c.params["callback_query_id"] == tap["callback_query"]["id"]]) == 1

    run_bot(fake, sync, scenario, timeout_s=0.5)


def test_an_update_past_the_flood_limit_whose_claim_lands_late_is_marked_handled_never_handled(fake, tmp_path):
    from bot.flood import FloodGate

    sync = Hanging(tmp_path / "s.db", "claim_update")
    update = Updates(903).text("/help")

    async def scenario(app):
        app.flood = FloodGate(limit=0)                   # every update is past the limit
        with pytest.raises(StoreUnavailable):
            await app.accept(update)
        sync.go.set()
        await until(lambda: sync.last_update_id() == update["update_id"] and not sync.pending_updates(),
                    what="the late claim marked handled")
        assert fake.texts(903) == []

    run_bot(fake, sync, scenario)
