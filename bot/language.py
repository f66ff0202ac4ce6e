"""Which language to answer in: an aiogram middleware that puts the person's `Texts` in the handler data as
`tx` (their /language choice, else their Telegram app's language_code)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot import texts
from bot.state import AsyncStore, StoreUnavailable


async def texts_for(store: AsyncStore | None, chat_id: int | None, telegram_code: str | None) -> texts.Texts:
    """The chat's /language choice, else Telegram's language_code (also while the store does not answer, or
    without asking it: `store` None)."""
    chosen = None
    if store is not None and chat_id is not None:
        try:
            chosen = (await store.chat(chat_id)).settings.language
        except StoreUnavailable:
            pass
    return texts.for_language(texts.pick_language(chosen, telegram_code))


class LanguageMiddleware(BaseMiddleware):
    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user, chat = data.get("event_from_user"), data.get("event_chat")
        chat_id = chat.id if chat is not None else (user.id if user is not None else None)
        data["tx"] = await texts_for(data["store"], chat_id, user.language_code if user is not None else None)
        return await handler(event, data)
