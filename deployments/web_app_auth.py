"""A Telegram Mini App's `initData`, checked as Telegram documents it ("Validating data received via the Mini
App"): the fields but `hash`, sorted and joined by newlines, signed with HMAC-SHA256 under the key
HMAC-SHA256("WebAppData", bot token); `auth_date` no older than a limit. Only then does a request act for the
person in it."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

INIT_DATA_HEADER = "x-telegram-init-data"   # how a request from the studio inside Telegram carries it
MAX_AGE_S = 3600          # a Mini App opened more than an hour ago must be opened again
MAX_INIT_DATA = 4096      # characters: Telegram's initData is a few hundred


class InitDataRefused(ValueError):
    """Why an initData is not accepted (the words are safe to show: no secret in them)."""


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None
    auth_date: int


def signature(fields: dict[str, str], token: str) -> str:
    """The `hash` Telegram puts in an initData made of `fields` for the bot with `token`."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def checked_user(init_data: str | None, token: str, max_age_s: int = MAX_AGE_S,
                 now: float | None = None) -> WebAppUser:
    """The person an initData speaks for, or InitDataRefused."""
    if not init_data:
        raise InitDataRefused("Open the studio from the bot: this request carries no Telegram sign-in.")
    if len(init_data) > MAX_INIT_DATA:
        raise InitDataRefused("The Telegram sign-in is too long to be real.")
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    given = fields.pop("hash", "")
    if not hmac.compare_digest(given.encode(), signature(fields, token).encode()):
        raise InitDataRefused("The Telegram sign-in does not check out: open the studio from the bot again.")
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
        person = WebAppUser(int(user["id"]), str(user.get("first_name", "")), user.get("language_code"), auth_date)
    except (KeyError, ValueError, TypeError):
        raise InitDataRefused("The Telegram sign-in names no person: open the studio from the bot again.") from None
    if (now if now is not None else time.time()) - auth_date > max_age_s:
        raise InitDataRefused("The studio was opened too long ago: open it from the bot again.")
    return person
