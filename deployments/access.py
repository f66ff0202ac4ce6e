"""Who may use the styles API when it faces the internet: an API key (STYLEBOT_API_KEYS, or one per line in
STYLEBOT_API_KEYS_FILE, e.g. a mounted Kubernetes Secret; compared in constant time, never logged), or, for the
studio opened inside Telegram, the Mini App's signed initData (deployments/web_app_auth.py, with
TELEGRAM_BOT_TOKEN). Requests are rate limited per key and per address (429 + Retry-After).

Off by default: without keys every route is open and unlimited, as on a machine that only its owner reaches.
What stays open with keys: the page, its files, the docs, /healthz and the style list and pictures (GET
/v1/styles...: a bounded, cached amount of work). A pure ASGI middleware: streamed answers pass through untouched,
and a client that leaves still stops the work."""
from __future__ import annotations

import hmac
import json
import math
import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from deployments.web_app_auth import INIT_DATA_HEADER, InitDataRefused, checked_user
from models.error_codes import ErrorCode

OPEN_PREFIXES = ("/static/", "/docs", "/openapi.json", "/healthz")
DEFAULT_PER_MINUTE = 120     # requests per key and per address, once keys are set
MAX_TRACKED = 10_000         # buckets kept; the least recently used go first
NEEDS_A_KEY = ("This API needs a key: send it in X-API-Key or Authorization: Bearer. (Opened from the bot, the "
               "studio signs in by itself.)")


@dataclass
class RateLimiter:
    """A token bucket per caller: `per_minute` requests, refilled evenly."""
    per_minute: int
    buckets: OrderedDict = field(default_factory=OrderedDict)   # caller -> (tokens, when)

    def wait_s(self, caller: str, now: float) -> int:
        """0 when `caller` may go now (a token is taken), else the whole seconds until it may."""
        tokens, then = self.buckets.pop(caller, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - then) * self.per_minute / 60)
        wait = 0 if tokens >= 1 else math.ceil((1 - tokens) * 60 / self.per_minute)
        self.buckets[caller] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self.buckets) > MAX_TRACKED:
            self.buckets.popitem(last=False)
        return wait


@dataclass(frozen=True)
class AccessPolicy:
    keys: tuple[bytes, ...] = field(default=(), repr=False)
    bot_token: str | None = field(default=None, repr=False)
    per_minute: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AccessPolicy":
        raw = env.get("STYLEBOT_API_KEYS", "").replace(",", "\n")
        if env.get("STYLEBOT_API_KEYS_FILE"):
            with open(env["STYLEBOT_API_KEYS_FILE"], encoding="utf-8") as f:
                raw += "\n" + f.read()
        keys = tuple(k.strip().encode() for k in raw.splitlines() if k.strip())
        rate = env.get("STYLEBOT_RATE_PER_MINUTE", "").strip()
        if rate and (not rate.isdigit() or int(rate) < 1):
            raise ValueError(f"STYLEBOT_RATE_PER_MINUTE must be a positive whole number, not {rate!r}")
        per_minute = int(rate) if rate else (DEFAULT_PER_MINUTE if keys else None)
        return cls(keys, env.get("TELEGRAM_BOT_TOKEN", "").strip() or None, per_minute)

    def caller(self, headers: Mapping[str, str]) -> str | None:
        """Who a request is ("key 2", "telegram 42"), or None when it brings no valid credential."""
        bearer = headers.get("authorization", "")
        given = (headers.get("x-api-key") or (bearer[7:] if bearer.lower().startswith("bearer ") else "")).encode()
        matches = [hmac.compare_digest(given, key) for key in self.keys]   # every key compared, every time
        if given and any(matches):
            return f"key {matches.index(True)}"
        if self.bot_token and headers.get(INIT_DATA_HEADER):
            try:
                return f"telegram {checked_user(headers[INIT_DATA_HEADER], self.bot_token).id}"
            except InitDataRefused:
                return None
        return None


_policy: AccessPolicy | None = None


def use_policy(policy: AccessPolicy) -> None:
    """This process's policy: the ingress sets it as it starts (open until then)."""
    global _policy
    _policy = policy


def current_policy() -> AccessPolicy:
    """The middleware's `policy_of` in the service: the one the ingress set, else the process environment's. A
    module function, not state on the FastAPI app: Serve runs a pickled copy of the app, so state set on the
    module's app object later never reaches that copy, while this function is pickled by reference."""
    if _policy is None:
        use_policy(AccessPolicy.from_env(os.environ))
    return _policy


def is_open(method: str, path: str) -> bool:
    return (path == "/" or path.startswith(OPEN_PREFIXES)
            or (method in ("GET", "HEAD") and (path == "/v1/styles" or path.startswith("/v1/styles/"))))


def app_path(scope) -> str:
    """A request's path inside the app: the route prefix it is served under (the ASGI root_path) taken off, as
    Starlette's router takes it off to find the route."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path


class AccessMiddleware:
    """Checks `policy_of()` (read per request: the ingress sets it as it starts) before the app sees a request."""

    def __init__(self, app, policy_of):
        self.app, self.policy_of = app, policy_of
        self.limiter: RateLimiter | None = None

    async def __call__(self, scope, receive, send):
        policy = self.policy_of()
        if (scope["type"] != "http" or policy is None or not (policy.keys or policy.per_minute)
                or is_open(scope["method"], app_path(scope))):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        caller = None
        if policy.keys:
            caller = policy.caller(headers)
            if caller is None:
                return await refuse(send, 401, ErrorCode.UNAUTHORIZED, NEEDS_A_KEY)
        if policy.per_minute:
            if self.limiter is None:
                self.limiter = RateLimiter(policy.per_minute)
            now = time.monotonic()
            for who in filter(None, (caller, f"address {client_address(scope, headers)}")):
                wait = self.limiter.wait_s(who, now)
                if wait:
                    return await refuse(send, 429, ErrorCode.RATE_LIMITED,
                                        f"Too many requests: try again in {wait} s.", wait)
        return await self.app(scope, receive, send)


def client_address(scope, headers: Mapping[str, str]) -> str:
    """The address the last proxy saw (the rightmost X-Forwarded-For entry, which a client cannot forge past
    its own proxy), else the connection's."""
    forwarded = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
    return forwarded[-1] if forwarded else (scope.get("client") or ("unknown",))[0]


async def refuse(send, status: int, code: str, message: str, retry_after: int | None = None) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
