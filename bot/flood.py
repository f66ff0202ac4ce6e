"""Flood control: how many updates one chat may send before the bot stops handling them for a while.

The rule: a chat may send `limit` updates in any `window_s` seconds (default 12 in 10 s: an album of ten photos
passes; Telegram lets a bot send a chat about one message a second, so answering more would only queue replies). Updates past that are
dropped, not queued: the person gets one "slow down" message per window, taps are answered with the same words,
and other chats are not affected. Updates replayed after a restart are not counted.
"""
from __future__ import annotations

import time
from collections import deque
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"        # the first dropped update of a window: tell the person once
    DROP = "drop"


class FloodGate:
    def __init__(self, limit: int = 12, window_s: float = 10.0):
        self.limit, self.window_s = limit, window_s
        self._seen: dict[int, deque[float]] = {}
        self._warned_until: dict[int, float] = {}
        self._swept = float("-inf")

    def __len__(self) -> int:
        return len(self._seen)

    def check(self, chat_id: int, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        if now - self._swept >= self.window_s:
            self._sweep(now)
        seen = self._seen.setdefault(chat_id, deque())
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            return Verdict.ALLOW
        if self._warned_until.get(chat_id, 0.0) > now:
            return Verdict.DROP
        self._warned_until[chat_id] = now + self.window_s
        return Verdict.WARN

    def uncount(self, chat_id: int) -> None:
        """Take back the chat's last allowed update: it was a duplicate, or the state store did not record it."""
        seen = self._seen.get(chat_id)
        if seen:
            seen.pop()

    def _sweep(self, now: float) -> None:
        """Forget chats quiet for a whole window, so the maps hold only the chats active right now."""
        self._swept = now
        for chat_id in [c for c, seen in self._seen.items() if not seen or seen[-1] <= now - self.window_s]:
            del self._seen[chat_id]
        for chat_id in [c for c, until in self._warned_until.items() if until <= now]:
            del self._warned_until[chat_id]
