"""Bot parts that need neither Ray nor a model: settings, keyboards, redaction, Telegram retries (the state store
has tests/test_state_store.py)."""
import asyncio
import re
import logging

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramServerError

from bot import texts
from bot.config import BotSettings, ConfigError
from bot.keyboards import SavedChoice, SavedEdit, StyleChoice, apply_setting, saved_styles_keyboard, style_keyboard
from bot.my_styles import clean_name, default_name, renamed_style, renaming
from bot.redact import SecretFilter
from bot.state import SavedStyle, Settings
from bot.telegram_retry import RetryMiddleware
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAUnitTestTokenValue_abcdefghijklmnop"


# -- settings from the environment ------------------------------------------------------------------------
def test_defaults_are_polling_with_a_local_sqlite_file():
    s = BotSettings.from_env({})
    assert s.token is None and s.mode == "polling" and s.api_base == "https://api.telegram.org"
    assert s.state_url == "sqlite:///var/stylebot.db" and s.secret_generated and len(s.webhook_secret) >= 32


def test_a_public_url_means_webhook_mode_and_secrets_stay_out_of_repr():
    s = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "hush-hush",
                              "STYLEBOT_PUBLIC_URL": "https://bot.example.org/", "TELEGRAM_API_BASE": "http://x:1/"})
    assert s.mode == "webhook" and s.webhook_url == "https://bot.example.org/telegram/webhook"
    assert s.api_base == "http://x:1" and not s.secret_generated
    assert TOKEN not in repr(s) and "hush-hush" not in repr(s)


def test_without_a_set_secret_every_replica_derives_the_same_one_from_the_token():
    a, b = (BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}) for _ in range(2))
    other = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN + "x"})
    assert a.webhook_secret == b.webhook_secret != other.webhook_secret and a.secret_generated
    assert TOKEN not in a.webhook_secret and re.fullmatch(r"[A-Za-z0-9_-]{32,256}", a.webhook_secret)


@pytest.mark.parametrize("env, message", [
    ({"STYLEBOT_BOT_MODE": "carrier-pigeon"}, "webhook' or 'polling"),
    ({"STYLEBOT_BOT_MODE": "webhook"}, "needs STYLEBOT_PUBLIC_URL"),
    ({"STYLEBOT_NST_MAX_STEPS": "-3"}, "positive whole number"),
])
def test_bad_settings_say_what_is_wrong(env, message):
    with pytest.raises(ConfigError, match=message):
        BotSettings.from_env(env)


# -- keyboards --------------------------------------------------------------------------------------------
STYLES = [{"name": "monet", "label": "Monet", "available": True},
          {"name": "vangogh", "label": "Van Gogh", "available": False},
          {"name": "vintage", "label": "Vintage photo", "available": True}]


def test_style_keyboard_offers_available_presets_all_styles_and_own_style():
    buttons = [b for row in style_keyboard(STYLES, "abc123", texts.EN).inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["Monet", "Vintage photo", "All styles", "My own style image"]
    assert all(len(b.callback_data.encode()) <= 64 for b in buttons)
    assert StyleChoice.unpack(buttons[0].callback_data) == StyleChoice(name="monet", content="abc123")
    one = [b.text for row in style_keyboard(STYLES[:1], "t", texts.EN).inline_keyboard for b in row]
    assert one == ["Monet", "My own style image"]                    # "All styles" of one style is pointless


def test_saved_styles_get_a_page_of_their_own_and_rename_and_delete_buttons():
    saved = [SavedStyle(7, 1, "My style 1", [0.0] * 100), SavedStyle(9, 1, "Sunny swirls", [0.5] * 100)]
    main = [b for row in style_keyboard(STYLES, "abc123", texts.EN, saved=saved).inline_keyboard for b in row]
    assert [b.text for b in main] == ["Monet", "Vintage photo", texts.MY_STYLES, "All styles", "My own style image"]
    page = [b for row in style_keyboard(STYLES, "abc123", texts.EN, "mine", saved).inline_keyboard for b in row]
    assert [b.text for b in page] == ["My style 1", "Sunny swirls", texts.BACK]
    assert SavedChoice.unpack(page[1].callback_data) == SavedChoice(id=9, content="abc123")
    edits = [b for row in saved_styles_keyboard(saved, texts.EN).inline_keyboard for b in row]
    assert [b.text for b in edits] == ["✏️ Rename “My style 1”", "🗑 Delete", "✏️ Rename “Sunny swirls”", "🗑 Delete"]
    assert SavedEdit.unpack(edits[3].callback_data) == SavedEdit(action="delete", id=9)
    assert all(len(b.callback_data.encode()) <= 64 for b in main + page + edits)


def test_saved_style_names_default_to_the_next_free_number_and_are_checked():
    ru = texts.for_language("ru")
    saved = [SavedStyle(1, 1, "My style 2", [0.0] * 100)]   # "My style 1" was deleted
    assert default_name([], texts.EN) == "My style 1" and default_name([], ru) == "Мой стиль 1"
    assert default_name(saved, texts.EN) == "My style 3"
    assert clean_name("  Sunny \n  swirls ") == "Sunny swirls" and clean_name("x" * 32) == "x" * 32
    assert clean_name("   ") is None and clean_name("x" * 33) is None
    assert renamed_style(renaming(12)) == 12
    assert renamed_style(None) is None and renamed_style("style") is None and renamed_style("rename:x") is None


def test_settings_taps():
    s = Settings()
    assert apply_setting(s, "quality", "fast") and s.quality == "fast"
    assert apply_setting(s, "strength", "2") and s.strength == 2.0
    assert apply_setting(s, "send_file", "toggle") and s.send_file
    assert not apply_setting(s, "quality", "ultra") and not apply_setting(s, "strength", "7")


@pytest.mark.parametrize("key,value", [("strength", "abc"), ("strength", "nan"), ("strength", ""),
                                       ("quality", "../x"), ("keep_colors", "on"), ("nope", "1")])
def test_forged_setting_taps_are_refused_not_raised(key, value):
    s = Settings()
    assert apply_setting(s, key, value) is False
    assert s == Settings()


# -- redaction --------------------------------------------------------------------------------------------
def test_secret_filter_scrubs_messages_args_and_tracebacks():
    f = SecretFilter([TOKEN, "hush"])
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "GET https://api/bot%s/getMe secret=%s", (TOKEN, "hush"),
                            None)
    assert f.filter(rec) and TOKEN not in rec.getMessage() and "hush" not in rec.getMessage()
    try:
        raise RuntimeError(f"failed https://api.telegram.org/file/bot{TOKEN}/x.jpg")
    except RuntimeError:
        import sys
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "download failed", (), sys.exc_info())
    f.filter(rec)
    assert rec.exc_info is None and "withheld" in rec.getMessage()


# -- Telegram retries against the fake Bot API --------------------------------------------------------------
@pytest.fixture(scope="module")
def fake():
    f = FakeTelegram(TOKEN).start(free_port())
    yield f
    f.stop()


def call(fake, coro_factory, **retry):
    async def run():
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
        session.middleware(RetryMiddleware(**{"base_delay": 0.05, **retry}))
        bot = Bot(TOKEN, session=session)
        try:
            return await coro_factory(bot)
        finally:
            await session.close()
    return asyncio.run(run())


def test_429_waits_retry_after_then_succeeds(fake):
    fake.fail("sendMessage", 429, retry_after=1, chat_id=1)
    msg = call(fake, lambda bot: bot.send_message(1, "hello"))
    tries = fake.sent("sendMessage", 1)
    assert msg.text == "hello" and len(tries) == 2 and tries[1].at - tries[0].at >= 0.95


def test_5xx_backs_off_and_then_gives_up(fake):
    fake.fail("sendMessage", 502, times=2, chat_id=2)
    assert call(fake, lambda bot: bot.send_message(2, "x")).text == "x"
    assert len(fake.sent("sendMessage", 2)) == 3
    fake.fail("sendMessage", 500, times=3, chat_id=3)
    with pytest.raises(TelegramServerError):
        call(fake, lambda bot: bot.send_message(3, "x"), attempts=3)
    assert len(fake.sent("sendMessage", 3)) == 3


def test_403_is_not_retried(fake):
    fake.fail("sendMessage", 403, chat_id=4)
    with pytest.raises(TelegramForbiddenError):
        call(fake, lambda bot: bot.send_message(4, "x"))
    assert len(fake.sent("sendMessage", 4)) == 1


def test_chat_locks_keep_order_and_do_not_pile_up():
    from bot.update_intake import ChatLocks

    locks, order = ChatLocks(), []

    async def handle(chat, n):
        async with locks.hold(chat):
            await asyncio.sleep(0.001 * (5 - n))
            order.append((chat, n))

    async def main():
        await asyncio.gather(*(handle(chat, n) for n in range(5) for chat in range(200)))

    asyncio.run(main())
    for chat in range(200):
        assert [n for c, n in order if c == chat] == [0, 1, 2, 3, 4]
    assert len(locks) == 0


def test_flood_gate_allows_a_burst_warns_once_then_drops_and_forgets():
    from bot.flood import FloodGate, Verdict

    gate = FloodGate(limit=3, window_s=10)
    verdicts = [gate.check(1, now=t * 0.1) for t in range(10)]
    assert verdicts[:3] == [Verdict.ALLOW] * 3
    assert verdicts[3] == Verdict.WARN and set(verdicts[4:]) == {Verdict.DROP}
    assert gate.check(2, now=0.5) == Verdict.ALLOW               # other chats are not affected
    assert gate.check(1, now=10.05) == Verdict.ALLOW              # the first of the window has aged out
    assert gate.check(1, now=30.0) == Verdict.ALLOW
    assert gate.check(3, now=60.0) == Verdict.ALLOW
    assert len(gate) == 1                                         # quiet chats are forgotten


def test_telegram_files_are_downloaded_once_and_the_cache_stays_bounded(fake):
    from bot.files import TelegramFiles

    a, b, c = (fake.host_file(bytes([i]) * 400) for i in range(3))

    async def fetch(bot):
        files = TelegramFiles(bot, capacity_bytes=1000)
        got = [await files.get(f) for f in (a, a, b, a, c, b)]  # c pushes out the least recently used: b
        return got, files.downloads

    got, downloads = call(fake, fetch)
    assert got == [bytes([0]) * 400] * 2 + [bytes([1]) * 400, bytes([0]) * 400, bytes([2]) * 400, bytes([1]) * 400]
    assert downloads == 4                          # a, b, c, then b again after it was evicted
    assert [c.params["file_id"] for c in fake.sent("getFile")].count(a) == 1


def test_the_waiting_line_counts_megapixels_not_jobs():
    """Issue #25: a 24 MP painting ahead counts as 24 one-megapixel ones; the pace is seconds per megapixel."""
    from bot.waiting_line import WaitingLine

    async def scenario():
        line = WaitingLine()
        line.record(24.0, megapixels=12.0)          # 2 s a megapixel
        await line.join(1, arrival=1.0, megapixels=24.0)
        await line.join(2, arrival=2.0, megapixels=0.5)
        await line.join(3, arrival=3.0, megapixels=0.5)
        assert line.megapixels_ahead(2) == 25.0     # the 24 MP job, then its own turn
        assert line.estimate(2, default=30) == 50
        assert line.estimate(3, default=30) == 55   # 24.5 MP ahead and its turn: 51 s, rounded up to 5 s
        await line.leave(1)
        assert line.estimate(1, default=30) == 5

    asyncio.run(scenario())


def test_a_job_knows_how_many_megapixels_it_paints():
    from bot.jobs.helpers import painted_megapixels
    from bot.state import Job

    def job(kind="preset", **options):
        return Job(1, 1, kind, "vangogh", "F", None, options, "queued")

    assert painted_megapixels(job(size="full", photo_size=[4032, 3024])) == pytest.approx(12.19, 0.01)
    assert painted_megapixels(job(size=768, photo_size=[4032, 3024])) == pytest.approx(768 * 576 / 1e6)
    assert painted_megapixels(job(size=768, photo_size=[640, 480])) == pytest.approx(0.3072)   # never enlarged
    assert painted_megapixels(job(size=768)) == pytest.approx(0.5898, 0.01)   # size unknown: a 1000 px square
    nst = job("nst", size=768, photo_size=[2000, 1000], own_style="both", nst={"size": 384}, fast={"size": 384})
    assert painted_megapixels(nst) == pytest.approx(384 * 192 / 1e6)


def test_a_photo_sent_as_a_file_is_painted_at_full_size_and_sent_back_as_a_file():
    from bot.handlers.launch import photo_options
    from bot.state import ChatState, ContentInfo

    as_file = ChatState(1, "F", content=ContentInfo(as_file=True, width=4000, height=3000))
    assert photo_options(as_file, "preset", {"size": 768}) == {"photo_size": [4000, 3000], "as_file": True,
                                                               "size": "full"}
    assert photo_options(as_file, "saved", {"size": 768})["size"] == "full"
    assert "size" not in photo_options(as_file, "all", {"size": 768})       # an album stays at the service's size
    quick = photo_options(as_file, "nst", {"own_style": "quick", "fast": {"size": 768, "strength": 1.0}, "nst": {}})
    assert quick["fast"] == {"size": "full", "strength": 1.0}
    both = photo_options(as_file, "nst", {"own_style": "both", "fast": {"size": 384}, "nst": {"size": 384}})
    assert "fast" not in both and both["nst"] == {"size": 384, "full_size": True}
    compressed = ChatState(1, "F", content=ContentInfo(as_file=False, width=1280, height=960))
    assert photo_options(compressed, "preset", {"size": 768}) == {"photo_size": [1280, 960]}
    assert photo_options(ChatState(1, "F"), "preset", {"size": 768}) == {}   # a chat from before: as it was


def test_the_waiting_line_keeps_arrival_order_and_estimates_from_recent_jobs():
    from bot.waiting_line import WaitingLine

    async def scenario():
        line = WaitingLine()
        await line.join(2, arrival=20.0)
        await line.join(1, arrival=10.0)           # arrived earlier: first, whoever joined first
        await line.join(3, arrival=30.0)
        assert [line.position(j) for j in (1, 2, 3)] == [1, 2, 3]
        await line.leave(1)                        # the first tries again; the others move up
        assert line.position(2) == 1 and 1 not in line
        await line.join(1, arrival=10.0)           # turned away again: it keeps its place
        assert line.position(1) == 1 and line.position(3) == 3
        assert line.estimate(2, default=30) == 60  # nothing measured yet: the service's suggested wait
        for seconds in (8.0, 12.0, 10.0):
            line.record(seconds)
        assert line.estimate(3, default=30) == 30  # three typical (10 s) jobs
        waiter = asyncio.create_task(line.wait_for_change(5))
        await asyncio.sleep(0)
        await line.leave(3)
        await asyncio.wait_for(waiter, 1)          # woken by the change, long before its timeout

    asyncio.run(scenario())


def test_an_update_taken_back_from_the_flood_gate_does_not_count():
    from bot.flood import FloodGate, Verdict

    gate = FloodGate(limit=2, window_s=10)
    assert gate.check(1, now=0.0) == Verdict.ALLOW
    gate.uncount(1)                                               # a duplicate, or not recorded by the store
    assert [gate.check(1, now=0.1 * t) for t in (1, 2, 3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]


class OneSeatService:
    """A stand-in for the styles app's NST capacity, as Serve gives it: one job paints, one more waits in Serve's
    queue, any other call is turned away (busy) at once. A job's stream yields its first event when it starts
    painting and ends when the test releases it."""

    def __init__(self):
        self.running: str | None = None
        self.queued: list[str] = []
        self.started: list[str] = []
        self.tries: list[str] = []
        self.released: dict[str, asyncio.Event] = {}

    def options(self, stream: bool):
        return self

    @property
    def nst(self):
        return self

    def remote(self, name: str):
        self.tries.append(name)
        if self.running is not None and len(self.queued) >= 1:
            return self._busy()
        self.released[name] = asyncio.Event()
        self.queued.append(name)
        return self._paint(name)

    async def _busy(self):
        raise type("BackPressureError", (Exception,), {})()
        yield  # an async generator, as the handle's stream is

    async def _paint(self, name: str):
        try:
            while self.running is not None or self.queued[0] != name:
                await asyncio.sleep(0.01)
            self.running = self.queued.pop(0)
            self.started.append(name)
            yield {"type": "progress", "step": 1, "total": 2}
            await self.released[name].wait()
            yield {"type": "result", "image": name.encode()}
        finally:
            if self.running == name:
                self.running = None
            elif name in self.queued:
                self.queued.remove(name)


def test_jobs_turned_away_start_in_arrival_order_the_first_keeping_its_place_until_its_painting_starts():
    """The first in line tries again; while its call waits in the app's own queue it stays first, so the second
    cannot overtake it (the e2e test's c and d, as a flake in CI showed)."""
    from bot.jobs.waiting_room import WaitingRoom
    from bot.state import Job
    from bot.styles_client import StylesClient

    class ShownTexts:
        def __init__(self):
            self.texts: dict[int, list[str]] = {}

        async def show(self, job, text):
            self.texts.setdefault(job.id, []).append(text)

    service, shown = OneSeatService(), ShownTexts()
    client = StylesClient(service)

    async def paint(name: str) -> None:
        async for event in client._stream("nst", name):
            if event["type"] == "result":
                return

    async def scenario():
        room = WaitingRoom(shown, poll_s=0.02)
        jobs = {name: Job(n, n, "nst", None, "F", "S", {}, "queued", created=float(n))
                for n, name in enumerate("abcd", 1)}
        tasks, line = {}, room.lines["nst"]

        async def until(condition):
            await asyncio.wait_for(_poll(condition), 5)

        async def _poll(condition):
            while not condition():
                await asyncio.sleep(0.01)

        for name in "abcd":   # a paints, b waits in the app's queue, c and d are turned away into the line
            tasks[name] = asyncio.create_task(room.take_turn(jobs[name], lambda name=name: paint(name)))
            await until(lambda: name in service.started + service.queued or jobs[name].id in line)
        assert service.started == ["a"] and service.queued == ["b"]
        assert [line.position(jobs[x].id) for x in "cd"] == [1, 2]
        service.released["a"].set()                      # b paints; c gets into the app's queue, d must not
        await until(lambda: service.queued == ["c"])
        await asyncio.sleep(0.2)                         # ten of d's polls: it stays behind c
        assert "d" not in service.tries and line.position(jobs["c"].id) == 1
        service.released["b"].set()                      # c paints: it leaves the line, d is first and queues
        await until(lambda: service.queued == ["d"])
        assert service.started == ["a", "b", "c"] and len(line) == 1
        places = [t.split(" in line")[0][-3:] for t in shown.texts[jobs["d"].id]]   # estimates change too
        assert list(dict.fromkeys(places)) == ["2nd", "1st"]
        tasks["d"].cancel()                              # /cancel: it leaves the line and the app's queue
        await asyncio.gather(tasks["d"], return_exceptions=True)
        assert len(line) == 0 and service.queued == []
        service.released["c"].set()
        await asyncio.wait_for(asyncio.gather(tasks["a"], tasks["b"], tasks["c"]), 5)

    asyncio.run(scenario())
