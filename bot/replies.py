"""What the bot says to an update outside aiogram's handlers: a flood refusal, the answer to a tap whose handler
failed, and the news that the state store did not answer while the update was handled (bot/update_intake.py)."""
from __future__ import annotations

import logging

from aiogram import Bot

from bot import texts
from bot.language import texts_for
from bot.state import AsyncStore

logger = logging.getLogger("ray.serve.stylebot")


def tap_id(payload: dict) -> str | None:
    """The callback query id of a tap, None for any other update."""
    query = payload.get("callback_query")
    return query["id"] if isinstance(query, dict) and isinstance(query.get("id"), str) else None


class Replies:
    def __init__(self, bot: Bot, store: AsyncStore):
        self.bot, self.store = bot, store

    async def texts(self, payload: dict, chat_id: int | None, ask_store: bool = True) -> texts.Texts:
        """The person's language: their /language choice (unless the store is not to be asked), else their
        Telegram app's."""
        part = next((payload[k] for k in ("message", "callback_query") if isinstance(payload.get(k), dict)), {})
        sender = part.get("from") if isinstance(part.get("from"), dict) else {}
        code = sender.get("language_code")
        return await texts_for(self.store if ask_store else None, chat_id, code if isinstance(code, str) else None)

    async def flood(self, payload: dict, chat_id: int, warn: bool) -> None:
        """An update past the chat's flood limit is not handled: one "slow down" per window; taps answered."""
        try:
            tx = await self.texts(payload, chat_id)
            if tap_id(payload):
                await self.bot.answer_callback_query(tap_id(payload), text=tx.SLOW_DOWN)
            elif warn:
                await self.bot.send_message(chat_id, tx.SLOW_DOWN)
        except Exception as e:  # noqa: BLE001 - a refusal that cannot be sent changes nothing
            logger.info("flood refusal not sent: %s", type(e).__name__)

    async def tap_failed(self, payload: dict, chat_id: int | None) -> None:
        """A tap whose handler failed still gets an answer: otherwise the person's button keeps spinning."""
        if not tap_id(payload):
            return
        try:
            tx = await self.texts(payload, chat_id)
            await self.bot.answer_callback_query(tap_id(payload), text=tx.TAP_FAILED, show_alert=True)
        except Exception as e:  # noqa: BLE001 - answered already, or too late: nothing more to do
            logger.info("could not answer a failed tap: %s", type(e).__name__)

    async def store_unavailable(self, payload: dict, chat_id: int | None) -> None:
        """The state store did not answer while the update was handled, so what the person asked for (a job, a
        setting, a photo to paint) was not recorded: they are told to try again, in their Telegram app's language
        (their /language choice is in the store)."""
        try:
            tx = await self.texts(payload, chat_id, ask_store=False)
            if tap_id(payload):
                await self.bot.answer_callback_query(tap_id(payload), text=tx.NOT_RECORDED, show_alert=True)
            elif chat_id:
                await self.bot.send_message(chat_id, tx.NOT_RECORDED)
        except Exception as e:  # noqa: BLE001 - a tap answered already, or Telegram unreachable too
            logger.info("could not say the state store failed: %s", type(e).__name__)
