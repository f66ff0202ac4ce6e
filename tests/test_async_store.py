"""The state store as the bot's event loop sees it (bot/state/async_store.py): every call in the store's own
threads, bounded by a timeout, so a stalled Redis or a locked SQLite file is a quick `StoreUnavailable`, never a
stalled loop. Against the real backends: a redis-server paused with SIGSTOP and killed, and a SQLite file another
process holds in an exclusive transaction."""
import asyncio
import inspect
import threading
import time

import pytest

from bot.state import AsyncStore, SqliteStore, StateStore, StoreUnavailable
from bot.state.redis_store import RedisStore
from tests.conftest import free_port
from tests.redis_server import RedisServer
from tests.sqlite_lock import lock_sqlite


def test_every_method_of_the_contract_has_an_async_twin_with_the_same_parameters():
    for name in StateStore.__abstractmethods__:
        twin = getattr(AsyncStore, name)
        assert inspect.iscoroutinefunction(twin), name
        sync = inspect.signature(getattr(StateStore, name)).parameters
        ours = {k: v for k, v in inspect.signature(twin).parameters.items() if k != "timeout_s"}
        assert list(ours) == list(sync), name
        assert [p.default for p in ours.values()] == [p.default for p in sync.values()], name


async def ticking_while(coro, every_s: float = 0.05) -> tuple[object, int]:
    """Run `coro` while a ticker counts: the loop stays free when the ticks keep coming."""
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(every_s)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        return await coro, ticks
    except Exception as e:  # noqa: BLE001 - the test looks at what came out
        return e, ticks
    finally:
        ticker.cancel()


class Stuck(SqliteStore):
    """A store whose create_job hangs until `go` is set (then does its work late), as a stalled backend does."""

    def __init__(self, path):
        super().__init__(path)
        self.go, self.started = threading.Event(), []

    def create_job(self, *args, **kwargs):
        self.started.append(args)
        self.go.wait(30)
        return super().create_job(*args, **kwargs)


def test_a_hung_call_times_out_the_loop_keeps_running_and_a_call_left_waiting_never_starts(tmp_path):
    stuck = Stuck(tmp_path / "s.db")
    store = AsyncStore(stuck, timeout_s=0.5, threads=1)

    async def scenario():
        started = time.monotonic()
        first, ticks = await ticking_while(store.create_job(1, "preset", "F"))
        assert isinstance(first, StoreUnavailable) and "create_job within 0.5 s" in str(first)
        assert 0.45 < time.monotonic() - started < 1.0 and ticks >= 5
        second, _ = await ticking_while(store.create_job(2, "preset", "F"))   # waits for the only thread
        assert isinstance(second, StoreUnavailable)
        stuck.go.set()
        assert (await store.job(1)).chat_id == 1      # the first ran late, once the store answered
        assert await store.active_job(2) is None      # the second was given up before it started
        assert len(stuck.started) == 1
        await store.close()

    asyncio.run(scenario())


class LateAnswers(SqliteStore):
    """move_job's next `late` calls do their work, then answer only after the caller has given up."""
    late = 0

    def move_job(self, *args):
        moved = super().move_job(*args)
        if self.late:
            self.late -= 1
            time.sleep(0.6)
        return moved


def test_a_patient_move_counts_an_attempt_that_moved_the_job_but_timed_out_as_done(tmp_path):
    sync = LateAnswers(tmp_path / "s.db")
    job = sync.create_job(5, "preset", "F")
    sync.move_job(job.id, "running", ("queued",))
    store = AsyncStore(sync, timeout_s=0.3, threads=2)

    async def scenario():
        sync.late = 1
        assert await store.patient.move_job(job.id, "delivering", ("running",)) is True
        assert (await store.job(job.id)).status == "delivering"
        assert await store.patient.move_job(job.id, "done", ("running",)) is False   # a refusal stays one
        sync.late = 1
        with pytest.raises(StoreUnavailable):                    # without patience: unavailable, moved late
            await store.move_job(job.id, "done", ("delivering",))
        await store.close()

    asyncio.run(scenario())


def test_a_sqlite_file_locked_by_another_process_is_unavailable_until_the_lock_goes(tmp_path):
    path = tmp_path / "state.db"
    store = AsyncStore(SqliteStore(path), timeout_s=0.5)
    holder = lock_sqlite(path, 2)

    async def scenario():
        started = time.monotonic()
        claimed, ticks = await ticking_while(store.claim_update(1, {"update_id": 1}, 7))
        assert isinstance(claimed, StoreUnavailable) and time.monotonic() - started < 1.0 and ticks >= 5
        assert await asyncio.to_thread(holder.wait, 10) == 0                 # the lock goes
        assert await store.claim_update(2, {"update_id": 2}, 7)
        assert not await store.claim_update(1, {"update_id": 1}, 7)          # the first claim landed late
        assert [u["update_id"] for u in await store.pending_updates()] == [1, 2]
        await store.close()

    asyncio.run(scenario())


def test_a_paused_then_killed_redis_is_unavailable_quickly_and_back_after_a_restart(tmp_path):
    server = RedisServer(free_port(), tmp_path / "redis", aof=True).start()
    store = AsyncStore(RedisStore.from_url(server.url), timeout_s=0.5)

    async def unavailable(coro, stalled: bool) -> None:
        started = time.monotonic()
        error, ticks = await ticking_while(coro)
        assert isinstance(error, StoreUnavailable) and time.monotonic() - started < 1.0
        assert ticks >= 5 or not stalled              # the loop ran on while the call waited

    async def scenario():
        assert await store.claim_update(1, {"update_id": 1}, 7)
        server.pause()
        try:
            await unavailable(store.claim_update(2, {"update_id": 2}, 7), stalled=True)
        finally:
            server.resume()
        while await store.last_update_id() != 2:     # the paused claim runs once Redis resumes
            await asyncio.sleep(0.05)
        server.kill()
        await unavailable(store.chat(7), stalled=False)   # refused at once
        server.start()                                # the same port, its append-only file
        assert [u["update_id"] for u in await store.patient.pending_updates()] == [1, 2]
        await store.close()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
