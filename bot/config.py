"""The bot's settings, read from the environment. Secrets are kept out of every repr, log line and URL we print."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bot.state.urls import StateURLError, check_state_url

TELEGRAM_API = "https://api.telegram.org"
DEFAULT_STATE_URL = "sqlite:///var/stylebot.db"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BotSettings:
    token: str | None = field(default=None, repr=False)
    webhook_secret: str = field(default="", repr=False)
    api_base: str = TELEGRAM_API
    public_url: str | None = None
    mode: str = "polling"                 # "webhook" or "polling"
    state_url: str = field(default=DEFAULT_STATE_URL, repr=False)   # a Redis URL may hold a password
    secret_generated: bool = False
    nst_max_size: int | None = None       # caps on what /settings quality asks of NST (slow CPU hosts)
    nst_max_steps: int | None = None
    lease_s: float = 30.0                 # how long a dead replica's chats and jobs wait before another takes them
    nst_preview_s: int = 10               # a picture of the painting so far at most this often (3 per job at most)
    queue_poll_s: int = 5                 # while the styles app is busy, how often the first in line tries again
    telegram_retry_s: float = 1.0         # the first wait before retrying a Bot API call (5xx, network); doubles
    studio_url: str | None = None         # the studio page that /studio opens as a Mini App (https only)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "BotSettings":
        env = dict(os.environ if env is None else env)
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
        public_url = env.get("STYLEBOT_PUBLIC_URL", "").strip().rstrip("/") or None
        mode = env.get("STYLEBOT_BOT_MODE", "").strip().lower() or ("webhook" if public_url else "polling")
        if mode not in ("webhook", "polling"):
            raise ConfigError(f"STYLEBOT_BOT_MODE must be 'webhook' or 'polling', not {mode!r}")
        if mode == "webhook" and not public_url:
            raise ConfigError("STYLEBOT_BOT_MODE=webhook needs STYLEBOT_PUBLIC_URL (the public https base URL)")
        state_url = env.get("STYLEBOT_STATE_URL", "").strip() or DEFAULT_STATE_URL
        try:
            check_state_url(state_url)
        except StateURLError as e:
            raise ConfigError(str(e)) from None
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
        generated = not secret
        # Telegram allows 1-256 characters from A-Z, a-z, 0-9, _ and -. Without one set, every replica derives
        # the same secret from the token, so several replicas (and restarts) agree on it.
        secret = secret or (derived_secret(token) if token else secrets.token_urlsafe(32))
        return cls(token=token, webhook_secret=secret, api_base=env.get("TELEGRAM_API_BASE", "").strip().rstrip("/")
                   or TELEGRAM_API, public_url=public_url, mode=mode,
                   state_url=state_url,
                   secret_generated=generated, nst_max_size=_positive(env, "STYLEBOT_NST_MAX_SIZE"),
                   nst_max_steps=_positive(env, "STYLEBOT_NST_MAX_STEPS"),
                   nst_preview_s=_positive(env, "STYLEBOT_NST_PREVIEW_S") or 10,
                   queue_poll_s=_positive(env, "STYLEBOT_QUEUE_POLL_S") or 5,
                   lease_s=_positive(env, "STYLEBOT_LEASE_S") or 30.0,
                   telegram_retry_s=(_positive(env, "STYLEBOT_TELEGRAM_RETRY_MS") or 1000) / 1000,
                   studio_url=_studio_url(env, public_url))

    @property
    def webhook_url(self) -> str | None:
        return f"{self.public_url}/telegram/webhook" if self.public_url else None


def _studio_url(env: dict[str, str], public_url: str | None) -> str | None:
    """STYLEBOT_STUDIO_URL, else the styles app's page on the public host; Telegram opens Mini Apps over HTTPS
    only, so an http public URL means no studio button."""
    url = env.get("STYLEBOT_STUDIO_URL", "").strip()
    if url and not url.startswith("https://"):
        raise ConfigError("STYLEBOT_STUDIO_URL must start with https:// (Telegram opens Mini Apps over HTTPS only)")
    if not url and public_url and public_url.startswith("https://"):
        url = f"{public_url}/"
    return url or None


def derived_secret(token: str) -> str:
    return hmac.new(token.encode(), b"stylebot webhook secret", hashlib.sha256).hexdigest()


def _positive(env: dict[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)
