"""Telegram files, downloaded once per job: the bytes the intake checked when the photo arrived are kept (a small,
bounded, in-memory cache) for the job that paints it. After a restart, or on another bot replica, a file is
simply downloaded again."""
from __future__ import annotations

import io
import time
from collections import OrderedDict

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.limits import FILE_CACHE_BYTES, FILE_CACHE_TTL_S


class DownloadError(Exception):
    """A Telegram file could not be fetched. Never carries the file URL: it contains the bot token."""


async def download(bot: Bot, file_id: str) -> bytes:
    try:
        buffer = await bot.download(file_id)
    except TelegramBadRequest as e:
        if "too big" in e.message.lower():
            raise DownloadError("too_big") from None
        raise DownloadError("bad_request") from None
    except Exception as e:  # aiohttp errors quote the URL, and so the token: keep only the type
        raise DownloadError(type(e).__name__) from None
    return buffer.getvalue() if isinstance(buffer, io.BytesIO) else bytes(buffer)


class TelegramFiles:
    def __init__(self, bot: Bot, capacity_bytes: int = FILE_CACHE_BYTES, ttl_s: float = FILE_CACHE_TTL_S):
        self.bot, self.capacity, self.ttl = bot, capacity_bytes, ttl_s
        self._kept: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._kept_bytes = 0
        self.downloads = 0

    async def get(self, file_id: str) -> bytes:
        kept = self._kept.get(file_id)
        if kept is not None and time.monotonic() - kept[0] < self.ttl:
            self._kept.move_to_end(file_id)
            return kept[1]
        data = await download(self.bot, file_id)
        self.downloads += 1
        self._keep(file_id, data)
        return data

    def _keep(self, file_id: str, data: bytes) -> None:
        if len(data) > self.capacity:
            return
        old = self._kept.pop(file_id, None)           # an expired copy being refreshed
        if old is not None:
            self._kept_bytes -= len(old[1])
        self._kept[file_id] = (time.monotonic(), data)
        self._kept_bytes += len(data)
        while self._kept_bytes > self.capacity:
            _, (_, evicted) = self._kept.popitem(last=False)
            self._kept_bytes -= len(evicted)
