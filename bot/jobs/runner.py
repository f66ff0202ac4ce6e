"""The job lifecycle: one running job per chat, run in the background under its lease, delivered at most once.

A job's inputs are Telegram file_ids, so after a restart it can be run again from the state store alone.
"""
from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot

from bot import metrics, texts
from bot.files import TelegramFiles
from bot.jobs.delivery import Delivery
from bot.jobs.helpers import language
from bot.jobs.outcomes import Outcomes
from bot.jobs.painters import Painters
from bot.jobs.painting import Painting
from bot.jobs.progress import Progress
from bot.jobs.quiet import quiet
from bot.jobs.waiting_room import WaitingRoom
from bot.limits import DELIVERY_PATIENCE_S
from bot.state import ACTIVE, AsyncStore, Job, StoreUnavailable
from bot.styles_client import StylesClient

logger = logging.getLogger("ray.serve.stylebot")  # a child of Serve's logger: lands in the replica log


class JobRunner:
    def __init__(self, bot: Bot, store: AsyncStore, styles: StylesClient, progress_interval: float = 3.0,
                 nst_caps: dict[str, int] | None = None, delivery_patience: float = DELIVERY_PATIENCE_S,
                 delivery_retry_interval: float = 10.0, files: TelegramFiles | None = None,
                 owner: str = "this-replica", lease_s: float = 30.0, preview_every_s: float = 10.0,
                 max_previews: int = 3, queue_poll_s: float = 5.0, queue_patience_s: float = 900.0):
        self.bot, self.store, self.styles = bot, store, styles
        self.files = files or TelegramFiles(bot)
        self.nst_caps = nst_caps or {}      # e.g. {"size": 256, "steps": 100} on a slow host
        self.tasks: dict[int, asyncio.Task] = {}
        # Each running job's lease in the state store: renewed while it runs here, so another replica takes the
        # job over only when this one died (`adopt_orphans`).
        self.owner, self.lease_s = owner, lease_s
        self.held: dict[int, asyncio.Task] = {}  # job id -> its task here
        self.outcomes = Outcomes()
        self.progress = Progress(bot, store, progress_interval, preview_every_s, max_previews)
        delivery = Delivery(bot, store, self.outcomes, delivery_patience, delivery_retry_interval)
        self.painting = Painting(bot, store, self.files, self.outcomes, self.progress,
                                 WaitingRoom(self.progress, queue_poll_s, queue_patience_s),
                                 Painters(bot, styles, self.files, self.progress, delivery))

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
        task = asyncio.create_task(self.painting.run(job), name=f"job-{job.id}")
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

    async def cancel(self, chat_id: int, tx: texts.Texts) -> Job | None:
        """Cancel the chat's job; returns it when it was cancelled before its result went out."""
        job = await self.store.active_job(chat_id)
        if job is None or not await self.store.move_job(job.id, "cancelled", ("queued", "running"),
                                                        "cancelled by user"):
            return None
        self.outcomes.ended(job, "cancelled")
        task = self.tasks.get(chat_id)
        if task is not None:
            task.cancel()
        if job.progress_message_id:
            await quiet(self.progress.edit(chat_id, job.progress_message_id, tx.CANCELLED))
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
                    self.outcomes.ended(job, "interrupted")
                    await quiet(self.bot.send_message(job.chat_id, language(job).RESTARTED_UNSURE))
                self.store.release_lease_soon(f"job:{job.id}", self.owner)
                continue
            logger.info("resuming job %d (%s) for a chat", job.id, job.kind)
            if job.kind == "nst":
                await quiet(self.bot.send_message(job.chat_id, language(job).RESTARTED_RESUMING))
            await self.start(job)

    async def shutdown(self) -> None:
        tasks = list(self.tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
