"""Long polling (no public address): Telegram allows one getUpdates at a time, so with several replicas only the
holder of the "poller" lease polls; the others stand by and take over once a dead poller's lease expires."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.leases import holding
from bot.state import StoreUnavailable

if TYPE_CHECKING:
    from bot.app import BotApp

logger = logging.getLogger("ray.serve.stylebot")
POLL_TIMEOUT_S = 25


async def poll(app: BotApp) -> None:
    while True:
        try:
            async with holding(app.store, "poller", app.owner, POLL_TIMEOUT_S + 15) as held:
                if held:
                    await poll_updates(app)
        except StoreUnavailable as e:   # the update not recorded is asked for again
            logger.warning("polling waits for the state store: %s", e)
        await asyncio.sleep(5)


async def poll_updates(app: BotApp) -> None:
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
