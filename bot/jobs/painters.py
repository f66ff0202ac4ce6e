"""One painter per kind of job: it has the styles app paint the job's picture and hands the result to delivery."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot.files import TelegramFiles
from bot.jobs.delivery import Delivery
from bot.jobs.helpers import finishing, language, result_format
from bot.jobs.progress import Progress
from bot.jobs.quiet import quiet
from bot.keyboards import save_keyboard
from bot.state import Job
from bot.styles_client import StylesClient, StylesError
from models.error_codes import ErrorCode
from models.limits import FULL

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log
Painter = Callable[[Job, bytes], Awaitable[None]]


class Painters:
    def __init__(self, bot: Bot, styles: StylesClient, files: TelegramFiles, progress: Progress,
                 delivery: Delivery):
        self.bot, self.styles, self.files = bot, styles, files
        self.progress, self.delivery = progress, delivery

    def for_job(self, job: Job) -> Painter:
        if job.kind in ("preset", "all", "saved", "video"):
            return {"preset": self.preset, "all": self.all_presets, "saved": self.saved, "video": self.clip}[job.kind]
        return self.quick_only if job.options.get("own_style") == "quick" else self.nst

    async def preset(self, job: Job, content: bytes) -> None:
        await quiet(self.bot.send_chat_action(job.chat_id, "upload_photo"))
        if job.options["size"] == FULL:
            image = await self._painted(job, self.styles.stylize_stream(job.preset, content, result_format(job), FULL,
                                                                        *finishing(job)))
        else:
            image = await self.styles.stylize(job.preset, content, result_format(job), job.options["size"],
                                              *finishing(job))
        caption = language(job).captions(await self.styles.catalogue()).get(job.preset, job.preset)
        await self.delivery.deliver(job, self.delivery.result_steps(job, image, caption))

    async def all_presets(self, job: Job, content: bytes) -> None:
        await quiet(self.bot.send_chat_action(job.chat_id, "upload_photo"))
        results = await self.styles.stylize_all(content, "JPEG", job.options["size"], *finishing(job),
                                                job.options.get("group", "main"))
        captions = language(job).captions(await self.styles.catalogue())
        await self.delivery.deliver(job, self.delivery.album_steps(job, results, captions))

    async def saved(self, job: Job, content: bytes) -> None:
        """A saved style: the fast model with the style vector the job carries, delivered like a preset."""
        await quiet(self.bot.send_chat_action(job.chat_id, "upload_photo"))
        options = {k: job.options[k] for k in ("size", "strength", "keep_colors")}
        if options["size"] == FULL:
            image = await self._painted(job, self.styles.fast_stream(
                content, None, {**options, "style_vector": job.options["style_vector"]}, result_format(job)))
        else:
            image = await self.styles.fast_vector(content, job.options["style_vector"], options, result_format(job))
        caption = language(job).CAPTION_SAVED.format(name=escape(job.options["style_name"]))
        await self.delivery.deliver(job, self.delivery.result_steps(job, image, caption))

    async def clip(self, job: Job, content: bytes) -> None:
        """A clip: a preset's, a saved style's or the own style image's (quick network), frames done on the
        progress message, sent back the way it came."""
        options = {k: job.options[k] for k in ("strength", "keep_colors")}
        if "style_vector" in job.options:
            options["style_vector"] = job.options["style_vector"]
        style = await self.files.get(job.style_file_id) if job.style_file_id else None
        await quiet(self.bot.send_chat_action(job.chat_id, "upload_video"))
        result = await self.progress.follow_frames(job, self.styles.video(content, job.preset, style, options))
        if result is None:
            raise RuntimeError("the clip ended without a result")
        tx = language(job)
        if job.preset:
            caption = tx.captions(await self.styles.catalogue()).get(job.preset, job.preset)
        elif "style_name" in job.options:
            caption = tx.CAPTION_SAVED.format(name=escape(job.options["style_name"]))
        else:
            caption = tx.CAPTION_CLIP_OWN
        await self.delivery.deliver(job, [self.delivery.clip_step(job, result, caption), self._remove_progress(job)])

    async def _painted(self, job: Job, events) -> bytes:
        """A full-size painting's result, its parts done shown on the job's progress message."""
        image = await self.progress.follow_tiles(job, events)
        if image is None:
            raise RuntimeError("the painting ended without a result")
        return image

    async def _quick_version(self, job: Job, content: bytes, style: bytes, only: bool) -> bytes | None:
        """The fast model's painting, or None when it is not served (the job goes on as an NST job) or, before a
        full painting, when it is busy or its replica was lost (the full painting is what counts)."""
        options, fmt = job.options.get("fast", {}), result_format(job) if only else "JPEG"
        try:
            if options.get("size") == FULL:
                return await self._painted(job, self.styles.fast_stream(content, style, options, fmt))
            return await self.styles.fast(content, style, options, fmt)
        except StylesError as e:
            if e.code == ErrorCode.FAST_UNAVAILABLE or (not only and e.code in (ErrorCode.BUSY, ErrorCode.INTERRUPTED)):
                logger.info("job %d: no quick version (%s)", job.id, e.code)
                return None
            raise

    async def send_quick_version(self, job: Job, content: bytes) -> None:
        """Before a full painting: the fast model's, sent once (a job resumed after a restart, or back from the
        waiting line, has its progress message already), best effort."""
        quick = await self._quick_version(job, content, await self.files.get(job.style_file_id), only=False)
        if quick is not None:
            await quiet(self.bot.send_photo(job.chat_id, BufferedInputFile(quick, "stylebot-quick.jpg"),
                                            caption=language(job).CAPTION_QUICK,
                                            reply_markup=save_keyboard(job.id, language(job))))

    async def quick_only(self, job: Job, content: bytes) -> None:
        """Own style, quick only: the fast model's painting is the result; without the fast model, Gatys'."""
        quick = await self._quick_version(job, content, await self.files.get(job.style_file_id), only=True)
        if quick is None:
            await self.nst(job, content)
            return
        steps = self.delivery.result_steps(job, quick, language(job).CAPTION_FAST, save_keyboard(job.id, language(job)))
        await self.delivery.deliver(job, [*steps, self._remove_progress(job)])

    async def nst(self, job: Job, content: bytes) -> None:
        """Own style, Gatys' optimisation: its progress and the picture so far on the progress message."""
        style = await self.files.get(job.style_file_id)
        await self.progress.open(job, language(job).NST_STARTED)
        result = await self.progress.follow(job, self.styles.nst(content, style, job.options.get("nst", {}),
                                                                 result_format(job), self.progress.previews))
        if result is None:
            raise RuntimeError("the NST stream ended without a result")

        # Save this style only while the fast model, which paints saved styles, is served
        save = save_keyboard(job.id, language(job)) if await self.styles.fast_served() else None
        steps = self.delivery.result_steps(job, result, language(job).CAPTION_NST, save)
        await self.delivery.deliver(job, [*steps, self._remove_progress(job)])

    def _remove_progress(self, job: Job):
        """The delivery's last step: the job's progress message goes (when it has one)."""
        async def remove_progress() -> None:
            if job.progress_message_id:
                await quiet(self.bot.delete_message(job.chat_id, job.progress_message_id))
        return remove_progress
