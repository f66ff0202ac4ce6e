"""Delivery: a finished job's result goes out step by step (one message each), at most once.

Delivery first moves the job from `running` to `delivering` with a conditional update: a job cancelled in the
meantime fails that move and its result is dropped.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError
from aiogram.types import BufferedInputFile, InputMediaPhoto

from bot.jobs.helpers import delivery_reason, language, shrunk_note, wants_file
from bot.jobs.outcomes import Outcomes
from bot.jobs.quiet import quiet
from bot.limits import ALBUM_MAX, DELIVERY_PATIENCE_S
from bot.state import AsyncStore, Job
from bot.telegram_fit import fit_document, fit_photo

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log
Step = Callable[[], Awaitable[None]]      # one message of a delivery


class Delivery:
    def __init__(self, bot: Bot, store: AsyncStore, outcomes: Outcomes, patience: float = DELIVERY_PATIENCE_S,
                 retry_interval: float = 10.0):
        self.bot, self.store, self.outcomes = bot, store, outcomes
        self.patience = patience      # how long a finished result waits out a Bot API outage
        self.retry_interval = retry_interval

    async def deliver(self, job: Job, steps: list[Step]) -> None:
        """Claim the job for delivery (a cancelled job cannot be claimed), send it step by step, mark it done.

        While the Bot API is unreachable a step is retried for up to `patience` seconds, and a step that went out
        is never sent again. A send that fails otherwise (Telegram refused the photo, a 429 beyond the retry cap,
        5xx past the retries, an outage longer than the patience) ends the job as failed and tells the person,
        so the chat never stays stuck in `delivering`."""
        if not await self.store.patient.move_job(job.id, "delivering", ("running",)):
            return
        try:
            for step in steps:
                await self._patiently(step)
        except (asyncio.CancelledError, TelegramForbiddenError):
            raise
        except Exception as e:
            reason = delivery_reason(e)
            logger.warning("job %d: delivery failed: %s", job.id, reason)
            if await self.store.patient.move_job(job.id, "failed", ("delivering",), f"delivery: {reason}"):
                self.outcomes.ended(job, "failed")
                await quiet(self.bot.send_message(job.chat_id, language(job).DELIVERY_FAILED.format(reason=reason)))
            return
        if await self.store.patient.move_job(job.id, "done", ("delivering",)):
            self.outcomes.ended(job, "done")

    async def _patiently(self, step: Step) -> None:
        deadline = time.monotonic() + self.patience
        while True:
            try:
                return await step()
            except TelegramNetworkError:
                if time.monotonic() >= deadline:
                    raise
                logger.info("Telegram unreachable; retrying the delivery in %.0fs", self.retry_interval)
                await asyncio.sleep(self.retry_interval)

    def result_steps(self, job: Job, image: bytes, caption: str, markup=None) -> list[Step]:
        """One picture: as a photo, and as a file too when the person asked for files or sent the photo as one
        (then the file is the painting at the photo's own size). Each is made to fit Telegram's limits
        (bot/telegram_fit.py); a picture shrunk to fit says so in its caption."""
        tx = language(job)
        photo_went_as_file = False

        async def photo() -> None:
            nonlocal photo_went_as_file
            fitted = await asyncio.to_thread(fit_photo, image)
            text = caption + shrunk_note(fitted, tx)
            try:
                await self.bot.send_photo(job.chat_id, BufferedInputFile(fitted.data, f"stylebot.{fitted.ext}"),
                                          caption=text, reply_markup=markup)
            except TelegramBadRequest as e:
                # Telegram refuses some photos (PHOTO_INVALID_DIMENSIONS, too large): the same picture as a file
                # usually goes through. A file sent anyway needs no second copy.
                logger.info("job %d: photo refused (%s); sending it as a file", job.id, e.message)
                await self._send_file(job, image, caption, markup)
                photo_went_as_file = True

        async def full_size_file() -> None:
            if wants_file(job) and not photo_went_as_file:
                await self._send_file(job, image, tx.CAPTION_FILE)

        return [photo, full_size_file]

    def clip_step(self, job: Job, result: dict, caption: str) -> Step:
        """The painted clip, sent the way it came: an animation (a GIF), a video, or a round video note (which
        takes no caption)."""
        how = job.options.get("clip", "video")
        video = BufferedInputFile(result["video"], f"stylebot-{job.preset or 'own'}.mp4")
        size = {"width": result["width"], "height": result["height"],
                "duration": max(1, round(result["frames"] / result["fps"]))}

        async def send() -> None:
            if how == "video_note":
                await self.bot.send_video_note(job.chat_id, video, duration=size["duration"],
                                               length=min(result["width"], result["height"]))
            elif how == "animation":
                await self.bot.send_animation(job.chat_id, video, caption=caption, **size)
            else:
                await self.bot.send_video(job.chat_id, video, caption=caption, supports_streaming=True, **size)
        return send

    async def _send_file(self, job: Job, image: bytes, caption: str, markup=None) -> None:
        fitted = await asyncio.to_thread(fit_document, image)
        await self.bot.send_document(job.chat_id,
                                     BufferedInputFile(fitted.data, f"stylebot-{job.preset or 'own'}.{fitted.ext}"),
                                     caption=caption + shrunk_note(fitted, language(job)), reply_markup=markup)

    def album_steps(self, job: Job, results: dict[str, bytes], captions: dict[str, str]) -> list[Step]:
        """Every style's picture in albums of up to ALBUM_MAX, then a notice naming the styles left out."""
        items = list(results.items())

        def album(chunk: list[tuple[str, bytes]]) -> Step:
            async def send() -> None:
                if len(chunk) == 1:  # an album needs at least two items
                    name, data = chunk[0]
                    await self.bot.send_photo(job.chat_id, BufferedInputFile(data, f"{name}.jpg"),
                                              caption=captions.get(name, name))
                    return
                await self.bot.send_media_group(job.chat_id, [
                    InputMediaPhoto(media=BufferedInputFile(data, f"{name}.jpg"), caption=captions.get(name, name))
                    for name, data in chunk])
            return send

        async def left_out() -> None:
            missing = [captions.get(n, n) for n in job.options.get("presets", []) if n not in results]
            if missing:
                notice = language(job).ALBUM_LEFT_OUT.format(names=", ".join(missing))
                await quiet(self.bot.send_message(job.chat_id, notice))

        return [album(items[i:i + ALBUM_MAX]) for i in range(0, len(items), ALBUM_MAX)] + [left_out]
