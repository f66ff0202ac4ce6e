"""Turning an incoming message into a checked image reference: which file, is it an image, can we read it."""
from __future__ import annotations

import asyncio
import io

from aiogram.types import Message
from PIL import Image

from bot.texts import Texts
from bot.files import DownloadError, TelegramFiles
from bot.limits import TELEGRAM_DOWNLOAD_BYTES
from bot.state import ContentInfo
from models.error_codes import ErrorCode
from models.limits import MAX_CLIP_SECONDS
from models.images import ImageError, ImageLimits, decode_image
from models.video.clip import ClipError, over_limits, probe

IMAGE_MIME_TYPES = {"image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif"}
CLIP_KINDS = ("animation", "video", "video_note")   # how Telegram sends GIFs, videos and round video notes
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
    data = await _download(files, file_id, size, tx)
    if message.document is not None and await asyncio.to_thread(is_animated_gif, data):
        return file_id, await _clip_info(data, "animation", tx)   # an animated GIF sent as a file is a clip
    try:
        preview = await asyncio.to_thread(decode_image, data, LIMITS, 64)
    except ImageError as e:
        raise Refusal(tx.bad_image(e.message, e.code)) from None
    width, height = preview.info["original_size"]
    return file_id, ContentInfo(as_file=message.document is not None, width=width, height=height)


def clip_reference(message: Message) -> tuple[str, str, int | None, float] | None:
    """(how it came, file_id, size, seconds) of the clip in a message, None when it carries none."""
    for kind in CLIP_KINDS:
        clip = getattr(message, kind)
        if clip is not None:
            return kind, clip.file_id, clip.file_size, float(clip.duration or 0)
    doc = message.document
    if doc is not None and is_clip_file(doc.mime_type):   # a video sent as a file: it goes back as a video
        return "video", doc.file_id, doc.file_size, 0.0
    return None


def is_clip_file(mime_type: str | None) -> bool:
    return (mime_type or "").lower().startswith("video/")


async def _download(files: TelegramFiles, file_id: str, size: int | None, tx: Texts) -> bytes:
    if size is not None and size > TELEGRAM_DOWNLOAD_BYTES:
        raise Refusal(tx.FILE_TOO_BIG)
    try:
        return await files.get(file_id)
    except DownloadError as e:
        raise Refusal(tx.FILE_TOO_BIG if str(e) == "too_big" else tx.DOWNLOAD_FAILED) from None


async def checked_clip(files: TelegramFiles, message: Message, tx: Texts) -> tuple[str, ContentInfo]:
    """The clip's file_id and what it is, after downloading and reading it once (its header and a count of its
    frames, no pixels): a broken clip, or one over the service's limits, is refused now, before a style is
    picked. A clip Telegram says is too long is refused before it is downloaded."""
    kind, file_id, size, seconds = clip_reference(message)
    if seconds > MAX_CLIP_SECONDS + 0.5:
        raise Refusal(tx.REQUEST_REFUSALS[ErrorCode.VIDEO_TOO_LONG])
    return file_id, await _clip_info(await _download(files, file_id, size, tx), kind, tx)


def is_animated_gif(data: bytes) -> bool:
    if not data.startswith((b"GIF87a", b"GIF89a")):
        return False
    try:
        with Image.open(io.BytesIO(data)) as img:
            return getattr(img, "n_frames", 1) > 1
    except (OSError, ValueError, Image.DecompressionBombError):
        return False   # the image decoder gives the person its own words for a broken GIF


async def _clip_info(data: bytes, kind: str, tx: Texts) -> ContentInfo:
    """What a downloaded clip is, read once (header and frame count); Refusal when it is broken or over the
    limits."""
    try:
        info = await asyncio.to_thread(probe, data)
    except ClipError as e:
        raise Refusal(tx.REQUEST_REFUSALS[e.code]) from None
    if over_limits(info) is not None:
        raise Refusal(tx.REQUEST_REFUSALS[ErrorCode.VIDEO_TOO_LONG])
    return ContentInfo(width=info.width, height=info.height, clip=kind, frames=info.frames)
