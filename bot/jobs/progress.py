"""A job's progress message: its place in the waiting line, then the NST run's steps and the picture so far, or a
full-size painting's parts done.

NST progress shows the picture so far: the progress message becomes a photo at the first preview.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InputMediaPhoto

from bot.jobs.helpers import language
from bot.jobs.quiet import quiet
from bot.state import AsyncStore, Job


class Progress:
    def __init__(self, bot: Bot, store: AsyncStore, interval: float = 3.0, preview_every_s: float = 10.0,
                 max_previews: int = 3):
        self.bot, self.store = bot, store
        self.interval = interval
        self.previews = {"every_s": preview_every_s, "max": max_previews}   # what the styles app is asked for
        self.photo_progress: set[int] = set()    # jobs whose progress message is a photo now

    async def open(self, job: Job, text: str) -> bool:
        """Send the job's progress message, unless it has one (a job resumed after a restart); True when sent."""
        if job.progress_message_id is not None:
            return False
        msg = await self.bot.send_message(job.chat_id, text)
        job.progress_message_id = msg.message_id
        await self.store.patient.set_progress_message(job.id, msg.message_id)
        return True

    async def show(self, job: Job, text: str) -> None:
        """Put `text` on the job's progress message, sending one when it has none."""
        if not await self.open(job, text):
            await quiet(self.edit(job.chat_id, job.progress_message_id, text))

    async def edit(self, chat_id: int, message_id: int, text: str, photo: bool | None = None) -> None:
        """Put `text` on a progress message: its text, or its caption once a preview made it a photo (unknown
        after a restart: a text edit Telegram refuses is tried as a caption)."""
        if photo:
            await self.bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=text)
            return
        try:
            await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text)
        except TelegramBadRequest:
            if photo is False:
                raise
            await self.bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=text)

    async def show_preview(self, job: Job, image: bytes, caption: str) -> None:
        """The picture so far on the progress message: the first preview replaces the text message with a photo
        (Telegram cannot add media to a text message), later ones swap its media."""
        photo = BufferedInputFile(image, "stylebot-preview.jpg")
        if job.id in self.photo_progress:
            await self.bot.edit_message_media(chat_id=job.chat_id, message_id=job.progress_message_id,
                                              media=InputMediaPhoto(media=photo, caption=caption))
            return
        msg = await self.bot.send_photo(job.chat_id, photo, caption=caption)
        old, job.progress_message_id = job.progress_message_id, msg.message_id
        await self.store.patient.set_progress_message(job.id, msg.message_id)
        self.photo_progress.add(job.id)
        await quiet(self.bot.delete_message(job.chat_id, old))

    async def follow(self, job: Job, events: AsyncIterator[dict]) -> bytes | None:
        """Show an NST run's progress and previews on the job's progress message; the result's image, or None
        when the stream ended without one."""
        last_edit, last_text = time.monotonic(), language(job).NST_STARTED
        edit, preview = None, None
        try:
            async for event in events:
                if event.get("type") == "result":
                    return event["image"]
                if event.get("type") == "preview":
                    preview = event["image"]  # shown when no other edit is under way; a newer one replaces it
                now = time.monotonic()
                # One progress edit at a time, in the background: a slow or unreachable Bot API (its calls are
                # retried) must not hold up the stream, or the result would wait behind stale progress events.
                if edit is not None and not edit.done():
                    continue
                if preview is not None:
                    edit = asyncio.create_task(quiet(self.show_preview(job, preview, last_text)))
                    preview = None
                elif now - last_edit >= self.interval and event.get("type") == "progress":
                    text = language(job).nst_progress(int(event.get("step", 0)), int(event.get("total", 1)))
                    if text != last_text:
                        last_edit, last_text = now, text
                        edit = asyncio.create_task(quiet(self.edit(
                            job.chat_id, job.progress_message_id, text, photo=job.id in self.photo_progress)))
            return None
        finally:
            if edit is not None and not edit.done():
                edit.cancel()
            self.photo_progress.discard(job.id)

    async def follow_frames(self, job: Job, events: AsyncIterator[dict]) -> dict | None:
        """A clip's frames done on the job's progress message (opened first); the result event, or None when the
        stream ended without one."""
        await self.open(job, language(job).CLIP_STARTED)
        last_edit, edit = time.monotonic(), None
        try:
            async for event in events:
                if event.get("type") == "result":
                    return event
                if (edit is not None and not edit.done()) or time.monotonic() - last_edit < self.interval:
                    continue
                last_edit = time.monotonic()
                text = language(job).clip_progress(int(event["done"]), int(event["total"]))
                edit = asyncio.create_task(quiet(self.edit(job.chat_id, job.progress_message_id, text, photo=False)))
            return None
        finally:
            if edit is not None and not edit.done():
                edit.cancel()

    async def follow_tiles(self, job: Job, events: AsyncIterator[dict]) -> bytes | None:
        """A full-size painting's parts done on the job's progress message (sent at the first part of a painting
        of several); the result's image, or None when the stream ended without one."""
        last_edit, edit = 0.0, None
        size = tuple(job.options.get("photo_size") or (0, 0))
        try:
            async for event in events:
                if event.get("type") == "result":
                    return event["image"]
                busy = edit is not None and not edit.done()
                if busy or event.get("total", 1) <= 1 or time.monotonic() - last_edit < self.interval:
                    continue
                last_edit = time.monotonic()
                text = language(job).tiles_progress(int(event["done"]), int(event["total"]), size)
                edit = asyncio.create_task(quiet(self.show(job, text)))
            return None
        finally:
            if edit is not None and not edit.done():  # let it finish: a message it sent keeps its id in the store
                await asyncio.wait({edit}, timeout=self.interval)
