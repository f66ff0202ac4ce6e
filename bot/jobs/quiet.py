"""Best-effort Telegram calls: a job goes on whether or not a progress edit, a notice or a clean-up went out."""
from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log


async def quiet(coro) -> None:
    try:
        await coro
    except TelegramForbiddenError:
        pass
    except TelegramAPIError as e:
        logger.info("Telegram call failed (ignored): %s", type(e).__name__)
