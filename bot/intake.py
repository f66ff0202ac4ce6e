"""Turning an incoming message into a checked image reference: which file, is it an image, can we read it."""
from __future__ import annotations

import asyncio

from aiogram.types import Message

from bot.texts import Texts
from bot.files import DownloadError, TelegramFiles
from bot.limits import TELEGRAM_DOWNLOAD_BYTES
from bot.state import ContentInfo
from models.images import ImageError, ImageLimits, decode_image

IMAGE_MIME_TYPES = {"image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif"}
LIMITS = ImageLimits()


class Refusal(Exception):
    """An image we will not use, with the message that tells the person what to send instead."""


def image_reference(message: Message, tx: Texts) -> tuple[str, int | None] | None:
    """(file_id, size) of the image in a message, None when it carries none."""
    if message.photo:
        biggest = message.photo[-1]
        return biggest.file_id, biggest.file_size
    doc = message.document
    if doc is not None:
        if (doc.mime_type or "").lower() not in IMAGE_MIME_TYPES:
            raise Refusal(tx.NOT_AN_IMAGE)
        return doc.file_id, doc.file_size
    return None


async def checked_image(files: TelegramFiles, message: Message, tx: Texts) -> tuple[str, ContentInfo]:
    """The image's file_id and what it is (a file or a compressed photo, its size), after downloading and
    decoding it once: a broken or oversized image is refused now, not after the person has picked a style."""
    ref = image_reference(message, tx)
    if ref is None:
        raise Refusal(tx.ASK_PHOTO)
    file_id, size = ref
    if size is not None and size > TELEGRAM_DOWNLOAD_BYTES:
        raise Refusal(tx.FILE_TOO_BIG)
    try:
        data = await files.get(file_id)
    except DownloadError as e:
        raise Refusal(tx.FILE_TOO_BIG if str(e) == "too_big" else tx.DOWNLOAD_FAILED) from None
    try:
        preview = await asyncio.to_thread(decode_image, data, LIMITS, 64)
    except ImageError as e:
        raise Refusal(tx.bad_image(e.message, e.code)) from None
    width, height = preview.info["original_size"]
    return file_id, ContentInfo(as_file=message.document is not None, width=width, height=height)
