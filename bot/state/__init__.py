"""The bot's durable state: one contract (`StateStore`), kept in SQLite on one machine or in Redis for several
bot replicas. `open_store` picks the backend from STYLEBOT_STATE_URL; the bot's async code reaches it through
`AsyncStore` (a bounded thread pool and a timeout per call)."""
from __future__ import annotations

from bot.state.async_store import AsyncStore, StoreUnavailable
from bot.state.records import (ACTIVE, MAX_SAVED_STYLES, OWN_STYLE_MODES, PRESET_STRENGTHS, QUALITIES, STRENGTHS,
                                ChatState, ContentInfo, Job, SavedStyle, Settings)
from bot.state.sqlite import SqliteStore
from bot.state.store import StateStore
from bot.state.urls import is_redis, sqlite_path

__all__ = ["ACTIVE", "MAX_SAVED_STYLES", "OWN_STYLE_MODES", "PRESET_STRENGTHS", "QUALITIES", "STRENGTHS", "AsyncStore",
           "ChatState", "ContentInfo", "Job", "SavedStyle", "Settings", "SqliteStore", "StateStore", "StoreUnavailable", "open_store"]


def open_store(state_url: str) -> StateStore:
    if is_redis(state_url):
        from bot.state.redis_store import RedisStore  # the redis client is needed only here

        return RedisStore.from_url(state_url)
    return SqliteStore(sqlite_path(state_url))
