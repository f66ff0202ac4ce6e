"""Everything else gets a short answer saying what to send instead."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.texts import Texts
from bot.state import AsyncStore

router = Router(name="fallbacks")


@router.message(F.sticker)
async def sticker(message: Message, tx: Texts) -> None:
    await message.answer(tx.STICKER)


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, tx: Texts) -> None:
    await message.answer(tx.UNKNOWN_COMMAND)


@router.message(F.text)
async def text(message: Message, store: AsyncStore, tx: Texts) -> None:
    waiting_for_style = (await store.chat(message.chat.id)).awaiting == "style"
    await message.answer(tx.TEXT_WHEN_STYLE_EXPECTED if waiting_for_style else tx.TEXT_WHEN_IMAGE_EXPECTED)


@router.message()
async def anything_else(message: Message, tx: Texts) -> None:
    await message.answer(tx.NOT_AN_IMAGE)


@router.callback_query()
async def stale_button(query: CallbackQuery, tx: Texts) -> None:
    await query.answer(tx.OLD_BUTTON, show_alert=True)
