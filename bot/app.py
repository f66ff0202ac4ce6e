"""The bot without Serve: the connection to Telegram (session, Bot, Dispatcher), the state store, the job
runner, the update intake (bot/update_intake.py), and the replica's background work: taking over from dead
replicas, pruning the store."""
from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot import metrics
from bot.config import BotSettings
from bot.flood import FloodGate
from bot.handlers import all_routers
from bot.jobs import JobRunner
from bot.language import LanguageMiddleware
from bot.leases import replica_name
from bot.state import AsyncStore, StoreUnavailable, open_store
from bot.styles_client import StylesClient
from bot.telegram_link import connect
from bot.telegram_retry import RetryMiddleware
from bot.update_intake import UpdateIntake

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    language = LanguageMiddleware()
    dp.message.outer_middleware(language)
    dp.callback_query.outer_middleware(language)
    dp.include_routers(*all_routers())
    return dp


class BotApp:
    def __init__(self, settings: BotSettings, styles: StylesClient, session: AiohttpSession | None = None,
                 store: AsyncStore | None = None):
        self.settings = settings
        session = session or AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
        session.middleware(RetryMiddleware(base_delay=settings.telegram_retry_s))
        self.bot = Bot(settings.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        self.dp = build_dispatcher()
        self.store = store or AsyncStore(open_store(settings.state_url))   # never waited on by the event loop
        self.owner = replica_name()
        caps = {"size": settings.nst_max_size, "steps": settings.nst_max_steps}
        self.runner = JobRunner(self.bot, self.store, styles, nst_caps={k: v for k, v in caps.items() if v},
                                owner=self.owner, lease_s=settings.lease_s, preview_every_s=settings.nst_preview_s,
                                queue_poll_s=settings.queue_poll_s,
                                delivery_retry_interval=10 * settings.telegram_retry_s)
        self.styles = styles
        self.dp["store"], self.dp["runner"], self.dp["styles"] = self.store, self.runner, styles
        self.dp["files"] = self.runner.files
        self.dp["studio_url"] = settings.studio_url
        self.background: set[asyncio.Task] = set()
        self.polling: asyncio.Task | None = None
        self.intake = UpdateIntake(self.bot, self.dp, self.store, self.owner, settings.lease_s, self._spawn)

    @property
    def flood(self) -> FloodGate:
        return self.intake.flood

    @flood.setter
    def flood(self, gate: FloodGate) -> None:
        self.intake.flood = gate

    async def accept(self, payload: dict) -> bool:
        """Take one Update (webhook or polling): `UpdateIntake.accept`."""
        return await self.intake.accept(payload)

    @property
    def update_types(self) -> list[str]:
        return self.dp.resolve_used_update_types()

    async def start(self) -> None:
        """Re-handle updates cut off by a restart, take over jobs no live replica holds, and connect to Telegram
        in the background: an unreachable Bot API, or state store, must not keep the replica (and `serve run`)
        from coming up."""
        try:
            await self.intake.take_over()
            await self.runner.adopt_orphans()
        except StoreUnavailable as e:   # taken over a third of a lease later
            logger.warning("left-behind updates and jobs wait: %s", e)
        self._spawn(connect(self))
        self._spawn(self._housekeeping())
        self._spawn(self._watch_other_replicas())

    async def _watch_other_replicas(self) -> None:
        """Every third of a lease: jobs and updates a dead replica left behind are taken over once its leases
        expire, and this replica's jobs cancelled elsewhere (/cancel on another replica) stop here."""
        while True:
            await asyncio.sleep(self.settings.lease_s / 3)
            try:
                metrics.jobs_in_flight.set(len(self.runner.tasks))  # a gauge goes stale unless set again
                await self.runner.keep_jobs()
                await self.runner.adopt_orphans()
                await self.intake.take_over()
            except Exception as e:  # noqa: BLE001 - the store may be briefly unreachable; try again next round
                logger.warning("taking over from other replicas failed: %s", type(e).__name__)

    async def _housekeeping(self, every_s: float = 3600.0) -> None:
        """Forget old handled updates and finished jobs, so the state store does not grow without end."""
        while True:
            try:
                updates, jobs = await self.store.prune()
                if updates or jobs:
                    logger.info("state store: forgot %d handled updates and %d finished jobs", updates, jobs)
            except StoreUnavailable as e:
                logger.warning("state store not pruned this hour: %s", e)
            await asyncio.sleep(every_s)

    async def stop(self) -> None:
        if self.polling:
            self.polling.cancel()
        await self.runner.shutdown()
        for t in list(self.background):
            t.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.bot.session.close()
        await self.store.close()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
