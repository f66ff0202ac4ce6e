"""POST <bot route>/studio/send: the studio page, opened from the bot as a Telegram Mini App, sends the painting it
shows to the chat of the person whose signed initData it carries (header X-Telegram-Init-Data, checked by
deployments/web_app_auth.py). Without a valid one nothing is sent to anyone: a JSON 401."""
from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import BufferedInputFile
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot import texts
from bot.telegram_fit import Fitted, fit_photo
from deployments.http_body import read_capped
from deployments.web_app_auth import INIT_DATA_HEADER, InitDataRefused, checked_user
from models.error_codes import ErrorCode
from models.images import ImageError, decode_image
from models.limits import MAX_UPLOAD_BYTES

logger = logging.getLogger("ray.serve")


def checked_photo(data: bytes) -> Fitted:
    """A picture the service can read (else ImageError), fitted to what Telegram takes as a photo."""
    decode_image(data)
    return fit_photo(data)


def refused(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def send_from_studio(request: Request, bot: Bot, token: str) -> JSONResponse:
    if request.method != "POST":
        return refused(405, ErrorCode.METHOD_NOT_ALLOWED, "POST the painting here.")
    try:
        person = checked_user(request.headers.get(INIT_DATA_HEADER), token)
    except InitDataRefused as e:
        return refused(401, ErrorCode.UNAUTHORIZED, str(e))
    body = await read_capped(request, MAX_UPLOAD_BYTES)
    if body is None:
        return refused(413, ErrorCode.IMAGE_TOO_LARGE, f"A painting is at most {MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        fitted = await asyncio.to_thread(checked_photo, body)
    except ImageError as e:
        return refused(415, str(e.code), e.message)
    tx = texts.for_language(texts.pick_language(None, person.language_code))
    try:
        await bot.send_photo(person.id, BufferedInputFile(fitted.data, f"stylebot.{fitted.ext}"),
                             caption=tx.STUDIO_CAPTION)
    except TelegramForbiddenError:
        return refused(403, "bot_blocked", "The bot cannot write to you: start it in Telegram, then try again.")
    except TelegramAPIError as e:
        logger.warning("a studio result was not sent: %s", type(e).__name__)
        return refused(502, "telegram_error", "Telegram did not take the picture. Try again in a moment.")
    return JSONResponse({"ok": True})
