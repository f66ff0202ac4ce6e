"""The "bot" Serve application: the Telegram webhook endpoint (or the polling loop), in front of BotApp, and the
studio's "send to the chat" (bot/studio_send.py)."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import redact
from bot.config import BotSettings
from bot.limits import MAX_UPDATE_BYTES
from bot.state import StoreUnavailable
from bot.studio_send import send_from_studio
from deployments.http_body import read_capped

logger = logging.getLogger("ray.serve")
SECRET_HEADER = "x-telegram-bot-api-secret-token"
HEALTHZ, STUDIO_SEND, WEBHOOK = "/healthz", "/studio/send", "/webhook"
ROUTES = {HEALTHZ: "GET", STUDIO_SEND: "POST", WEBHOOK: "POST"}   # under the app's route_prefix (/telegram)


@serve.deployment(
    num_replicas=1,                      # more (`replicas` below) need the state in Redis when they span nodes
    max_ongoing_requests=200,            # each webhook call only records the update and returns
    ray_actor_options={"num_cpus": 0.1},
    graceful_shutdown_timeout_s=20,
)
class BotIngress:
    async def __init__(self, styles_app: str = "styles", env: dict | None = None):
        self.settings = BotSettings.from_env({**os.environ, **(env or {})})
        redact.install([self.settings.token or "", self.settings.webhook_secret])
        self.app = None
        if not self.settings.token:
            logger.warning("TELEGRAM_BOT_TOKEN is not set: the bot stays idle; the styles app still serves.")
            return
        if self.settings.mode == "webhook" and self.settings.secret_generated:
            logger.info("TELEGRAM_WEBHOOK_SECRET is not set: using a random secret for this run")
        from bot.app import BotApp
        from bot.state import AsyncStore, open_store
        from bot.styles_client import StylesClient

        store = AsyncStore(await asyncio.to_thread(open_store, self.settings.state_url))   # a locked file waits there
        self.app = BotApp(self.settings, StylesClient(serve.get_app_handle(styles_app)), store=store)
        await self.app.start()

    async def __del__(self):
        if getattr(self, "app", None) is not None:
            await self.app.stop()

    async def __call__(self, request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if path.endswith(HEALTHZ):
            return JSONResponse({"bot": "running" if self.app else "idle",
                                 "mode": self.settings.mode if self.app else None,
                                 "replica": self.app.owner.split("@")[0] if self.app else None})
        if path.endswith(STUDIO_SEND):
            if self.app is None:
                return JSONResponse({"error": "bot_idle", "message": "The bot is not running."}, status_code=503)
            return await send_from_studio(request, self.app.bot, self.settings.token)
        if not path.endswith(WEBHOOK):
            return JSONResponse({"error": "not_found"}, status_code=404)
        if request.method != "POST":
            return JSONResponse({"error": "method_not_allowed"}, status_code=405)
        if self.app is None or self.settings.mode != "webhook":
            return JSONResponse({"error": "webhook_off", "message": "The bot is not in webhook mode."},
                                status_code=503)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.settings.webhook_secret.encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await read_capped(request, MAX_UPDATE_BYTES)
        if body is None:
            return JSONResponse({"error": "too_large", "message": "An update is at most 1 MB."}, status_code=413)
        try:
            payload = json.loads(body)
            await self.app.accept(payload)
        except (ValueError, TypeError, RecursionError):
            return JSONResponse({"error": "bad_update", "message": "The body is not a Telegram Update."},
                                status_code=400)
        except StoreUnavailable:   # not recorded: Telegram sends it again
            return JSONResponse({"error": "store_unavailable", "message": "The update could not be recorded yet."},
                                status_code=503, headers={"Retry-After": "5"})
        return JSONResponse({"ok": True})


def build_bot_app(args: dict | None = None):
    """`import_path` target for the "bot" application. args: styles_app (default "styles"), replicas (default 1;
    several share the work through leases in the state store: README, "Several bot replicas")."""
    args = dict(args or {})
    replicas = int(args.get("replicas", 1))
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    return BotIngress.options(num_replicas=replicas).bind(styles_app=args.get("styles_app", "styles"),
                                                          env=args.get("env"))
