"""The bot's menus in Telegram's interface (bot/menus.py), set through real aiogram against the fake Bot API, which
checks them as Telegram does (command names and description lengths, an https Mini App URL)."""
import asyncio
import logging
import re

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot import texts
from bot.menus import publish_menus, show_menu_in_language
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAMenuTestTokenValue_abcdefghijklmnop"
STUDIO = "https://bot.example.org/"


@pytest.fixture()
def fake():
    f = FakeTelegram(TOKEN).start(free_port())
    yield f
    f.stop()


def with_bot(fake, action):
    async def run():
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
        try:
            await action(Bot(TOKEN, session=session))
        finally:
            await session.close()
    asyncio.run(run())


def test_commands_in_both_languages_and_the_studio_one_tap_away(fake):
    with_bot(fake, lambda bot: publish_menus(bot, STUDIO))
    names = ["styles", "settings", "studio", "language", "cancel", "help"]
    assert [c["command"] for c in fake.commands[""]] == [c["command"] for c in fake.commands["ru"]] == names
    assert all(re.search(r"[а-яА-Я]", c["description"]) for c in fake.commands["ru"])
    assert all(f"/{name}" in texts.HELP for name in names[:-1])  # the menu offers what /help explains
    assert fake.menu_buttons[""] == {"type": "web_app", "text": "Studio", "web_app": {"url": STUDIO}}


def test_without_a_studio_the_menu_lists_the_commands_and_offers_no_studio(fake):
    with_bot(fake, lambda bot: publish_menus(bot, None))
    assert "studio" not in [c["command"] for c in fake.commands[""] + fake.commands["ru"]]
    assert fake.menu_buttons[""] == {"type": "commands"}


def test_a_russian_chat_gets_the_studio_button_in_russian_and_others_the_default(fake):
    ru, en = texts.for_language("ru"), texts.for_language("en")
    for chat_id, tx, studio in ((77, ru, STUDIO), (78, ru, None), (79, en, STUDIO)):
        with_bot(fake, lambda bot: show_menu_in_language(bot, chat_id, tx, studio))
    default = {"type": "default"}   # the bot's default button: the studio in English, or the command list
    assert fake.menu_buttons == {"77": {"type": "web_app", "text": "Студия", "web_app": {"url": STUDIO}},
                                 "78": default, "79": default}


def test_a_bot_api_that_refuses_one_menu_is_logged_and_the_others_are_set(fake, caplog):
    fake.fail("setMyCommands", 400)
    fake.fail("setChatMenuButton", 502, chat_id=80)
    with caplog.at_level(logging.INFO, logger="ray.serve.stylebot"):
        with_bot(fake, lambda bot: publish_menus(bot, STUDIO))
        with_bot(fake, lambda bot: show_menu_in_language(bot, 80, texts.for_language("ru"), STUDIO))
    assert list(fake.commands) == ["ru"] and list(fake.menu_buttons) == [""]
    assert [r.getMessage() for r in caplog.records] == [
        "the en commands not set (TelegramBadRequest): the commands still work",
        "a chat's menu button not set (TelegramServerError): the commands still work"]
    assert TOKEN not in caplog.text
