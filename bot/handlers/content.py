"""Images: the photo to paint, or the style image (after "My own style image", or captioned /style)."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.texts import Texts
from bot.files import TelegramFiles
from bot.handlers.launch import launch
from bot.intake import Refusal, checked_clip, checked_image, is_clip_file
from bot.jobs import JobRunner
from bot.keyboards import content_tag, style_keyboard
from bot.state import AsyncStore, ContentInfo
from bot.styles_client import StylesClient

router = Router(name="content")
IMAGE = F.photo | F.document
CLIP = F.animation | F.video | F.video_note | F.document.mime_type.func(is_clip_file)


async def receive(message: Message, files: TelegramFiles, tx: Texts) -> tuple[str, ContentInfo] | None:
    """The checked image's file_id and what it is, or None after telling the person why it cannot be used."""
    try:
        return await checked_image(files, message, tx)
    except Refusal as r:
        await message.answer(str(r))
        return None


@router.message(CLIP)
async def clip(message: Message, files: TelegramFiles, store: AsyncStore, styles: StylesClient, tx: Texts) -> None:
    """A GIF, a video or a video note: checked now, then painted with the style the person picks."""
    try:
        file_id, info = await checked_clip(files, message, tx)
    except Refusal as r:
        await message.answer(str(r))
        return
    chat = await store.chat(message.chat.id)
    chat.content_file_id, chat.content, chat.awaiting = file_id, info, None
    await store.save_chat(chat)
    await message.answer(tx.CHOOSE_STYLE_CLIP, reply_markup=style_keyboard(
        await styles.catalogue(), content_tag(file_id), tx, saved=await store.saved_styles(chat.chat_id)))


@router.message(Command("style"), IMAGE)
async def style_by_caption(message: Message, files: TelegramFiles, store: AsyncStore, tx: Texts) -> None:
    received = await receive(message, files, tx)
    if received is None:
        return
    file_id, _ = received
    chat = await store.chat(message.chat.id)
    chat.style_file_id, chat.awaiting = file_id, None
    await store.save_chat(chat)
    await message.answer(tx.STYLE_SAVED if chat.content_file_id else tx.STYLE_SAVED_NO_CONTENT)


@router.message(IMAGE)
async def image(message: Message, files: TelegramFiles, store: AsyncStore, runner: JobRunner,
                styles: StylesClient, tx: Texts) -> None:
    received = await receive(message, files, tx)
    if received is None:
        return
    file_id, info = received
    chat = await store.chat(message.chat.id)
    if chat.awaiting == "style":   # an animated GIF here is a style image: its first frame
        chat.style_file_id, chat.awaiting = file_id, None
        await store.save_chat(chat)
        refusal = await launch(chat, "nst", store, runner, styles, tx)
        if refusal:
            await message.answer(refusal)
        return
    chat.content_file_id, chat.content, chat.awaiting = file_id, info, None   # a photo ends a rename the person left
    await store.save_chat(chat)
    await message.answer(tx.CHOOSE_STYLE_CLIP if info.is_clip else tx.CHOOSE_STYLE, reply_markup=style_keyboard(
        await styles.catalogue(), content_tag(file_id), tx, saved=await store.saved_styles(chat.chat_id)))
