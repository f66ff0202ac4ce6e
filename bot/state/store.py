"""The contract every state store keeps (SQLite on one machine, Redis for several bot replicas)."""
from __future__ import annotations

from abc import ABC, abstractmethod

from bot.state.records import JOB_RETENTION_S, MAX_SAVED_STYLES, UPDATE_RETENTION_S, ChatState, Job, SavedStyle


class StateStore(ABC):
    """Chats, settings, jobs and seen updates. Every method is one atomic step, safe to call from several
    processes at once: a claimed update is claimed once, a chat has at most one active job, and a job moves only
    from the states the caller expects."""

    # what the backend raises when it cannot be reached or is locked (bot/state/async_store.py: StoreUnavailable)
    unavailable_errors: tuple[type[Exception], ...] = (OSError,)

    # -- updates ---------------------------------------------------------------------------------------------
    @abstractmethod
    def claim_update(self, update_id: int, payload: dict, chat_id: int | None = None) -> bool:
        """Record an update (of `chat_id`, when it has a chat); False when it was seen before (Telegram retried
        it, or another replica has it)."""

    @abstractmethod
    def next_pending_update(self, chat_id: int) -> dict | None:
        """The payload of the chat's oldest claimed, unfinished update (chats' updates are handled in order)."""

    @abstractmethod
    def finish_update(self, update_id: int) -> None:
        """The update was handled: drop its payload; it stays known (deduplicated) until pruned."""

    @abstractmethod
    def pending_updates(self) -> list[dict]:
        """Payloads of claimed updates not yet finished, oldest first."""

    @abstractmethod
    def last_update_id(self) -> int | None:
        """The newest update ever claimed (polling resumes after it)."""

    @abstractmethod
    def prune(self, updates_older_than_s: float = UPDATE_RETENTION_S, jobs_older_than_s: float = JOB_RETENTION_S,
              now: float | None = None) -> tuple[int, int]:
        """Forget handled updates and finished jobs past their retention; returns (updates, jobs) forgotten.
        The newest update stays: polling resumes after it."""

    # -- leases: one holder at a time across replicas (a chat's updates, a running job, the Telegram poller) ---
    @abstractmethod
    def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take the lease `name` for `ttl_s` seconds, or extend it when `owner` holds it already; False when
        another owner holds it and it has not expired. A holder that dies loses it when it expires."""

    @abstractmethod
    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back, if `owner` still holds it."""

    # -- chats -----------------------------------------------------------------------------------------------
    @abstractmethod
    def chat(self, chat_id: int) -> ChatState:
        """The chat's state, or a fresh one."""

    @abstractmethod
    def save_chat(self, state: ChatState) -> None: ...

    # -- saved styles ("My styles"): kept until deleted, like chats -----------------------------------------------
    @abstractmethod
    def save_style(self, chat_id: int, name: str, vector: list[float],
                   limit: int = MAX_SAVED_STYLES) -> SavedStyle | None:
        """Keep a style for the chat, after its others; None when the chat has `limit` saved styles already."""

    @abstractmethod
    def saved_styles(self, chat_id: int) -> list[SavedStyle]:
        """The chat's saved styles, oldest first."""

    @abstractmethod
    def saved_style(self, chat_id: int, style_id: int) -> SavedStyle | None:
        """One of the chat's saved styles; None when it is gone or another chat's."""

    @abstractmethod
    def rename_style(self, chat_id: int, style_id: int, name: str) -> bool:
        """True when the chat's style was renamed (False: gone, or another chat's)."""

    @abstractmethod
    def delete_style(self, chat_id: int, style_id: int) -> bool:
        """True when the chat's style was deleted (False: gone already, or another chat's)."""

    # -- jobs ------------------------------------------------------------------------------------------------
    @abstractmethod
    def create_job(self, chat_id: int, kind: str, content_file_id: str, preset: str | None = None,
                   style_file_id: str | None = None, options: dict | None = None) -> Job | None:
        """A new queued job, or None when the chat already has an active one (one job per chat)."""

    @abstractmethod
    def job(self, job_id: int) -> Job | None: ...

    @abstractmethod
    def active_job(self, chat_id: int) -> Job | None: ...

    @abstractmethod
    def unfinished_jobs(self) -> list[Job]:
        """Every queued, running or delivering job, oldest first."""

    @abstractmethod
    def move_job(self, job_id: int, to: str, expect: tuple[str, ...], reason: str | None = None) -> bool:
        """Move a job to `to` only if it is in one of `expect`; True when it moved."""

    @abstractmethod
    def set_progress_message(self, job_id: int, message_id: int) -> None: ...

    @abstractmethod
    def close_chat_jobs(self, chat_id: int, reason: str) -> int:
        """End the chat's active jobs as closed (the person blocked the bot); returns how many."""

    @abstractmethod
    def close(self) -> None: ...
