"""The bot's menus in Telegram's own interface: the command list behind "/" (English by default, Russian for people
whose Telegram app speaks Russian) and, when the studio is reachable, the menu button beside the message field that
opens it as a Mini App. They are conveniences: a Bot API that refuses them is logged and the bot carries on."""
from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, MenuButtonCommands, MenuButtonWebApp, WebAppInfo

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
    """The commands in each language, and the default menu button (in English: Telegram keeps one for every chat
    that has none of its own; `show_menu_in_language` gives a chat its own)."""
    try:
        for lang in texts.LANGUAGES:
            await bot.set_my_commands(command_list(texts.for_language(lang), studio_url is not None),
                                      language_code=None if lang == "en" else lang)
        await bot.set_chat_menu_button(menu_button=menu_button(texts.for_language("en"), studio_url))
    except (TelegramAPIError, OSError) as e:
        logger.warning("the bot's menus were not set (%s): the commands still work", type(e).__name__)


async def show_menu_in_language(bot: Bot, chat_id: int, tx: texts.Texts, studio_url: str | None) -> None:
    """A private chat's own menu button, labelled in its language (only a studio button has words)."""
    if studio_url is None:
        return
    try:
        await bot.set_chat_menu_button(chat_id=chat_id, menu_button=menu_button(tx, studio_url))
    except (TelegramAPIError, OSError) as e:
        logger.info("chat menu button not set (%s)", type(e).__name__)
