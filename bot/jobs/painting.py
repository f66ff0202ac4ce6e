"""A job's run: fetch its picture, paint it in its turn (once more when the painting replica died), and turn
what went wrong into the person's words and a failed job."""
from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError

from bot.files import DownloadError, TelegramFiles
from bot.jobs.helpers import language, refusal_text
from bot.jobs.outcomes import Outcomes
from bot.jobs.painters import Painters
from bot.jobs.progress import Progress
from bot.jobs.quiet import quiet
from bot.jobs.waiting_room import WaitingRoom
from bot.keyboards import content_tag, retry_keyboard
from bot.state import AsyncStore, Job
from bot.styles_client import StylesError
from models.error_codes import ErrorCode

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log


class Painting:
    def __init__(self, bot: Bot, store: AsyncStore, files: TelegramFiles, outcomes: Outcomes, progress: Progress,
                 waiting_room: WaitingRoom, painters: Painters):
        self.bot, self.store, self.files, self.outcomes = bot, store, files, outcomes
        self.progress, self.waiting_room, self.painters = progress, waiting_room, painters

    async def run(self, job: Job) -> None:
        if not await self.store.patient.move_job(job.id, "running", ("queued", "running")):
            return
        self.outcomes.began(job)
        try:
            content = await self.files.get(job.content_file_id)
            await self._paint(job, content)
        except asyncio.CancelledError:
            raise
        except TelegramForbiddenError:
            closed = await self.store.patient.close_chat_jobs(job.chat_id, "the person blocked the bot")
            if closed:
                self.outcomes.ended(job, "closed")
            logger.info("chat blocked the bot; closed %d job(s)", closed)
        except StylesError as e:
            retry = None
            if e.code in (ErrorCode.STYLE_NOT_TRANSFERRED, ErrorCode.INTERRUPTED) and job.kind == "nst":
                retry = retry_keyboard(content_tag(job.content_file_id), job.id, language(job))
            await self._fail(job, refusal_text(e, language(job)), e.code, retry)
        except DownloadError as e:
            tx = language(job)
            await self._fail(job, tx.FILE_TOO_BIG if str(e) == "too_big" else tx.DOWNLOAD_FAILED,
                             f"download: {e}")
        except Exception as e:
            logger.exception("job %d failed", job.id)
            await self._fail(job, language(job).FAILED, type(e).__name__)

    async def _paint(self, job: Job, content: bytes) -> None:
        """Run the job on the styles app, in its turn in the bot's waiting line when the app is busy."""
        if job.kind == "nst" and job.options.get("own_style") == "both" and job.progress_message_id is None:
            await self.painters.send_quick_version(job, content)   # the quick version does not wait for the optimiser
        await self.waiting_room.take_turn(job, lambda: self._paint_once(job, content))
        if job.kind != "nst" and job.progress_message_id:   # the waiting-line message of a preset job
            await quiet(self.bot.delete_message(job.chat_id, job.progress_message_id))

    async def _paint_once(self, job: Job, content: bytes) -> None:
        """One run; when the replica doing it dies (Serve starts another), run it once more."""
        paint = self.painters.for_job(job)
        try:
            await paint(job, content)
        except StylesError as e:
            if e.code != ErrorCode.INTERRUPTED:
                raise
            logger.warning("job %d: the replica painting it died; running it again", job.id)
            if job.progress_message_id:
                await quiet(self.progress.edit(job.chat_id, job.progress_message_id,
                                               language(job).INTERRUPTED_RESTARTING))
            await paint(job, content)

    async def _fail(self, job: Job, message: str, reason: str, markup=None) -> None:
        if await self.store.patient.move_job(job.id, "failed", ("queued", "running"), reason):
            self.outcomes.ended(job, "failed")
            if job.progress_message_id:
                await quiet(self.bot.delete_message(job.chat_id, job.progress_message_id))
            await quiet(self.bot.send_message(job.chat_id, message, reply_markup=markup))
