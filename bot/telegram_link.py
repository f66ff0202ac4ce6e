"""How updates arrive from Telegram: the webhook set (Telegram POSTs to bot/ingress.py), or long polling (no public
address). Telegram allows one getUpdates at a time, so with several replicas only the holder of the "poller" lease
polls; the others stand by and take over once a dead poller's lease expires."""
from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiogram import Bot

from bot.config import BotSettings
from bot.leases import holding
from bot.menus import publish_menus
from bot.state import AsyncStore, StoreUnavailable

logger = logging.getLogger("ray.serve.stylebot")
POLL_TIMEOUT_S = 25


class LinkedApp(Protocol):
    """What connecting needs of the bot (`BotApp`): a protocol, so that the app imports this module and not the
    other way round."""
    bot: Bot
    settings: BotSettings
    store: AsyncStore
    owner: str
    polling: asyncio.Task | None

    @property
    def update_types(self) -> list[str]: ...

    async def accept(self, payload: dict) -> bool: ...


async def connect(app: LinkedApp, max_delay: float = 60.0) -> None:
    """Link to Telegram, then publish the bot's menus (bot/menus.py)."""
    await link(app, max_delay)
    await publish_menus(app.bot, app.settings.studio_url)


async def link(app: LinkedApp, max_delay: float) -> None:
    """Set the webhook, or start polling; an unreachable Bot API is tried again, 1 s later, then 2, 4 ... 60 s."""
    delay = 1.0
    while True:
        try:
            me = await app.bot.get_me()
            if app.settings.mode == "webhook":
                await app.bot.set_webhook(app.settings.webhook_url, secret_token=app.settings.webhook_secret,
                                          allowed_updates=app.update_types)
                logger.info("bot @%s: webhook set to %s", me.username, app.settings.webhook_url)
            else:
                await app.bot.delete_webhook(drop_pending_updates=False)
                app.polling = asyncio.create_task(poll(app), name="telegram-polling")
                logger.info("bot @%s: polling for updates", me.username)
            return
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logger.warning("cannot reach the Telegram Bot API (%s); retrying in %.0f s", type(e).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(max_delay, delay * 2)


async def poll(app: LinkedApp) -> None:
    while True:
        try:
            async with holding(app.store, "poller", app.owner, POLL_TIMEOUT_S + 15) as held:
                if held:
                    await poll_updates(app)
        except StoreUnavailable as e:   # the update not recorded is asked for again
            logger.warning("polling waits for the state store: %s", e)
        await asyncio.sleep(5)


async def poll_updates(app: LinkedApp) -> None:
    """Ask for updates after the newest recorded one; the offset moves past an update only once it is recorded
    (Telegram forgets every update before the offset)."""
    offset = (await app.store.last_update_id() or -1) + 1 or None
    while True:
        try:
            updates = await app.bot.get_updates(offset=offset, timeout=POLL_TIMEOUT_S,
                                                allowed_updates=app.update_types,
                                                request_timeout=POLL_TIMEOUT_S + 10)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logger.warning("getUpdates failed (%s); retrying in 5 s", type(e).__name__)
            await asyncio.sleep(5)
            continue
        for u in updates:
            await app.accept(u.model_dump(mode="json", exclude_none=True))
            offset = u.update_id + 1
