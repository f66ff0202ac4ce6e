"""The state-store contract, run against both backends: SQLite (one file) and Redis (a real redis-server started
by the tests). Races run in separate processes, as bot replicas would."""
import multiprocessing
import time
import uuid
from pathlib import Path

import pytest
import redis

from bot.config import BotSettings, ConfigError
from bot.state import ContentInfo, Settings, SqliteStore, open_store
from bot.state.redis_store import RedisStore
from bot.state.urls import redacted, sqlite_path


def make_store(backend: str, where: str):
    """A store on `where`: a SQLite file path, or a Redis URL plus '#' and a key prefix."""
    if backend == "sqlite":
        return SqliteStore(Path(where))
    url, prefix = where.split("#")
    return RedisStore.from_url(url, prefix=prefix)


@pytest.fixture(params=["sqlite", "redis"])
def place(request, tmp_path):
    """(backend, where): each test gets its own file or its own Redis key prefix."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "state.db")
    server = request.getfixturevalue("redis_server")
    return "redis", f"{server.url}#test-{uuid.uuid4().hex[:12]}"


@pytest.fixture()
def store(place):
    s = make_store(*place)
    yield s
    s.close()


def test_updates_are_deduplicated_and_unhandled_ones_survive_a_reopen(place):
    s = make_store(*place)
    assert s.claim_update(10, {"update_id": 10}) and not s.claim_update(10, {"update_id": 10})
    assert s.claim_update(11, {"update_id": 11})
    s.finish_update(10)
    s.close()
    again = make_store(*place)
    assert again.pending_updates() == [{"update_id": 11}] and again.last_update_id() == 11
    assert not again.claim_update(10, {"update_id": 10})
    again.close()


def test_last_update_id_is_the_newest_even_when_claimed_out_of_order(store):
    assert store.last_update_id() is None
    for uid in (7, 9, 8):
        store.claim_update(uid, {"update_id": uid})
    assert store.last_update_id() == 9
    assert [u["update_id"] for u in store.pending_updates()] == [7, 8, 9]


def test_one_active_job_per_chat_and_cancelled_jobs_are_never_delivered(store):
    job = store.create_job(1, "preset", "FILE", preset="monet", options={"size": 512})
    assert job.status == "queued" and job.options == {"size": 512} and job.preset == "monet"
    assert job.style_file_id is None and job.progress_message_id is None and job.reason is None
    assert abs(job.created - time.time()) < 60
    assert store.create_job(1, "nst", "FILE", style_file_id="STYLE") is None
    assert store.create_job(2, "preset", "FILE", preset="monet") is not None      # other chats are free
    assert store.move_job(job.id, "running", ("queued",))
    assert store.move_job(job.id, "cancelled", ("queued", "running"))
    assert not store.move_job(job.id, "delivering", ("running",))               # the result is dropped
    assert store.active_job(1) is None and store.create_job(1, "all", "FILE") is not None
    assert not store.move_job(10_000, "running", ("queued",))                   # no such job


def test_job_moves_keep_the_reason_unless_given_and_record_the_progress_message(store):
    job = store.create_job(3, "nst", "C", style_file_id="S", options={"steps": 5})
    store.set_progress_message(job.id, 42)
    store.set_progress_message(99_999, 1)                                        # no such job: nothing made
    assert store.job(99_999) is None
    assert store.move_job(job.id, "running", ("queued",), "started")
    assert store.move_job(job.id, "running", ("queued", "running"))             # a resume keeps the reason
    again = store.job(job.id)
    assert again.reason == "started" and again.progress_message_id == 42 and again.style_file_id == "S"
    assert store.active_job(3).id == job.id
    assert store.move_job(job.id, "failed", ("running",), "")                    # an empty reason is a reason
    assert store.job(job.id).reason == "" and store.active_job(3) is None


def test_unfinished_jobs_and_closing_a_blocked_chat(store):
    a = store.create_job(1, "preset", "F", preset="x")
    b = store.create_job(2, "nst", "F", style_file_id="S")
    store.move_job(b.id, "running", ("queued",))
    assert [j.id for j in store.unfinished_jobs()] == [a.id, b.id]
    assert store.close_chat_jobs(2, "blocked") == 1 and store.close_chat_jobs(2, "blocked") == 0
    assert store.job(b.id).status == "closed" and store.job(b.id).reason == "blocked"
    assert [j.id for j in store.unfinished_jobs()] == [a.id]
    assert store.close_chat_jobs(77, "blocked") == 0
    assert not store.move_job(b.id, "delivering", ("running",))                 # closed stays closed


def test_chat_state_and_settings_round_trip(store):
    chat = store.chat(5)
    assert chat.content_file_id is None and chat.settings == Settings()
    chat.content_file_id, chat.awaiting = "PHOTO", "style"
    chat.settings.quality, chat.settings.keep_colors = "best", True
    store.save_chat(chat)
    again = store.chat(5)
    assert again.content_file_id == "PHOTO" and again.awaiting == "style"
    assert again.settings.quality == "best" and again.settings.keep_colors
    assert again.settings.nst_options() == {"size": 512, "steps": 500, "strength": 1.0, "keep_colors": True}
    assert again.settings.preset_options()["size"] == "full"                    # best: the photo's own size
    again.awaiting = None                                                        # a cleared field is cleared
    store.save_chat(again)
    assert store.chat(5).awaiting is None and store.chat(5).content_file_id == "PHOTO"


def test_what_the_photo_is_round_trips_and_a_chat_from_before_it_reads_as_unknown(store):
    chat = store.chat(6)
    assert chat.content == ContentInfo()
    chat.content_file_id, chat.content = "FILE", ContentInfo(as_file=True, width=4032, height=3024)
    store.save_chat(chat)
    again = store.chat(6)
    assert again.content == ContentInfo(True, 4032, 3024) and again.content.megapixels == pytest.approx(12.19, 0.01)
    assert ContentInfo.from_json("not json") == ContentInfo() == ContentInfo.from_json(None)


def test_a_state_file_from_before_full_size_gets_the_new_column_and_keeps_its_chats(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE chats (chat_id INTEGER PRIMARY KEY, content_file_id TEXT, style_file_id TEXT, "
                "awaiting TEXT, settings TEXT NOT NULL DEFAULT '{}', updated REAL NOT NULL)")
    old.execute("INSERT INTO chats VALUES (9, 'OLD', NULL, NULL, '{\"quality\": \"fast\"}', 0)")
    old.commit()
    old.close()
    store = SqliteStore(path)
    try:
        chat = store.chat(9)
        assert chat.content_file_id == "OLD" and chat.settings.quality == "fast" and chat.content == ContentInfo()
        chat.content = ContentInfo(as_file=True, width=100, height=80)
        store.save_chat(chat)
        assert store.chat(9).content.as_file
    finally:
        store.close()


def test_old_handled_updates_and_finished_jobs_are_forgotten(store):
    now = time.time()
    for uid in (1, 2, 3):
        store.claim_update(uid, {"update_id": uid})
    store.finish_update(1)
    store.finish_update(3)
    done = store.create_job(5, "preset", "f1", preset="monet")
    store.move_job(done.id, "failed", ("queued",), "x")
    running = store.create_job(6, "preset", "f2", preset="monet")
    later = now + 3 * 24 * 3600
    assert store.prune(now=later) == (1, 0)        # update 1; 2 is unhandled, 3 is the newest
    assert [u["update_id"] for u in store.pending_updates()] == [2]
    assert store.last_update_id() == 3
    assert not store.claim_update(3, {"update_id": 3})   # the newest is still deduplicated
    assert store.prune(now=now + 31 * 24 * 3600) == (0, 1)   # the failed job; the running one stays
    assert store.job(done.id) is None and store.job(running.id) is not None


def test_a_chats_pending_updates_come_oldest_first_and_leave_when_finished(store):
    for uid, chat in ((20, 1), (21, 2), (22, 1), (23, None)):
        store.claim_update(uid, {"update_id": uid}, chat_id=chat)
    assert store.next_pending_update(1) == {"update_id": 20}
    store.finish_update(20)
    assert store.next_pending_update(1) == {"update_id": 22} and store.next_pending_update(2) == {"update_id": 21}
    store.finish_update(22)
    assert store.next_pending_update(1) is None and store.next_pending_update(3) is None
    assert [u["update_id"] for u in store.pending_updates()] == [21, 23]


def test_a_lease_has_one_holder_until_it_is_released_or_expires(store):
    assert store.acquire_lease("chat:1", "replica-a", 30)
    assert not store.acquire_lease("chat:1", "replica-b", 30)
    assert store.acquire_lease("chat:1", "replica-a", 30)                  # the holder extends it
    store.release_lease("chat:1", "replica-b")                              # not b's to give back
    assert not store.acquire_lease("chat:1", "replica-b", 30)
    store.release_lease("chat:1", "replica-a")
    assert store.acquire_lease("chat:1", "replica-b", 0.2)
    assert store.acquire_lease("job:7", "replica-a", 30)                   # leases are independent
    time.sleep(0.4)
    assert store.acquire_lease("chat:1", "replica-a", 30)                  # b died: its lease expired


def vector(seed: float) -> list[float]:
    """A style vector's shape: 100 floats (with digits a JSON round trip must keep)."""
    return [seed + i / 7 for i in range(100)]


def test_saved_styles_are_listed_in_order_renamed_deleted_and_kept_per_chat(store):
    first, second = store.save_style(1, "My style 1", vector(0.1)), store.save_style(1, "My style 2", vector(-2.5))
    assert (first.name, first.chat_id, first.vector) == ("My style 1", 1, vector(0.1))
    assert abs(first.created - time.time()) < 60 and first.id != second.id
    other = store.save_style(2, "Theirs", vector(1.0))
    assert [(s.id, s.name, s.vector) for s in store.saved_styles(1)] == [
        (first.id, "My style 1", vector(0.1)), (second.id, "My style 2", vector(-2.5))]
    assert store.saved_style(1, second.id) == second and store.saved_style(1, other.id) is None  # not this chat's
    assert store.saved_styles(3) == []
    assert store.rename_style(1, first.id, "Starry «ночь» <b>")
    assert not store.rename_style(1, other.id, "mine now") and not store.delete_style(1, other.id)
    assert store.saved_style(2, other.id).name == "Theirs"
    assert store.delete_style(1, second.id) and not store.delete_style(1, second.id)
    assert not store.rename_style(1, second.id, "gone")
    assert [(s.id, s.name) for s in store.saved_styles(1)] == [(first.id, "Starry «ночь» <b>")]
    third = store.save_style(1, "My style 3", vector(3.0))
    assert [s.id for s in store.saved_styles(1)] == [first.id, third.id]                  # a new one comes last
    assert [s.name for s in store.saved_styles(2)] == ["Theirs"]


def test_a_chat_keeps_twelve_saved_styles_and_frees_a_place_when_one_is_deleted(store):
    saved = [store.save_style(4, f"My style {n}", vector(n)) for n in range(1, 13)]
    assert all(saved) and len(store.saved_styles(4)) == 12
    assert store.save_style(4, "My style 13", vector(13)) is None                         # the 13th
    assert store.save_style(5, "My style 1", vector(13)) is not None                      # another chat's first
    assert store.save_style(4, "small", vector(0), limit=3) is None
    assert store.delete_style(4, saved[4].id)
    assert store.save_style(4, "My style 13", vector(13)).name == "My style 13"
    assert [s.name for s in store.saved_styles(4)][-2:] == ["My style 12", "My style 13"]


def test_saved_styles_survive_reopening_the_store(place):
    s = make_store(*place)
    kept = s.save_style(6, "Kept", vector(0.25))
    s.close()
    again = make_store(*place)
    assert again.saved_styles(6) == [kept]
    again.close()


# -- races between processes (bot replicas) ------------------------------------------------------------------
def _race(backend: str, where: str, worker: int, rounds: int, out, barrier) -> None:
    """Claim updates 1000.., open a job in chats 1500.., then try to start every queued job: all four workers try
    every id, each from its own offset."""
    s = make_store(backend, where)
    order = [(worker * rounds // 4 + i) % rounds for i in range(rounds)]
    barrier.wait(60)  # every replica is up: start together
    claimed = [1000 + i for i in order if s.claim_update(1000 + i, {"update_id": 1000 + i, "by": worker})]
    created = [(1500 + i, job.id) for i in order
               if (job := s.create_job(1500 + i, "preset", f"F{worker}", preset="monet")) is not None]
    out.put(("created", worker, claimed, created))
    barrier.wait(60)
    started = [j.id for j in s.unfinished_jobs() if s.move_job(j.id, "running", ("queued",))]
    s.close()
    out.put(("started", worker, started, []))


def test_replicas_racing_claim_each_update_once_keep_one_job_per_chat_and_start_each_job_once(place):
    make_store(*place).close()  # create the schema before the race
    ctx = multiprocessing.get_context("spawn")
    out, rounds, barrier = ctx.Queue(), 300, ctx.Barrier(4)
    procs = [ctx.Process(target=_race, args=(*place, w, rounds, out, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in range(2 * len(procs))]
    for p in procs:
        p.join(30)
    created = [r for r in results if r[0] == "created"]
    assert sorted(u for _, _, c, _ in created for u in c) == list(range(1000, 1000 + rounds))  # each update once
    chats = sorted(chat for *_, jobs in created for chat, _ in jobs)
    assert chats == list(range(1500, 1500 + rounds))                                   # one job per chat
    started = sorted(j for kind, _, ids, _ in results if kind == "started" for j in ids)
    s = make_store(*place)
    assert started == sorted(j.id for j in s.unfinished_jobs())                         # each job started once
    assert len(started) == rounds and all(j.status == "running" for j in s.unfinished_jobs())
    s.close()


# -- Redis specifics ---------------------------------------------------------------------------------------
def test_redis_keys_share_one_hash_tag_and_finished_records_expire(redis_server):
    prefix = f"tag-{uuid.uuid4().hex[:8]}"
    s = RedisStore.from_url(redis_server.url, prefix=prefix)
    s.claim_update(1, {"update_id": 1})
    s.finish_update(1)
    job = s.create_job(1, "preset", "F", preset="monet")
    s.move_job(job.id, "done", ("queued",))
    live = s.create_job(2, "preset", "F", preset="monet")
    style = s.save_style(2, "My style 1", vector(0))
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
    keys = raw.keys(f"*{prefix}*")
    assert keys and all(k.startswith(f"{{{prefix}}}:") for k in keys)   # one Redis Cluster slot
    assert 0 < raw.ttl(f"{{{prefix}}}:update:1") <= 2 * 24 * 3600
    assert 0 < raw.ttl(f"{{{prefix}}}:job:{job.id}") <= 30 * 24 * 3600
    assert raw.ttl(f"{{{prefix}}}:job:{live.id}") == -1                  # an active job never expires
    assert raw.ttl(f"{{{prefix}}}:style:{style.id}") == -1               # nor does a saved style
    raw.close()
    s.close()


def test_the_state_url_picks_the_backend_and_never_shows_a_password(redis_server, tmp_path):
    s = open_store(redis_server.url)
    assert isinstance(s, RedisStore)
    s.close()
    assert isinstance(open_store(f"sqlite:///{tmp_path}/x.db"), SqliteStore)
    assert sqlite_path("sqlite:///var/x.db", Path("/srv/app")) == Path("/srv/app/var/x.db")
    assert sqlite_path("sqlite:////data/x.db", Path("/srv/app")) == Path("/data/x.db")
    url = "rediss://default:sup3r-secret@cache.example.org:6380/2"
    assert "sup3r-secret" not in redacted(url) and "cache.example.org:6380" in redacted(url)
    settings = BotSettings.from_env({"STYLEBOT_STATE_URL": url})
    assert settings.state_url == url and "sup3r-secret" not in repr(settings)
    with pytest.raises(ConfigError, match="must look like") as bad:
        BotSettings.from_env({"STYLEBOT_STATE_URL": "postgres://u:pw-secret@db/x"})
    assert "pw-secret" not in str(bad.value)
    with pytest.raises(ConfigError, match="no Redis host"):
        BotSettings.from_env({"STYLEBOT_STATE_URL": "redis://"})
