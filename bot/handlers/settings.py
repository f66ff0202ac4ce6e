"""Taps on the /settings and /language keyboards."""
from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery

from bot import texts
from bot.keyboards import LanguageChoice, SettingChoice, apply_setting, settings_keyboard
from bot.menus import show_menu_in_language
from bot.state import AsyncStore
from bot.texts import Texts

router = Router(name="settings")


@router.callback_query(SettingChoice.filter())
async def change(query: CallbackQuery, callback_data: SettingChoice, store: AsyncStore, tx: Texts) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    chat = await store.chat(chat_id)
    if not apply_setting(chat.settings, callback_data.key, callback_data.value):
        await query.answer(tx.OPTION_GONE, show_alert=True)
        return
    await store.save_chat(chat)
    await query.answer(tx.SAVED)
    if query.message:
        try:
            await query.message.edit_text(tx.settings_summary(chat.settings),
                                          reply_markup=settings_keyboard(chat.settings, tx))
        except TelegramBadRequest:  # "message is not modified" and similar: the setting is saved anyway
            pass


@router.callback_query(LanguageChoice.filter())
async def choose_language(query: CallbackQuery, callback_data: LanguageChoice, store: AsyncStore, tx: Texts,
                          studio_url: str | None) -> None:
    if callback_data.lang not in texts.LANGUAGES:
        await query.answer(tx.OPTION_GONE, show_alert=True)
        return
    chat = await store.chat(query.message.chat.id if query.message else query.from_user.id)
    chat.settings.language = callback_data.lang
    await store.save_chat(chat)
    chosen = texts.for_language(callback_data.lang)
    await query.answer(chosen.SAVED)
    await query.bot.send_message(chat.chat_id, chosen.LANGUAGE_SET)
    if query.message is None or query.message.chat.type == "private":
        await show_menu_in_language(query.bot, chat.chat_id, chosen, studio_url)
