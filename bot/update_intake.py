"""Update intake: each Update recorded by its update_id before it is handled (a duplicate stops there; a restart
re-handles what was cut off), then handled per chat, oldest first, under the chat's lease; a chat past the flood
limit is told to slow down instead. How updates reach `accept` (webhook or polling) is bot/telegram_link.py's."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import Update

from bot.flood import FloodGate, Verdict
from bot.handlers.launch import JobNotRecorded, forget_unrecorded
from bot.leases import holding
from bot.replies import Replies
from bot.state import AsyncStore, StoreUnavailable

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log
NO_CHAT = 0  # updates without a chat (none the bot asks for; a hostile body) queue as one pseudo-chat
CLAIM_TIMEOUT_S = 1.0  # the webhook answers within 2 s: 200 with the update recorded, else 503 (Telegram resends)


def update_chat_id(payload: dict) -> int | None:
    """The chat an Update belongs to, or None; whatever shape a hostile body has."""
    def as_id(value) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    for key in ("message", "edited_message", "channel_post", "callback_query"):
        part = payload.get(key)
        if not isinstance(part, dict):
            continue
        holder = part.get("message") if key == "callback_query" else part
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict) and as_id(chat.get("id")) is not None:
            return chat["id"]
        sender = part.get("from")
        if key == "callback_query" and isinstance(sender, dict):
            return as_id(sender.get("id"))
    return None


class ChatLocks:
    """One lock per chat, so a chat's updates are handled in order; a lock lives only while some update of its
    chat holds or waits for it, so the map does not grow with every chat ever seen."""

    def __init__(self):
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int):
        lock, users = self._locks.get(chat_id, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users == 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


class UpdateIntake:
    def __init__(self, bot: Bot, dp: Dispatcher, store: AsyncStore, owner: str, lease_s: float,
                 spawn: Callable[[Coroutine], None]):
        self.bot, self.dp, self.store = bot, dp, store
        self.owner, self.lease_s = owner, lease_s
        self._spawn = spawn   # the app's background tasks: cancelled when it stops
        self.replies = Replies(bot, store)
        self.chat_locks = ChatLocks()
        self.flood = FloodGate()

    async def accept(self, payload: dict) -> bool:
        """Take one Update (webhook or polling): False for a duplicate; handling goes on in the background.
        StoreUnavailable when it could not be recorded within CLAIM_TIMEOUT_S: the caller has Telegram send it
        again (a claim that timed out may still be written: the resend is a duplicate, its update waits in the
        store, and the chat's pending updates are handled here)."""
        if not isinstance(payload, dict):
            raise ValueError("an Update is a JSON object")
        update_id = payload.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**62:
            raise ValueError("an Update needs an integer update_id")
        chat_id = update_chat_id(payload)
        queue = NO_CHAT if chat_id is None else chat_id
        verdict = self.flood.check(chat_id) if chat_id is not None else Verdict.ALLOW
        allowed, claimed = verdict is Verdict.ALLOW, False
        try:   # an update past the flood limit is recorded outside its chat's queue: it is never handled
            claimed = await self.store.claim_update(update_id, payload, queue if allowed else None,
                                                    timeout_s=CLAIM_TIMEOUT_S)
        except StoreUnavailable as e:
            if not allowed and e.late is not None:
                self._spawn(self._finish_late_claim(e.late, update_id))
            raise
        finally:
            if allowed and not claimed and chat_id is not None:
                self.flood.uncount(chat_id)
        if not claimed:
            logger.info("update %d seen before; ignored", update_id)
            self._spawn(self._drain(queue))   # nothing to do unless its claim timed out and was written late
            return False
        self._spawn(self._drain(queue) if allowed else self._refuse_flood(payload, chat_id, verdict is Verdict.WARN))
        return True

    async def take_over(self) -> None:
        """Handle claimed updates nobody finished (their replica died, or a claim that timed out was written
        late): by chat, under each chat's lease, so a live replica still working on a chat is left alone."""
        chats = {update_chat_id(payload) for payload in await self.store.pending_updates()}
        for chat_id in chats:
            self._spawn(self._drain(NO_CHAT if chat_id is None else chat_id))

    async def _finish_late_claim(self, late: Future, update_id: int) -> None:
        """A refused update's claim that timed out but ran on: should it land, the update is marked handled."""
        with contextlib.suppress(Exception):
            if await asyncio.wrap_future(late):
                await self.store.patient.finish_update(update_id)

    async def _refuse_flood(self, payload: dict, chat_id: int, warn: bool) -> None:
        try:
            await self.replies.flood(payload, chat_id, warn)
        finally:
            await self.store.patient.finish_update(payload["update_id"])

    async def _drain(self, chat_id: int) -> None:
        """Handle the chat's pending updates oldest first, holding the chat's lease: with several replicas a
        chat's updates may arrive at any of them, and only the lease holder handles them, in order. A replica
        that finds the lease taken waits until the holder has handled every pending update of the chat
        (including the one this replica received) or has died and its lease expired. While the state store does
        not answer, the chat's updates (recorded in it) wait for it."""
        async with self.chat_locks.hold(chat_id):  # one drainer per chat in this replica
            handled: set[int] = set()
            pause_s = 0.5
            while True:
                try:
                    if await self._drain_round(chat_id, handled):
                        return
                except StoreUnavailable as e:
                    logger.warning("a chat's updates wait for the state store: %s", e)
                    await asyncio.sleep(pause_s)
                    pause_s = min(pause_s * 2, 5.0)

    async def _drain_round(self, chat_id: int, handled: set[int]) -> bool:
        """Handle what is pending while this replica holds the chat's lease; True when nothing is left."""
        async with holding(self.store, f"chat:{chat_id}", self.owner, self.lease_s) as held:
            while held and (payload := await self.store.next_pending_update(chat_id)) is not None:
                if payload["update_id"] in handled:  # finishing it failed (store unreachable): later
                    logger.warning("update %d could not be marked handled", payload["update_id"])
                    return True
                handled.add(payload["update_id"])
                await self._handle(payload)
        if await self.store.next_pending_update(chat_id) is None:
            return True
        await asyncio.sleep(0.1 if not held else 0)
        return False

    async def _handle(self, payload: dict) -> None:
        """One update, then marked handled whatever happened (waiting for the state store if need be: an update
        handled is not handled again). When the store fails the handler, the person is told it was not taken."""
        update_id, chat_id = payload["update_id"], update_chat_id(payload)
        try:
            update = Update.model_validate(payload, context={"bot": self.bot})
            await self.dp.feed_update(self.bot, update)
        except StoreUnavailable as e:
            logger.warning("update %d: %s", update_id, e)
            if isinstance(e, JobNotRecorded):
                self._spawn(forget_unrecorded(self.store, e))
            await self.replies.store_unavailable(payload, chat_id)
        except TelegramForbiddenError:
            if chat_id is not None:
                await self.store.patient.close_chat_jobs(chat_id, "the person blocked the bot")
        except TelegramAPIError as e:
            logger.warning("update %d: Telegram refused a reply: %s", update_id, type(e).__name__)
            await self.replies.tap_failed(payload, chat_id)
        except Exception:
            logger.exception("update %d failed", update_id)
            await self.replies.tap_failed(payload, chat_id)
        finally:
            await self.store.patient.finish_update(update_id)
