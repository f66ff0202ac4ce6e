"""Taps on the /settings keyboard."""
from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery

from bot import texts
from bot.keyboards import SettingChoice, apply_setting, settings_keyboard
from bot.state import StateStore

router = Router(name="settings")


@router.callback_query(SettingChoice.filter())
async def change(query: CallbackQuery, callback_data: SettingChoice, store: StateStore) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    chat = store.chat(chat_id)
    if not apply_setting(chat.settings, callback_data.key, callback_data.value):
        await query.answer("That option no longer exists: send /settings again.", show_alert=True)
        return
    store.save_chat(chat)
    await query.answer("Saved")
    if query.message:
        try:
            await query.message.edit_text(texts.settings_summary(chat.settings),
                                          reply_markup=settings_keyboard(chat.settings))
        except TelegramBadRequest:  # "message is not modified" and similar: the setting is saved anyway
            pass
