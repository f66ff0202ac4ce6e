"""Retries for Bot API calls: 429 waits `retry_after`, 5xx and network errors back off, others surface."""
from __future__ import annotations

import asyncio
import logging

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bot import metrics

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, attempts: int = 5, base_delay: float = 1.0, max_delay: float = 30.0,
                 max_retry_after: float = 120.0):
        self.attempts, self.base_delay, self.max_delay = attempts, base_delay, max_delay
        self.max_retry_after = max_retry_after

    async def __call__(self, make_request, bot, method):
        name = method.__api_method__
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except Exception as e:
                metrics.telegram_errors.inc(tags={"kind": metrics.telegram_error_kind(e), "method": name})
                if not isinstance(e, (TelegramRetryAfter, TelegramServerError, TelegramNetworkError)):
                    raise
                await self._before_retry(e, name, attempt)
        raise AssertionError("unreachable")

    async def _before_retry(self, e: Exception, name: str, attempt: int) -> None:
        """Wait before the next attempt, or re-raise `e` when retrying is pointless."""
        if isinstance(e, TelegramRetryAfter):
            if attempt == self.attempts or e.retry_after > self.max_retry_after:
                logger.warning("Telegram %s: still rate-limited after %d attempts (retry_after %ss); giving up",
                               name, attempt, e.retry_after)
                raise e
            logger.info("Telegram %s: rate-limited, waiting %ss", name, e.retry_after)
            await asyncio.sleep(e.retry_after)
            return
        if attempt == self.attempts:
            logger.warning("Telegram %s: giving up after %d attempts: %s", name, attempt, type(e).__name__)
            raise e
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        logger.info("Telegram %s: %s, retrying in %.1fs", name, type(e).__name__, delay)
        await asyncio.sleep(delay)
