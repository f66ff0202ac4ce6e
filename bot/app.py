"""The bot without Serve: aiogram Bot + Dispatcher, the state store, the job runner, and update intake
(deduplicated by update_id, recorded before it is handled so a restart re-handles what was cut off)."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import Update

from bot import metrics, texts
from bot.config import BotSettings
from bot.flood import FloodGate, Verdict
from bot.handlers import all_routers
from bot.jobs import JobRunner
from bot.language import LanguageMiddleware, texts_for
from bot.leases import holding, replica_name
from bot.state import open_store
from bot.styles_client import StylesClient
from bot.telegram_retry import RetryMiddleware

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log
POLL_TIMEOUT_S = 25
NO_CHAT = 0  # updates without a chat (none the bot asks for; a hostile body) queue as one pseudo-chat


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    language = LanguageMiddleware()
    dp.message.outer_middleware(language)
    dp.callback_query.outer_middleware(language)
    dp.include_routers(*all_routers())
    return dp


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


class BotApp:
    def __init__(self, settings: BotSettings, styles: StylesClient, session: AiohttpSession | None = None):
        self.settings = settings
        session = session or AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
        session.middleware(RetryMiddleware())
        self.bot = Bot(settings.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        self.dp = build_dispatcher()
        self.store = open_store(settings.state_url)
        self.owner = replica_name()
        caps = {"size": settings.nst_max_size, "steps": settings.nst_max_steps}
        self.runner = JobRunner(self.bot, self.store, styles, nst_caps={k: v for k, v in caps.items() if v},
                                owner=self.owner, lease_s=settings.lease_s, preview_every_s=settings.nst_preview_s,
                                queue_poll_s=settings.queue_poll_s)
        self.styles = styles
        self.dp["store"], self.dp["runner"], self.dp["styles"] = self.store, self.runner, styles
        self.dp["files"] = self.runner.files
        self.chat_locks = ChatLocks()
        self.flood = FloodGate()
        self.background: set[asyncio.Task] = set()
        self.polling: asyncio.Task | None = None

    @property
    def update_types(self) -> list[str]:
        return self.dp.resolve_used_update_types()

    async def start(self) -> None:
        """Re-handle updates cut off by a restart, take over jobs no live replica holds, and connect to Telegram
        in the background: an unreachable Bot API must not keep the replica (and `serve run`) from coming up."""
        self._take_over_updates()
        await self.runner.adopt_orphans()
        self._spawn(self._connect())
        self._spawn(self._housekeeping())
        self._spawn(self._watch_other_replicas())

    def _take_over_updates(self) -> None:
        """Handle claimed updates nobody finished (their replica died): by chat, under each chat's lease, so a
        live replica still working on a chat is left alone."""
        chats = {update_chat_id(payload) for payload in self.store.pending_updates()}
        for chat_id in chats:
            self._spawn(self._drain(NO_CHAT if chat_id is None else chat_id))

    async def _watch_other_replicas(self) -> None:
        """Every third of a lease: jobs and updates a dead replica left behind are taken over once its leases
        expire, and this replica's jobs cancelled elsewhere (/cancel on another replica) stop here."""
        while True:
            await asyncio.sleep(self.settings.lease_s / 3)
            try:
                metrics.jobs_in_flight.set(len(self.runner.tasks))  # a gauge goes stale unless set again
                await self.runner.keep_jobs()
                await self.runner.adopt_orphans()
                self._take_over_updates()
            except Exception as e:  # noqa: BLE001 - the store may be briefly unreachable; try again next round
                logger.warning("taking over from other replicas failed: %s", type(e).__name__)

    async def _housekeeping(self, every_s: float = 3600.0) -> None:
        """Forget old handled updates and finished jobs, so the state store does not grow without end."""
        while True:
            updates, jobs = self.store.prune()
            if updates or jobs:
                logger.info("state store: forgot %d handled updates and %d finished jobs", updates, jobs)
            await asyncio.sleep(every_s)

    async def _connect(self, max_delay: float = 60.0) -> None:
        delay = 1.0
        while True:
            try:
                me = await self.bot.get_me()
                if self.settings.mode == "webhook":
                    await self.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_secret,
                                               allowed_updates=self.update_types)
                    logger.info("bot @%s: webhook set to %s", me.username, self.settings.webhook_url)
                else:
                    await self.bot.delete_webhook(drop_pending_updates=False)
                    self.polling = asyncio.create_task(self._poll(), name="telegram-polling")
                    logger.info("bot @%s: polling for updates", me.username)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                logger.warning("cannot reach the Telegram Bot API (%s); retrying in %.0f s", type(e).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(max_delay, delay * 2)

    async def stop(self) -> None:
        if self.polling:
            self.polling.cancel()
        await self.runner.shutdown()
        for t in list(self.background):
            t.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.bot.session.close()
        self.store.close()

    def accept(self, payload: dict) -> bool:
        """Take one Update (webhook or polling): False for a duplicate; handling goes on in the background."""
        if not isinstance(payload, dict):
            raise ValueError("an Update is a JSON object")
        update_id = payload.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**62:
            raise ValueError("an Update needs an integer update_id")
        chat_id = update_chat_id(payload)
        if not self.store.claim_update(update_id, payload, NO_CHAT if chat_id is None else chat_id):
            logger.info("update %d seen before; ignored", update_id)
            return False
        verdict = self.flood.check(chat_id) if chat_id is not None else Verdict.ALLOW
        if verdict is Verdict.ALLOW:
            self._spawn(self._drain(NO_CHAT if chat_id is None else chat_id))
        else:
            self._spawn(self._refuse_flood(payload, chat_id, warn=verdict is Verdict.WARN))
        return True

    async def _refuse_flood(self, payload: dict, chat_id: int, warn: bool) -> None:
        """An update past the chat's flood limit: not handled; one "slow down" per window, taps answered."""
        try:
            query = payload.get("callback_query")
            tx = self._texts(payload, chat_id)
            if isinstance(query, dict) and isinstance(query.get("id"), str):
                await self.bot.answer_callback_query(query["id"], text=tx.SLOW_DOWN)
            elif warn:
                await self.bot.send_message(chat_id, tx.SLOW_DOWN)
        except Exception as e:  # noqa: BLE001 - a refusal that cannot be sent changes nothing
            logger.info("flood refusal not sent: %s", type(e).__name__)
        finally:
            self.store.finish_update(payload["update_id"])

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _drain(self, chat_id: int) -> None:
        """Handle the chat's pending updates oldest first, holding the chat's lease: with several replicas a
        chat's updates may arrive at any of them, and only the lease holder handles them, in order. A replica
        that finds the lease taken waits until the holder has handled every pending update of the chat
        (including the one this replica received) or has died and its lease expired."""
        async with self.chat_locks.hold(chat_id):  # one drainer per chat in this replica
            handled: set[int] = set()
            while True:
                async with holding(self.store, f"chat:{chat_id}", self.owner, self.settings.lease_s) as held:
                    while held and (payload := self.store.next_pending_update(chat_id)) is not None:
                        if payload["update_id"] in handled:  # finishing it failed (store unreachable): later
                            logger.warning("update %d could not be marked handled", payload["update_id"])
                            return
                        handled.add(payload["update_id"])
                        await self._handle(payload)
                if self.store.next_pending_update(chat_id) is None:
                    return
                await asyncio.sleep(0.1 if not held else 0)

    async def _handle(self, payload: dict) -> None:
        """One update, then marked handled whatever happened."""
        update_id = payload["update_id"]
        try:
            update = Update.model_validate(payload, context={"bot": self.bot})
            await self.dp.feed_update(self.bot, update)
        except TelegramForbiddenError:
            chat_id = update_chat_id(payload)
            if chat_id is not None:
                self.store.close_chat_jobs(chat_id, "the person blocked the bot")
        except TelegramAPIError as e:
            logger.warning("update %d: Telegram refused a reply: %s", update_id, type(e).__name__)
            await self._answer_tap(payload)
        except Exception:
            logger.exception("update %d failed", update_id)
            await self._answer_tap(payload)
        finally:
            self.store.finish_update(update_id)

    def _texts(self, payload: dict, chat_id: int | None) -> texts.Texts:
        """The language of an update handled outside aiogram (flood refusals, failed taps)."""
        part = next((payload[k] for k in ("message", "callback_query") if isinstance(payload.get(k), dict)), {})
        sender = part.get("from") if isinstance(part.get("from"), dict) else {}
        code = sender.get("language_code")
        try:
            return texts_for(self.store, chat_id, code if isinstance(code, str) else None)
        except Exception:  # noqa: BLE001 - the store is unreachable: English still answers
            return texts.for_language(None)

    async def _answer_tap(self, payload: dict) -> None:
        """A tap whose handler failed still gets an answer: otherwise the person's button keeps spinning."""
        query = payload.get("callback_query")
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return
        try:
            tx = self._texts(payload, update_chat_id(payload))
            await self.bot.answer_callback_query(query["id"], text=tx.TAP_FAILED, show_alert=True)
        except Exception as e:  # noqa: BLE001 - answered already, or too late: nothing more to do
            logger.info("could not answer a failed tap: %s", type(e).__name__)

    async def _poll(self) -> None:
        """Long-poll Telegram. Telegram allows one getUpdates at a time, so with several replicas only the holder
        of the "poller" lease polls; the others stand by and take over once a dead poller's lease expires."""
        while True:
            async with holding(self.store, "poller", self.owner, POLL_TIMEOUT_S + 15) as held:
                if held:
                    await self._poll_updates()
            await asyncio.sleep(5)

    async def _poll_updates(self) -> None:
        offset = (self.store.last_update_id() or -1) + 1 or None
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=POLL_TIMEOUT_S,
                                                     allowed_updates=self.update_types,
                                                     request_timeout=POLL_TIMEOUT_S + 10)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                logger.warning("getUpdates failed (%s); retrying in 5 s", type(e).__name__)
                await asyncio.sleep(5)
                continue
            for u in updates:
                offset = u.update_id + 1
                self.accept(u.model_dump(mode="json", exclude_none=True))
