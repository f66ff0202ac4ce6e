"""STYLEBOT_STATE_URL: `sqlite:///var/stylebot.db` (one machine) or `redis://` / `rediss://` (several replicas)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from models.paths import PROJECT_ROOT

REDIS_SCHEMES = ("redis", "rediss")


class StateURLError(ValueError):
    pass


def is_redis(state_url: str) -> bool:
    return urlsplit(state_url).scheme in REDIS_SCHEMES


def redacted(state_url: str) -> str:
    """The URL with any password replaced, fit for a log line or an error message."""
    parts = urlsplit(state_url)
    if parts.password is None:
        return state_url
    user = f"{parts.username}:" if parts.username else ":"
    return parts._replace(netloc=f"{user}***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")).geturl()


def check_state_url(state_url: str) -> None:
    if is_redis(state_url):
        if not urlsplit(state_url).hostname:
            raise StateURLError(f"STYLEBOT_STATE_URL names no Redis host: {redacted(state_url)!r}")
        return
    sqlite_path(state_url)


def sqlite_path(state_url: str, base: Path | None = None) -> Path:
    """`sqlite:///var/x.db` is relative to `base` (default: the project folder, not the working directory, which
    differs between a Ray worker and the shell that ran `serve run`), `sqlite:////abs/x.db` absolute."""
    prefix = "sqlite:///"
    if not state_url.startswith(prefix):
        raise StateURLError("STYLEBOT_STATE_URL must look like sqlite:///var/stylebot.db or "
                            f"redis://host:6379/0, not {redacted(state_url)!r}")
    rest = state_url[len(prefix):]
    if not rest:
        raise StateURLError("STYLEBOT_STATE_URL names no database file")
    path = Path(rest)
    return path if path.is_absolute() else (base or PROJECT_ROOT) / path
