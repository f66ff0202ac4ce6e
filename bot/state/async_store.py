"""The state store for the bot's event loop: every call runs the sync store's method (bot/state/store.py) in the
store's own bounded thread pool and waits for it at most a few seconds, so a Redis that stalls or a SQLite file
another process has locked never stalls the loop, the webhook or the other chats. A call that times out or cannot
reach the store raises `StoreUnavailable`.

A call that timed out may still run to its end in its thread (a stalled Redis runs the command it was sent once
it resumes; a locked SQLite file runs it once the lock goes): `StoreUnavailable.late` is that call. The store's
steps are conditional, so a late one is harmless or found: a late claim makes Telegram's resend a duplicate (the
bot handles the pending update then), a job created late is cancelled (bot/handlers/launch.py), and a patient
`move_job` checks whether an earlier attempt already moved the job.
"""
from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from bot.state.records import JOB_RETENTION_S, MAX_SAVED_STYLES, UPDATE_RETENTION_S, ChatState, Job, SavedStyle
from bot.state.store import StateStore

logger = logging.getLogger("ray.serve.stylebot")
T = TypeVar("T")
CALL_TIMEOUT_S = 5.0          # a healthy store answers in milliseconds
THREADS = 8


class StoreUnavailable(Exception):
    """The state store did not answer in time, or could not be reached (the message names only the step).
    `late`: the call, when it timed out but runs on in its thread (it may still write what it was asked to)."""

    def __init__(self, message: str, late: Future | None = None):
        super().__init__(message)
        self.late = late


class AsyncStore:
    """`await store.chat(1)` and so on, for each method of the StateStore contract. `store.patient` is the same
    store retrying each call that finds the store unavailable, for up to `PATIENCE_S`: for steps that must not be
    dropped and may run twice (marking an update handled, a job's moves while it is delivered). Not for claims:
    a retried claim cannot tell its own late first attempt from another replica's."""

    PATIENCE_S = 600.0

    def __init__(self, store: StateStore, timeout_s: float = CALL_TIMEOUT_S, threads: int = THREADS):
        self.sync, self.timeout_s = store, timeout_s
        self.patience_s = 0.0
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="state-store")

    @property
    def patient(self) -> "AsyncStore":
        twin = copy.copy(self)     # the same store and thread pool
        twin.patience_s = self.PATIENCE_S
        return twin

    async def _call(self, fn: Callable[..., T], *args, timeout_s: float | None = None) -> T:
        if not self.patience_s:
            return await self._once(fn, *args, timeout_s=timeout_s)
        deadline, delay = time.monotonic() + self.patience_s, 0.25
        while True:
            try:
                return await self._once(fn, *args, timeout_s=timeout_s)
            except StoreUnavailable as e:
                if time.monotonic() + delay > deadline:
                    raise
                logger.info("%s; trying again in %.1f s", e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _once(self, fn: Callable[..., T], *args, timeout_s: float | None = None) -> T:
        """Run `fn` in the pool; a call still waiting for a thread when the caller gives up never starts."""
        name = getattr(getattr(fn, "func", fn), "__name__", "a step")
        timeout_s = timeout_s or self.timeout_s
        call = self._pool.submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(call), timeout_s)
        except TimeoutError:
            raise StoreUnavailable(f"the state store did not answer {name} within {timeout_s:g} s",
                                   None if call.cancelled() else call) from None
        except self.sync.unavailable_errors as e:
            raise StoreUnavailable(f"the state store failed {name}: {type(e).__name__}") from None

    async def close(self) -> None:
        """Let the calls under way (leases given back at shutdown) finish, for up to the timeout; then close."""
        drained = asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)
        try:
            await asyncio.wait_for(drained, self.timeout_s)
        except TimeoutError:
            logger.warning("the state store still had calls under way when it was closed")
        await asyncio.to_thread(self.sync.close)

    # -- updates ---------------------------------------------------------------------------------------------
    async def claim_update(self, update_id: int, payload: dict, chat_id: int | None = None,
                           timeout_s: float | None = None) -> bool:
        return await self._call(self.sync.claim_update, update_id, payload, chat_id, timeout_s=timeout_s)

    async def next_pending_update(self, chat_id: int) -> dict | None:
        return await self._call(self.sync.next_pending_update, chat_id)

    async def finish_update(self, update_id: int) -> None:
        await self._call(self.sync.finish_update, update_id)

    async def pending_updates(self) -> list[dict]:
        return await self._call(self.sync.pending_updates)

    async def last_update_id(self) -> int | None:
        return await self._call(self.sync.last_update_id)

    async def prune(self, updates_older_than_s: float = UPDATE_RETENTION_S, jobs_older_than_s: float = JOB_RETENTION_S,
                    now: float | None = None) -> tuple[int, int]:
        return await self._call(self.sync.prune, updates_older_than_s, jobs_older_than_s, now)

    # -- leases ----------------------------------------------------------------------------------------------
    async def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        return await self._call(self.sync.acquire_lease, name, owner, ttl_s)

    async def release_lease(self, name: str, owner: str) -> None:
        await self._call(self.sync.release_lease, name, owner)

    def release_lease_soon(self, name: str, owner: str) -> None:
        """Give a lease back without waiting for the answer (from a task's done callback); a lease the store
        does not take back expires by itself."""
        def given_back(future) -> None:
            if not future.cancelled() and future.exception() is not None:
                logger.info("lease %s not given back: %s", name.split(":")[0], type(future.exception()).__name__)
        try:
            self._pool.submit(self.sync.release_lease, name, owner).add_done_callback(given_back)
        except RuntimeError:   # the store is closed: the bot is stopping
            pass

    # -- chats and saved styles ------------------------------------------------------------------------------
    async def chat(self, chat_id: int) -> ChatState:
        return await self._call(self.sync.chat, chat_id)

    async def save_chat(self, state: ChatState) -> None:
        await self._call(self.sync.save_chat, state)

    async def save_style(self, chat_id: int, name: str, vector: list[float],
                         limit: int = MAX_SAVED_STYLES) -> SavedStyle | None:
        return await self._call(self.sync.save_style, chat_id, name, vector, limit)

    async def saved_styles(self, chat_id: int) -> list[SavedStyle]:
        return await self._call(self.sync.saved_styles, chat_id)

    async def saved_style(self, chat_id: int, style_id: int) -> SavedStyle | None:
        return await self._call(self.sync.saved_style, chat_id, style_id)

    async def rename_style(self, chat_id: int, style_id: int, name: str) -> bool:
        return await self._call(self.sync.rename_style, chat_id, style_id, name)

    async def delete_style(self, chat_id: int, style_id: int) -> bool:
        return await self._call(self.sync.delete_style, chat_id, style_id)

    # -- jobs ------------------------------------------------------------------------------------------------
    async def create_job(self, chat_id: int, kind: str, content_file_id: str, preset: str | None = None,
                         style_file_id: str | None = None, options: dict | None = None) -> Job | None:
        return await self._call(functools.partial(self.sync.create_job, preset=preset, style_file_id=style_file_id,
                                                  options=options), chat_id, kind, content_file_id)

    async def job(self, job_id: int) -> Job | None:
        return await self._call(self.sync.job, job_id)

    async def active_job(self, chat_id: int) -> Job | None:
        return await self._call(self.sync.active_job, chat_id)

    async def unfinished_jobs(self) -> list[Job]:
        return await self._call(self.sync.unfinished_jobs)

    async def move_job(self, job_id: int, to: str, expect: tuple[str, ...], reason: str | None = None) -> bool:
        if not self.patience_s:
            return await self._once(self.sync.move_job, job_id, to, expect, reason)
        tries = [0]

        def move_or_moved() -> bool:
            tries[0] += 1
            if self.sync.move_job(job_id, to, expect, reason):
                return True
            job = self.sync.job(job_id) if tries[0] > 1 else None   # an attempt that timed out may have moved it
            return job is not None and job.status == to
        move_or_moved.__name__ = "move_job"
        return await self._call(move_or_moved)

    async def set_progress_message(self, job_id: int, message_id: int) -> None:
        await self._call(self.sync.set_progress_message, job_id, message_id)

    async def close_chat_jobs(self, chat_id: int, reason: str) -> int:
        return await self._call(self.sync.close_chat_jobs, chat_id, reason)
