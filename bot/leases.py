"""Leases in the state store: which bot replica handles a chat's updates, runs a job, or polls Telegram.

A holder renews its lease while it works; a replica that dies stops renewing, and once the lease expires another
replica takes over. One replica with SQLite takes every lease at once, as before."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from bot.state import AsyncStore, StoreUnavailable

logger = logging.getLogger("ray.serve.stylebot")


def replica_name() -> str:
    """Who holds a lease: the Serve replica's id when in one (tests kill a replica by it), plus host and pid."""
    try:
        from ray import serve

        tag = serve.get_replica_context().replica_id.unique_id
    except Exception:  # noqa: BLE001 - outside a Serve replica
        tag = uuid.uuid4().hex[:8]
    return f"{tag}@{socket.gethostname()}:{os.getpid()}"


async def keep_renewing(store: AsyncStore, name: str, owner: str, ttl_s: float) -> None:
    """Extend the lease every third of its life until cancelled; a renewal the store does not answer is tried
    again a third later (after a whole lease unanswered, another replica may take the lease)."""
    while True:
        await asyncio.sleep(ttl_s / 3)
        try:
            await store.acquire_lease(name, owner, ttl_s)
        except StoreUnavailable as e:
            logger.warning("lease %s not renewed: %s", name.split(":")[0], e)


@contextlib.asynccontextmanager
async def holding(store: AsyncStore, name: str, owner: str, ttl_s: float):
    """`async with holding(...) as held:` held is True when this replica has the lease (renewed in the background
    until the block ends, then given back); False when another live replica has it. StoreUnavailable when the
    store cannot say."""
    if not await store.acquire_lease(name, owner, ttl_s):
        yield False
        return
    renewer = asyncio.create_task(keep_renewing(store, name, owner, ttl_s))
    try:
        yield True
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        with contextlib.suppress(StoreUnavailable):   # it expires by itself
            await store.release_lease(name, owner)
