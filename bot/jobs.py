"""The job lifecycle: one running job per chat, run in the background, delivered at most once.

A job's inputs are Telegram file_ids, so after a restart it can be run again from the state store alone.
Delivery first moves the job from `running` to `delivering` with a conditional update: a job cancelled in the
meantime fails that move and its result is dropped.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from html import escape

from aiogram import Bot
from aiogram.exceptions import (TelegramAPIError, TelegramBadRequest, TelegramForbiddenError,
                                TelegramNetworkError, TelegramRetryAfter, TelegramServerError)
from aiogram.types import BufferedInputFile, InputMediaPhoto

from bot import metrics, texts
from bot.files import DownloadError, TelegramFiles
from bot.keyboards import content_tag, retry_keyboard, save_keyboard
from bot.limits import ALBUM_MAX, BUSY_RETRY_S, DELIVERY_PATIENCE_S
from bot.state import ACTIVE, AsyncStore, Job, StoreUnavailable
from bot.styles_client import StylesClient, StylesError
from models.error_codes import IMAGE_CODES, ErrorCode
from bot.waiting_line import WaitingLine

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log
Step = Callable[[], Awaitable[None]]      # one message of a delivery


class JobRunner:
    def __init__(self, bot: Bot, store: AsyncStore, styles: StylesClient, progress_interval: float = 3.0,
                 nst_caps: dict[str, int] | None = None, delivery_patience: float = DELIVERY_PATIENCE_S,
                 delivery_retry_interval: float = 10.0, files: TelegramFiles | None = None,
                 owner: str = "this-replica", lease_s: float = 30.0, preview_every_s: float = 10.0,
                 max_previews: int = 3, queue_poll_s: float = 5.0, queue_patience_s: float = 900.0):
        self.bot, self.store, self.styles = bot, store, styles
        self.files = files or TelegramFiles(bot)
        self.progress_interval = progress_interval
        self.delivery_patience = delivery_patience      # how long a finished result waits out a Bot API outage
        self.delivery_retry_interval = delivery_retry_interval
        self.nst_caps = nst_caps or {}      # e.g. {"size": 256, "steps": 100} on a slow host
        self.tasks: dict[int, asyncio.Task] = {}
        self.started: dict[int, float] = {}  # job id -> when this replica started running it
        # Each running job's lease in the state store: renewed while it runs here, so another replica takes the
        # job over only when this one died (`adopt_orphans`).
        self.owner, self.lease_s = owner, lease_s
        self.held: dict[int, asyncio.Task] = {}  # job id -> its task here
        # NST progress shows the picture so far: the progress message becomes a photo at the first preview
        self.previews = {"every_s": preview_every_s, "max": max_previews}
        self.photo_progress: set[int] = set()    # jobs whose progress message is a photo now
        # jobs the styles app turned away wait here; the first in line tries again every `queue_poll_s`
        self.lines = {"nst": WaitingLine(), "preset": WaitingLine()}
        self.queue_poll_s, self.queue_patience_s = queue_poll_s, queue_patience_s   # then "busy, try later"

    # -- control --------------------------------------------------------------------------------------------
    async def start(self, job: Job) -> bool:
        """Run the job here; False when another live replica holds its lease (and runs it), or when the store
        does not answer (`adopt_orphans` here or elsewhere starts the job a lease later)."""
        try:
            if job.id in self.held or not await self.store.acquire_lease(f"job:{job.id}", self.owner, self.lease_s):
                return False
        except StoreUnavailable as e:
            logger.warning("job %d not started yet: %s", job.id, e)
            return False
        if job.id in self.held:   # started meanwhile, while the lease was asked for
            return False
        task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
        self.tasks[job.chat_id] = self.held[job.id] = task
        task.add_done_callback(lambda t, j=job: self._forget(j, t))
        metrics.jobs_in_flight.set(len(self.tasks))
        return True

    def _forget(self, job: Job, task: asyncio.Task) -> None:
        if self.tasks.get(job.chat_id) is task:
            del self.tasks[job.chat_id]
        self.held.pop(job.id, None)
        metrics.jobs_in_flight.set(len(self.tasks))
        self.store.release_lease_soon(f"job:{job.id}", self.owner)   # another replica may take it over at once

    async def keep_jobs(self) -> None:
        """Renew the leases of the jobs running here; stop a job that was cancelled on another replica or whose
        lease was lost (the store was unreachable for a whole lease, and another replica took the job)."""
        for job_id, task in list(self.held.items()):
            job = await self.store.job(job_id)
            kept = await self.store.acquire_lease(f"job:{job_id}", self.owner, self.lease_s)
            if not kept or job is None or job.status not in ACTIVE:
                logger.info("job %d: %s elsewhere; stopping it here", job_id,
                            "taken over" if not kept else "ended")
                task.cancel()

    def _ended(self, job: Job, outcome: str) -> None:
        """Count a job that reached an end state here; a delivered one also records its time to result."""
        metrics.jobs.inc(tags={"kind": job.kind, "outcome": outcome})
        started = self.started.pop(job.id, None)
        if outcome == "done" and started is not None:
            metrics.time_to_result.observe(time.monotonic() - started, tags={"kind": job.kind})

    async def cancel(self, chat_id: int, tx: texts.Texts) -> Job | None:
        """Cancel the chat's job; returns it when it was cancelled before its result went out."""
        job = await self.store.active_job(chat_id)
        if job is None or not await self.store.move_job(job.id, "cancelled", ("queued", "running"),
                                                        "cancelled by user"):
            return None
        self._ended(job, "cancelled")
        task = self.tasks.get(chat_id)
        if task is not None:
            task.cancel()
        if job.progress_message_id:
            await self._quiet(self._edit_progress(chat_id, job.progress_message_id, tx.CANCELLED))
        return job

    async def adopt_orphans(self) -> None:
        """Take over unfinished jobs no live replica runs (after a restart, or when another replica died and its
        leases expired): run them again; a job caught mid-delivery is reported instead of resent. A queued job
        younger than a lease is left to the replica that is starting it."""
        for job in await self.store.unfinished_jobs():
            if job.id in self.held or (job.status == "queued" and time.time() - job.created < self.lease_s):
                continue
            if not await self.store.acquire_lease(f"job:{job.id}", self.owner, self.lease_s):
                continue  # a live replica runs it
            if job.status == "delivering":
                if await self.store.move_job(job.id, "interrupted", ("delivering",), "restart during delivery"):
                    self._ended(job, "interrupted")
                    await self._quiet(self.bot.send_message(job.chat_id, language(job).RESTARTED_UNSURE))
                self.store.release_lease_soon(f"job:{job.id}", self.owner)
                continue
            logger.info("resuming job %d (%s) for a chat", job.id, job.kind)
            if job.kind == "nst":
                await self._quiet(self.bot.send_message(job.chat_id, language(job).RESTARTED_RESUMING))
            await self.start(job)

    async def shutdown(self) -> None:
        tasks = list(self.tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _quiet(self, coro) -> None:
        try:
            await coro
        except TelegramForbiddenError:
            pass
        except TelegramAPIError as e:
            logger.info("Telegram call failed (ignored): %s", type(e).__name__)

    # -- running ------------------------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        if not await self.store.patient.move_job(job.id, "running", ("queued", "running")):
            return
        self.started.setdefault(job.id, time.monotonic())
        try:
            content = await self.files.get(job.content_file_id)
            await self._paint(job, content)
        except asyncio.CancelledError:
            raise
        except TelegramForbiddenError:
            closed = await self.store.patient.close_chat_jobs(job.chat_id, "the person blocked the bot")
            if closed:
                self._ended(job, "closed")
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

    def _painter(self, job: Job) -> Callable[[Job, bytes], Awaitable[None]]:
        if job.kind in ("preset", "all", "saved"):
            return {"preset": self._run_preset, "all": self._run_all, "saved": self._run_saved}[job.kind]
        return self._run_quick_only if job.options.get("own_style") == "quick" else self._run_nst

    async def _paint(self, job: Job, content: bytes) -> None:
        """Run the job on the styles app. When it is busy the job waits in the bot's line (in arrival order,
        the person seeing their place) instead of failing; a job arriving while others wait queues behind them."""
        if job.kind == "nst" and job.options.get("own_style") == "both" and job.progress_message_id is None:
            await self._send_quick_version(job, content)   # the quick version does not wait for the optimiser
        line = self.lines["nst" if job.kind == "nst" else "preset"]
        if len(line):
            await self._wait_in_line(job, line, retry_at=time.monotonic())
        turned_away = None
        while True:
            started = time.monotonic()
            try:
                await self._paint_once(job, content)
            except StylesError as e:
                turned_away = turned_away or started
                if e.code != ErrorCode.BUSY or started - turned_away > self.queue_patience_s:
                    raise
                retry_in = min(float(e.retry_after or BUSY_RETRY_S), self.queue_poll_s)
                await self._wait_in_line(job, line, retry_at=time.monotonic() + retry_in)
                continue
            line.record(time.monotonic() - started)
            break
        if job.kind != "nst" and job.progress_message_id:   # the waiting-line message of a preset job
            await self._quiet(self.bot.delete_message(job.chat_id, job.progress_message_id))

    async def _wait_in_line(self, job: Job, line: WaitingLine, retry_at: float) -> None:
        """Wait until the job is first in line and `retry_at` has passed, showing its place and an estimate in
        one message (the job's progress message: /cancel edits it too). The job leaves the line as it tries
        again, or when it is cancelled."""
        await line.join(job.id, job.created)
        tx, shown = language(job), None
        try:
            while True:
                place, now = line.position(job.id), time.monotonic()
                if place == 1 and now >= retry_at:
                    return
                text = tx.QUEUED.format(place=tx.place(place), seconds=line.estimate(place, BUSY_RETRY_S))
                if text != shown:
                    await self._show_in_line(job, text)
                    shown = text
                await line.wait_for_change(max(retry_at - now, 0.2) if place == 1 else self.queue_poll_s)
        finally:
            await line.leave(job.id)

    async def _show_in_line(self, job: Job, text: str) -> None:
        if job.progress_message_id is None:
            msg = await self.bot.send_message(job.chat_id, text)
            job.progress_message_id = msg.message_id
            await self.store.patient.set_progress_message(job.id, msg.message_id)
        else:
            await self._quiet(self._edit_progress(job.chat_id, job.progress_message_id, text))

    async def _paint_once(self, job: Job, content: bytes) -> None:
        """One run; when the replica doing it dies (Serve starts another), run it once more."""
        paint = self._painter(job)
        try:
            await paint(job, content)
        except StylesError as e:
            if e.code != ErrorCode.INTERRUPTED:
                raise
            logger.warning("job %d: the replica painting it died; running it again", job.id)
            if job.progress_message_id:
                await self._quiet(self._edit_progress(job.chat_id, job.progress_message_id,
                                                      language(job).INTERRUPTED_RESTARTING))
            await paint(job, content)

    async def _fail(self, job: Job, message: str, reason: str, markup=None) -> None:
        if await self.store.patient.move_job(job.id, "failed", ("queued", "running"), reason):
            self._ended(job, "failed")
            if job.progress_message_id:
                await self._quiet(self.bot.delete_message(job.chat_id, job.progress_message_id))
            await self._quiet(self.bot.send_message(job.chat_id, message, reply_markup=markup))

    async def _deliver(self, job: Job, steps: list[Step]) -> None:
        """Claim the job for delivery (a cancelled job cannot be claimed), send it step by step, mark it done.

        While the Bot API is unreachable a step is retried for up to `delivery_patience` seconds, and a step that
        went out is never sent again. A send that fails otherwise (Telegram refused the photo, a 429 beyond the
        retry cap, 5xx past the retries, an outage longer than the patience) ends the job as failed and tells the
        person, so the chat never stays stuck in `delivering`."""
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
                self._ended(job, "failed")
                await self._quiet(self.bot.send_message(job.chat_id,
                                                        language(job).DELIVERY_FAILED.format(reason=reason)))
            return
        if await self.store.patient.move_job(job.id, "done", ("delivering",)):
            self._ended(job, "done")

    async def _patiently(self, step: Step) -> None:
        deadline = time.monotonic() + self.delivery_patience
        while True:
            try:
                return await step()
            except TelegramNetworkError:
                if time.monotonic() >= deadline:
                    raise
                logger.info("Telegram unreachable; retrying the delivery in %.0fs", self.delivery_retry_interval)
                await asyncio.sleep(self.delivery_retry_interval)

    def _result_steps(self, job: Job, image: bytes, caption: str, markup=None) -> list[Step]:
        ext = "png" if job.options.get("send_file") else "jpg"
        photo_went_as_file = False

        async def photo() -> None:
            nonlocal photo_went_as_file
            try:
                await self.bot.send_photo(job.chat_id, BufferedInputFile(image, f"stylebot.{ext}"), caption=caption,
                                          reply_markup=markup)
            except TelegramBadRequest as e:
                # Telegram refuses some photos (PHOTO_INVALID_DIMENSIONS, too large): the same picture as a file
                # usually goes through. A file sent anyway (send_file) needs no second copy.
                logger.info("job %d: photo refused (%s); sending it as a file", job.id, e.message)
                await self.bot.send_document(job.chat_id, BufferedInputFile(image, f"stylebot.{ext}"),
                                             caption=caption, reply_markup=markup)
                photo_went_as_file = True

        async def full_size_file() -> None:
            if job.options.get("send_file") and not photo_went_as_file:
                await self.bot.send_document(job.chat_id,
                                             BufferedInputFile(image, f"stylebot-{job.preset or 'own'}.png"),
                                             caption=language(job).CAPTION_FILE)

        return [photo, full_size_file]

    async def _run_preset(self, job: Job, content: bytes) -> None:
        await self._quiet(self.bot.send_chat_action(job.chat_id, "upload_photo"))
        image = await self.styles.stylize(job.preset, content, result_format(job), job.options["size"],
                                          *finishing(job))
        caption = language(job).captions(await self.styles.catalogue()).get(job.preset, job.preset)
        await self._deliver(job, self._result_steps(job, image, caption))

    async def _run_all(self, job: Job, content: bytes) -> None:
        await self._quiet(self.bot.send_chat_action(job.chat_id, "upload_photo"))
        results = await self.styles.stylize_all(content, "JPEG", job.options["size"], *finishing(job),
                                                job.options.get("group", "main"))
        captions = language(job).captions(await self.styles.catalogue())
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
                await self._quiet(self.bot.send_message(job.chat_id, notice))

        await self._deliver(job, [album(items[i:i + ALBUM_MAX]) for i in range(0, len(items), ALBUM_MAX)]
                            + [left_out])

    async def _run_saved(self, job: Job, content: bytes) -> None:
        """A saved style: the fast model with the style vector the job carries, delivered like a preset."""
        await self._quiet(self.bot.send_chat_action(job.chat_id, "upload_photo"))
        options = {k: job.options[k] for k in ("size", "strength", "keep_colors")}
        image = await self.styles.fast_vector(content, job.options["style_vector"], options, result_format(job))
        caption = language(job).CAPTION_SAVED.format(name=escape(job.options["style_name"]))
        await self._deliver(job, self._result_steps(job, image, caption))

    async def _quick_version(self, job: Job, content: bytes, style: bytes, only: bool) -> bytes | None:
        """The fast model's painting, or None when it is not served (the job goes on as an NST job) or, before a
        full painting, when it is busy or its replica was lost (the full painting is what counts)."""
        try:
            return await self.styles.fast(content, style, job.options.get("fast", {}),
                                          result_format(job) if only else "JPEG")
        except StylesError as e:
            if e.code == ErrorCode.FAST_UNAVAILABLE or (not only and e.code in (ErrorCode.BUSY, ErrorCode.INTERRUPTED)):
                logger.info("job %d: no quick version (%s)", job.id, e.code)
                return None
            raise

    async def _send_quick_version(self, job: Job, content: bytes) -> None:
        """Before a full painting: the fast model's, sent once (a job resumed after a restart, or back from the
        waiting line, has its progress message already), best effort."""
        quick = await self._quick_version(job, content, await self.files.get(job.style_file_id), only=False)
        if quick is not None:
            await self._quiet(self.bot.send_photo(job.chat_id, BufferedInputFile(quick, "stylebot-quick.jpg"),
                                                  caption=language(job).CAPTION_QUICK,
                                                  reply_markup=save_keyboard(job.id, language(job))))

    async def _run_quick_only(self, job: Job, content: bytes) -> None:
        """Own style, quick only: the fast model's painting is the result; without the fast model, Gatys'."""
        quick = await self._quick_version(job, content, await self.files.get(job.style_file_id), only=True)
        if quick is None:
            await self._run_nst(job, content)
            return
        await self._deliver(job, self._result_steps(job, quick, language(job).CAPTION_FAST,
                                                    save_keyboard(job.id, language(job))))

    async def _run_nst(self, job: Job, content: bytes) -> None:
        style = await self.files.get(job.style_file_id)
        if job.progress_message_id is None:
            msg = await self.bot.send_message(job.chat_id, language(job).NST_STARTED)
            job.progress_message_id = msg.message_id
            await self.store.patient.set_progress_message(job.id, msg.message_id)
        last_edit, last_text = time.monotonic(), language(job).NST_STARTED
        result, edit, preview = None, None, None
        try:
            async for event in self.styles.nst(content, style, job.options.get("nst", {}), result_format(job),
                                               self.previews):
                if event.get("type") == "result":
                    result = event["image"]
                    break
                if event.get("type") == "preview":
                    preview = event["image"]  # shown when no other edit is under way; a newer one replaces it
                now = time.monotonic()
                # One progress edit at a time, in the background: a slow or unreachable Bot API (its calls are
                # retried) must not hold up the stream, or the result would wait behind stale progress events.
                if edit is not None and not edit.done():
                    continue
                if preview is not None:
                    edit = asyncio.create_task(self._quiet(self._show_preview(job, preview, last_text)))
                    preview = None
                elif now - last_edit >= self.progress_interval and event.get("type") == "progress":
                    text = language(job).nst_progress(int(event.get("step", 0)), int(event.get("total", 1)))
                    if text != last_text:
                        last_edit, last_text = now, text
                        edit = asyncio.create_task(self._quiet(self._edit_progress(
                            job.chat_id, job.progress_message_id, text, photo=job.id in self.photo_progress)))
        finally:
            if edit is not None and not edit.done():
                edit.cancel()
            self.photo_progress.discard(job.id)
        if result is None:
            raise RuntimeError("the NST stream ended without a result")

        async def remove_progress() -> None:
            await self._quiet(self.bot.delete_message(job.chat_id, job.progress_message_id))

        # Save this style only while the fast model, which paints saved styles, is served
        save = save_keyboard(job.id, language(job)) if await self.styles.fast_served() else None
        await self._deliver(job, [*self._result_steps(job, result, language(job).CAPTION_NST, save), remove_progress])


    async def _edit_progress(self, chat_id: int, message_id: int, text: str, photo: bool | None = None) -> None:
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

    async def _show_preview(self, job: Job, image: bytes, caption: str) -> None:
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
        await self._quiet(self.bot.delete_message(job.chat_id, old))


def finishing(job: Job) -> tuple[float, bool]:
    """A preset job's strength and keep-colours (jobs saved before these settings existed: the painting)."""
    return job.options.get("strength", 1.0), job.options.get("keep_colors", False)


def result_format(job: Job) -> str:
    return "PNG" if job.options.get("send_file") else "JPEG"


def delivery_reason(e: BaseException) -> str:
    """A short, token-free reason for a failed send: Telegram's own description, or the error's kind."""
    if isinstance(e, (TelegramBadRequest, TelegramRetryAfter, TelegramServerError)):  # Telegram's own words
        return e.message.removeprefix("Bad Request: ")[:120]
    return type(e).__name__  # network errors can quote the request: keep only the kind




def language(job: Job) -> texts.Texts:
    """The texts of the language the person spoke when they started the job."""
    return texts.for_language(job.options.get("lang"))


def refusal_text(e: StylesError, tx: texts.Texts) -> str:
    """What the person reads when the styles app refuses a job: the bot's words for every ErrorCode."""
    own = {ErrorCode.NST_UNAVAILABLE: tx.UNAVAILABLE,
           ErrorCode.FAST_UNAVAILABLE: tx.MY_STYLES_UNAVAILABLE,  # a saved style's job (own style images fall back)
           ErrorCode.STYLE_NOT_TRANSFERRED: tx.NST_NOT_TRANSFERRED, ErrorCode.INTERRUPTED: tx.INTERRUPTED}
    if e.code == ErrorCode.BUSY:
        return tx.BUSY.format(seconds=e.retry_after or BUSY_RETRY_S)
    if e.code in own:
        return own[e.code]
    if e.code in IMAGE_CODES:
        return tx.bad_image(e.message, e.code)
    return tx.REQUEST_REFUSALS.get(str(e.code), e.message)