"""Everything else gets a short answer saying what to send instead."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.state import StateStore

router = Router(name="fallbacks")


@router.message(F.sticker)
async def sticker(message: Message) -> None:
    await message.answer(texts.STICKER)


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer("I don't know that command. /help lists what I can do.")


@router.message(F.text)
async def text(message: Message, store: StateStore) -> None:
    waiting_for_style = store.chat(message.chat.id).awaiting == "style"
    await message.answer(texts.TEXT_WHEN_STYLE_EXPECTED if waiting_for_style else texts.TEXT_WHEN_IMAGE_EXPECTED)


@router.message()
async def anything_else(message: Message) -> None:
    await message.answer(texts.NOT_AN_IMAGE)


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(texts.OLD_BUTTON, show_alert=True)
