"""The bot's menus in Telegram's own interface: the command list behind "/" (English by default, Russian for people
whose Telegram app speaks Russian) and, when the studio is reachable, the menu button beside the message field that
opens it as a Mini App. They are conveniences: a Bot API that refuses them is logged and the bot carries on."""
from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, MenuButtonCommands, MenuButtonDefault, MenuButtonWebApp, WebAppInfo

from bot import texts

logger = logging.getLogger("ray.serve.stylebot")
COMMANDS = ("styles", "settings", "studio", "language", "cancel", "help")


def command_list(tx: texts.Texts, studio: bool) -> list[BotCommand]:
    return [BotCommand(command=c, description=tx.COMMAND_DESCRIPTIONS[c])
            for c in COMMANDS if studio or c != "studio"]


def menu_button(tx: texts.Texts, studio_url: str | None) -> MenuButtonWebApp | MenuButtonCommands:
    """The studio where there is one; else Telegram's own list of commands (which also takes back a studio
    button an earlier deployment set)."""
    if studio_url is None:
        return MenuButtonCommands()
    return MenuButtonWebApp(text=tx.MENU_STUDIO, web_app=WebAppInfo(url=studio_url))


async def publish_menus(bot: Bot, studio_url: str | None) -> None:
    """The commands in each language, and the default menu button (in English: Telegram shows it in every chat
    that has no button of its own; `show_menu_in_language` gives a Russian chat its own)."""
    for lang in texts.LANGUAGES:
        await _try(bot.set_my_commands(command_list(texts.for_language(lang), studio_url is not None),
                                       language_code=None if lang == "en" else lang), f"the {lang} commands")
    await _try(bot.set_chat_menu_button(menu_button=menu_button(texts.for_language("en"), studio_url)),
               "the menu button")


async def show_menu_in_language(bot: Bot, chat_id: int, tx: texts.Texts, studio_url: str | None) -> None:
    """A private chat's menu button: its own, labelled in its language, where that is not the default's English;
    else the default again (which also takes back a button an earlier studio address or language left)."""
    own = studio_url is not None and tx.lang != "en"
    await _try(bot.set_chat_menu_button(chat_id=chat_id, menu_button=menu_button(tx, studio_url) if own
                                        else MenuButtonDefault()), "a chat's menu button")


async def _try(call, what: str) -> None:
    try:
        await call
    except (TelegramAPIError, OSError) as e:
        logger.warning("%s not set (%s): the commands still work", what, type(e).__name__)
