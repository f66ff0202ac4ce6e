"""The bot without Serve: aiogram Bot + Dispatcher, the state store, the job runner, and update intake
(deduplicated by update_id, recorded before it is handled so a restart re-handles what was cut off)."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import Update

from bot.config import BotSettings, sqlite_path
from bot.handlers import all_routers
from bot.jobs import JobRunner
from bot.state import StateStore
from bot.styles_client import StylesClient
from bot.telegram_retry import RetryMiddleware

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log
POLL_TIMEOUT_S = 25


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    dp.include_routers(*all_routers())
    return dp


def update_chat_id(payload: dict) -> int | None:
    for key in ("message", "edited_message", "callback_query"):
        part = payload.get(key)
        if isinstance(part, dict):
            chat = (part.get("message") or {}).get("chat") if key == "callback_query" else part.get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return chat["id"]
            if key == "callback_query" and isinstance(part.get("from"), dict):
                return part["from"].get("id")
    return None


class BotApp:
    def __init__(self, settings: BotSettings, styles: StylesClient, session: AiohttpSession | None = None):
        self.settings = settings
        session = session or AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
        session.middleware(RetryMiddleware())
        self.bot = Bot(settings.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        self.dp = build_dispatcher()
        self.store = StateStore(sqlite_path(settings.state_url))
        caps = {"size": settings.nst_max_size, "steps": settings.nst_max_steps}
        self.runner = JobRunner(self.bot, self.store, styles, nst_caps={k: v for k, v in caps.items() if v})
        self.styles = styles
        self.dp["store"], self.dp["runner"], self.dp["styles"] = self.store, self.runner, styles
        self.chat_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.background: set[asyncio.Task] = set()
        self.polling: asyncio.Task | None = None

    @property
    def update_types(self) -> list[str]:
        return self.dp.resolve_used_update_types()

    async def start(self) -> None:
        """Re-handle updates cut off by a restart, resume jobs, and connect to Telegram in the background: an
        unreachable Bot API must not keep the replica (and `serve run`) from coming up."""
        for payload in self.store.pending_updates():
            self._spawn(self._handle(payload))
        await self.runner.resume_all()
        self._spawn(self._connect())

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
        if not isinstance(update_id, int):
            raise ValueError("an Update needs an integer update_id")
        if not self.store.claim_update(update_id, payload):
            logger.info("update %d seen before; ignored", update_id)
            return False
        self._spawn(self._handle(payload))
        return True

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _handle(self, payload: dict) -> None:
        """Updates of one chat are handled in order; different chats run concurrently."""
        update_id = payload["update_id"]
        async with self.chat_locks[update_chat_id(payload) or 0]:
            try:
                update = Update.model_validate(payload, context={"bot": self.bot})
                await self.dp.feed_update(self.bot, update)
            except TelegramForbiddenError:
                chat_id = update_chat_id(payload)
                if chat_id is not None:
                    self.store.close_chat_jobs(chat_id, "the person blocked the bot")
            except TelegramAPIError as e:
                logger.warning("update %d: Telegram refused a reply: %s", update_id, type(e).__name__)
            except Exception:
                logger.exception("update %d failed", update_id)
            finally:
                self.store.finish_update(update_id)

    async def _poll(self) -> None:
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
