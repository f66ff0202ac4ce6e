"""The state store on one SQLite file: the default, for one bot replica on one machine."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path

from bot.state.records import (ACTIVE, JOB_RETENTION_S, MAX_SAVED_STYLES, UPDATE_RETENTION_S, ChatState,
                                ContentInfo, Job, SavedStyle, Settings)
from bot.state.store import StateStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    update_id INTEGER PRIMARY KEY, payload TEXT NOT NULL, status TEXT NOT NULL, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chats (
    chat_id INTEGER PRIMARY KEY, content_file_id TEXT, style_file_id TEXT, awaiting TEXT,
    settings TEXT NOT NULL DEFAULT '{}', updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, kind TEXT NOT NULL, preset TEXT,
    content_file_id TEXT NOT NULL, style_file_id TEXT, options TEXT NOT NULL, status TEXT NOT NULL,
    progress_message_id INTEGER, reason TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_chat ON jobs (chat_id, status);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, name TEXT NOT NULL, vector TEXT NOT NULL,
    created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS styles_by_chat ON styles (chat_id, id);
"""


class SqliteStore(StateStore):
    unavailable_errors = (sqlite3.OperationalError, OSError)   # "database is locked", I/O errors

    def __init__(self, path: Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(updates)")}
            if "chat_id" not in columns:  # a state file from before per-chat update order
                self._db.execute("ALTER TABLE updates ADD COLUMN chat_id INTEGER")
            self._db.execute("CREATE INDEX IF NOT EXISTS updates_by_chat ON updates (chat_id, status, update_id)")
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(chats)")}
            if "content_info" not in columns:  # a state file from before full-size painting
                self._db.execute("ALTER TABLE chats ADD COLUMN content_info TEXT")

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    # -- updates --------------------------------------------------------------------------------------------
    def claim_update(self, update_id: int, payload: dict, chat_id: int | None = None) -> bool:
        cur = self._run("INSERT OR IGNORE INTO updates (update_id, payload, status, received, chat_id) "
                        "VALUES (?, ?, 'pending', ?, ?)", (update_id, json.dumps(payload), time.time(), chat_id))
        return cur.rowcount == 1

    def next_pending_update(self, chat_id: int) -> dict | None:
        row = self._run("SELECT payload FROM updates WHERE chat_id = ? AND status = 'pending' "
                        "ORDER BY update_id LIMIT 1", (chat_id,)).fetchone()
        return json.loads(row["payload"]) if row else None

    def finish_update(self, update_id: int) -> None:
        self._run("UPDATE updates SET status = 'done', payload = '{}' WHERE update_id = ?", (update_id,))

    def pending_updates(self) -> list[dict]:
        rows = self._run("SELECT payload FROM updates WHERE status = 'pending' ORDER BY update_id").fetchall()
        return [json.loads(r["payload"]) for r in rows]

    def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        now = time.time()
        cur = self._run("INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                        "owner = excluded.owner, until = excluded.until "
                        "WHERE leases.until < ? OR leases.owner = excluded.owner", (name, owner, now + ttl_s, now))
        return cur.rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        self._run("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def last_update_id(self) -> int | None:
        row = self._run("SELECT MAX(update_id) AS m FROM updates").fetchone()
        return row["m"]

    def prune(self, updates_older_than_s: float = UPDATE_RETENTION_S, jobs_older_than_s: float = JOB_RETENTION_S,
              now: float | None = None) -> tuple[int, int]:
        now = time.time() if now is None else now
        updates = self._run("DELETE FROM updates WHERE status = 'done' AND received < ? "
                            "AND update_id < (SELECT MAX(update_id) FROM updates)",
                            (now - updates_older_than_s,)).rowcount
        jobs = self._run(f"DELETE FROM jobs WHERE status NOT IN {ACTIVE} AND updated < ?",
                         (now - jobs_older_than_s,)).rowcount
        return updates, jobs

    # -- chats ----------------------------------------------------------------------------------------------
    def chat(self, chat_id: int) -> ChatState:
        row = self._run("SELECT * FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
        if row is None:
            return ChatState(chat_id)
        return ChatState(chat_id, row["content_file_id"], row["style_file_id"], row["awaiting"],
                         Settings.from_json(row["settings"]), ContentInfo.from_json(row["content_info"]))

    def save_chat(self, state: ChatState) -> None:
        self._run("INSERT INTO chats (chat_id, content_file_id, style_file_id, awaiting, settings, updated, "
                  "content_info) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
                  "content_file_id = excluded.content_file_id, style_file_id = excluded.style_file_id, "
                  "awaiting = excluded.awaiting, settings = excluded.settings, updated = excluded.updated, "
                  "content_info = excluded.content_info",
                  (state.chat_id, state.content_file_id, state.style_file_id, state.awaiting,
                   json.dumps(asdict(state.settings)), time.time(), state.content.to_json()))

    # -- saved styles ---------------------------------------------------------------------------------------------
    @staticmethod
    def _style(row: sqlite3.Row) -> SavedStyle:
        return SavedStyle(row["id"], row["chat_id"], row["name"], json.loads(row["vector"]), row["created"])

    def save_style(self, chat_id: int, name: str, vector: list[float],
                   limit: int = MAX_SAVED_STYLES) -> SavedStyle | None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (count,) = self._db.execute("SELECT COUNT(*) FROM styles WHERE chat_id = ?", (chat_id,)).fetchone()
                cur = None
                if count < limit:
                    cur = self._db.execute("INSERT INTO styles (chat_id, name, vector, created) VALUES (?, ?, ?, ?)",
                                           (chat_id, name, json.dumps(vector), time.time()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.saved_style(chat_id, cur.lastrowid) if cur else None

    def saved_styles(self, chat_id: int) -> list[SavedStyle]:
        rows = self._run("SELECT * FROM styles WHERE chat_id = ? ORDER BY id", (chat_id,)).fetchall()
        return [self._style(r) for r in rows]

    def saved_style(self, chat_id: int, style_id: int) -> SavedStyle | None:
        row = self._run("SELECT * FROM styles WHERE id = ? AND chat_id = ?", (style_id, chat_id)).fetchone()
        return self._style(row) if row else None

    def rename_style(self, chat_id: int, style_id: int, name: str) -> bool:
        return self._run("UPDATE styles SET name = ? WHERE id = ? AND chat_id = ?",
                         (name, style_id, chat_id)).rowcount == 1

    def delete_style(self, chat_id: int, style_id: int) -> bool:
        return self._run("DELETE FROM styles WHERE id = ? AND chat_id = ?", (style_id, chat_id)).rowcount == 1

    # -- jobs -----------------------------------------------------------------------------------------------
    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        return Job(row["id"], row["chat_id"], row["kind"], row["preset"], row["content_file_id"],
                   row["style_file_id"], json.loads(row["options"]), row["status"], row["progress_message_id"],
                   row["reason"], row["created"])

    def create_job(self, chat_id: int, kind: str, content_file_id: str, preset: str | None = None,
                   style_file_id: str | None = None, options: dict | None = None) -> Job | None:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                busy = self._db.execute(f"SELECT 1 FROM jobs WHERE chat_id = ? AND status IN {ACTIVE}",
                                        (chat_id,)).fetchone()
                if busy:
                    self._db.execute("COMMIT")
                    return None
                cur = self._db.execute(
                    "INSERT INTO jobs (chat_id, kind, preset, content_file_id, style_file_id, options, status, "
                    "created, updated) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                    (chat_id, kind, preset, content_file_id, style_file_id, json.dumps(options or {}), now, now))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.job(cur.lastrowid)

    def job(self, job_id: int) -> Job | None:
        row = self._run("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def active_job(self, chat_id: int) -> Job | None:
        row = self._run(f"SELECT * FROM jobs WHERE chat_id = ? AND status IN {ACTIVE} ORDER BY id DESC LIMIT 1",
                        (chat_id,)).fetchone()
        return self._job(row) if row else None

    def unfinished_jobs(self) -> list[Job]:
        rows = self._run(f"SELECT * FROM jobs WHERE status IN {ACTIVE} ORDER BY id").fetchall()
        return [self._job(r) for r in rows]

    def move_job(self, job_id: int, to: str, expect: tuple[str, ...], reason: str | None = None) -> bool:
        marks = ",".join("?" * len(expect))
        cur = self._run(f"UPDATE jobs SET status = ?, reason = COALESCE(?, reason), updated = ? "
                        f"WHERE id = ? AND status IN ({marks})", (to, reason, time.time(), job_id, *expect))
        return cur.rowcount == 1

    def set_progress_message(self, job_id: int, message_id: int) -> None:
        self._run("UPDATE jobs SET progress_message_id = ?, updated = ? WHERE id = ?",
                  (message_id, time.time(), job_id))

    def close_chat_jobs(self, chat_id: int, reason: str) -> int:
        cur = self._run(f"UPDATE jobs SET status = 'closed', reason = ?, updated = ? "
                        f"WHERE chat_id = ? AND status IN {ACTIVE}", (reason, time.time(), chat_id))
        return cur.rowcount
