"""/start, /help, /styles, /settings, /language, /studio, /cancel and the seed bots' /nst and /gan."""
from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import BufferedInputFile, Message

from bot.texts import Texts
from bot.handlers.launch import launch
from bot.handlers.my_styles import send_saved_styles
from bot.jobs import JobRunner
from bot.keyboards import language_keyboard, settings_keyboard, studio_keyboard
from bot.menus import show_menu_in_language
from bot.state import AsyncStore
from bot.styles_client import StylesClient, StylesError

logger = logging.getLogger(__name__)

router = Router(name="commands")


@router.message(CommandStart())
async def start(message: Message, store: AsyncStore, tx: Texts, studio_url: str | None) -> None:
    chat = await store.chat(message.chat.id)
    chat.awaiting = None
    await store.save_chat(chat)
    await message.answer(tx.start(message.from_user.first_name if message.from_user else None))
    if message.chat.type == "private":
        await show_menu_in_language(message.bot, message.chat.id, tx, studio_url)


@router.message(Command("help"))
async def help_(message: Message, tx: Texts) -> None:
    await message.answer(tx.HELP)


@router.message(Command("styles"))
async def styles_(message: Message, store: AsyncStore, styles: StylesClient, tx: Texts) -> None:
    catalogue = await styles.catalogue()
    if any(s.get("available") for s in catalogue):
        try:
            sheet = await styles.styles_sheet()
        except StylesError as e:  # busy: the list alone still answers the question
            logger.info("no styles sheet for /styles: %s", e.code)
        else:
            await message.answer_photo(BufferedInputFile(sheet, "styles.jpg"), caption=tx.STYLES_SHEET)
    await message.answer(tx.styles_list(catalogue))
    await send_saved_styles(message, store, styles, tx)


@router.message(Command("settings"))
async def settings_(message: Message, store: AsyncStore, tx: Texts) -> None:
    chat = await store.chat(message.chat.id)
    await message.answer(tx.settings_summary(chat.settings), reply_markup=settings_keyboard(chat.settings, tx))


@router.message(Command("language"))
async def language(message: Message, tx: Texts) -> None:
    await message.answer(tx.CHOOSE_LANGUAGE, reply_markup=language_keyboard())


@router.message(Command("studio"))
async def studio(message: Message, tx: Texts, studio_url: str | None) -> None:
    """The studio opens as a Mini App, which Telegram offers in a private chat only."""
    if studio_url is None or message.chat.type != "private":
        await message.answer(tx.STUDIO_UNAVAILABLE)
        return
    await message.answer(tx.STUDIO_INTRO, reply_markup=studio_keyboard(studio_url, tx))


@router.message(Command("cancel"))
async def cancel(message: Message, store: AsyncStore, runner: JobRunner, tx: Texts) -> None:
    chat = await store.chat(message.chat.id)
    was_waiting = chat.awaiting is not None
    if was_waiting:
        chat.awaiting = None
        await store.save_chat(chat)
    job = await runner.cancel(message.chat.id, tx)
    await message.answer(tx.CANCELLED if job or was_waiting else tx.NOTHING_TO_CANCEL)


@router.message(Command("nst"))
async def nst(message: Message, store: AsyncStore, runner: JobRunner, styles: StylesClient, tx: Texts) -> None:
    refusal = await launch(await store.chat(message.chat.id), "nst", store, runner, styles, tx)
    if refusal:
        await message.answer(refusal)


@router.message(Command("gan"))
async def gan(message: Message, store: AsyncStore, runner: JobRunner, styles: StylesClient, tx: Texts) -> None:
    refusal = await launch(await store.chat(message.chat.id), "all", store, runner, styles, tx)
    if refusal:
        await message.answer(refusal)
