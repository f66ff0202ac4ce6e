"""The state store on Redis: for several bot replicas (and nodes) sharing one state.

Every conditional step (claim an update, create a chat's one job, move a job, close a chat's jobs) is one Lua
script, which Redis runs atomically, so two replicas can never both claim an update or both move a job. Every key
shares one hash tag (`{stylebot}` by default), so the scripts also run on Redis Cluster. Handled updates and
finished jobs get a TTL (they expire by themselves) and sit in time-sorted indexes that `prune` trims.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict

import redis

from bot.state.records import (ACTIVE, JOB_RETENTION_S, MAX_SAVED_STYLES, UPDATE_RETENTION_S, ChatState,
                                ContentInfo, Job, SavedStyle, Settings)
from bot.state.store import StateStore

_IS_ACTIVE = " or ".join(f"s == '{s}'" for s in ACTIVE)
_LUA_ACTIVE = f"local function active(s) return {_IS_ACTIVE} end\n"

CLAIM_UPDATE = """
-- KEYS: update, pending, last, the chat's pending (may be '')   ARGV: update_id, payload, now, chat_id ('' if none)
if redis.call('HSETNX', KEYS[1], 'status', 'pending') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[2], 'received', ARGV[3], 'chat', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
if KEYS[4] ~= '' then redis.call('ZADD', KEYS[4], ARGV[1], ARGV[1]) end
local last = redis.call('GET', KEYS[3])
if not last or tonumber(ARGV[1]) > tonumber(last) then redis.call('SET', KEYS[3], ARGV[1]) end
return 1
"""

FINISH_UPDATE = """
-- KEYS: update, pending, done   ARGV: update_id, ttl, key prefix of a chat's pending updates
local received = redis.call('HGET', KEYS[1], 'received')
if not received then return 0 end
local chat = redis.call('HGET', KEYS[1], 'chat')
if chat and chat ~= '' then redis.call('ZREM', ARGV[3] .. chat, ARGV[1]) end
redis.call('HSET', KEYS[1], 'status', 'done')
redis.call('HDEL', KEYS[1], 'payload')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], received, ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

PRUNE = """
-- KEYS: index (a zset of ids scored by time), keep (a string: an id never to forget, may be absent)
-- ARGV: cutoff, key prefix of the records, most to forget in one call
local keep = redis.call('GET', KEYS[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])
local n = 0
for _, id in ipairs(ids) do
  if id ~= keep then
    redis.call('DEL', ARGV[2] .. id)
    redis.call('ZREM', KEYS[1], id)
    n = n + 1
  end
end
return {n, #ids}
"""

CREATE_JOB = _LUA_ACTIVE + """
-- KEYS: the chat's active-job pointer, job id sequence, active index   ARGV: job key prefix, field, value, ...
local current = redis.call('GET', KEYS[1])
if current and active(redis.call('HGET', ARGV[1] .. current, 'status')) then return 0 end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[1] .. id, 'id', id, unpack(ARGV, 2))
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[3], id, id)
return id
"""

_FINISH_JOB = """
local function finish(job_key, id, chat_key, now, ttl)
  if redis.call('GET', chat_key) == id then redis.call('DEL', chat_key) end
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], now, id)
  redis.call('EXPIRE', job_key, ttl)
end
"""

MOVE_JOB = _LUA_ACTIVE + _FINISH_JOB + """
-- KEYS: job, active index, finished index
-- ARGV: job id, to, reason ('' keeps the old one), has reason ('1'/'0'), now, ttl, chat key prefix, expected...
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local expected = false
for i = 8, #ARGV do if ARGV[i] == status then expected = true end end
if not expected then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated', ARGV[5])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'reason', ARGV[3]) end
if not active(ARGV[2]) then
  finish(KEYS[1], ARGV[1], ARGV[7] .. redis.call('HGET', KEYS[1], 'chat_id') .. ':job', ARGV[5], ARGV[6])
end
return 1
"""

CLOSE_CHAT_JOBS = _LUA_ACTIVE + _FINISH_JOB + """
-- KEYS: the chat's active-job pointer, active index, finished index   ARGV: reason, now, ttl, job key prefix
local id = redis.call('GET', KEYS[1])
if not id then return 0 end
local job_key = ARGV[4] .. id
if not active(redis.call('HGET', job_key, 'status')) then return 0 end
redis.call('HSET', job_key, 'status', 'closed', 'reason', ARGV[1], 'updated', ARGV[2])
finish(job_key, id, KEYS[1], ARGV[2], ARGV[3])
return 1
"""

ACQUIRE_LEASE = """
-- KEYS: lease   ARGV: owner, ttl in ms
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

RELEASE_LEASE = """
-- KEYS: lease   ARGV: owner
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""

SET_FIELD_IF_PRESENT = """
-- KEYS: record   ARGV: field, value, now
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'updated', ARGV[3])
return 1
"""

SAVE_STYLE = """
-- KEYS: the chat's saved styles (a zset of ids), style id sequence
-- ARGV: style key prefix, limit, chat_id, name, vector, now
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[1] .. id, 'id', id, 'chat_id', ARGV[3], 'name', ARGV[4], 'vector', ARGV[5], 'created', ARGV[6])
redis.call('ZADD', KEYS[1], id, id)
return id
"""

CHANGE_STYLE = """
-- KEYS: style, the chat's saved styles   ARGV: chat_id, id, 'delete' or 'rename', the new name
if redis.call('HGET', KEYS[1], 'chat_id') ~= ARGV[1] then return 0 end
if ARGV[3] == 'delete' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('HSET', KEYS[1], 'name', ARGV[4])
end
return 1
"""

PRUNE_BATCH = 1000


class RedisStore(StateStore):
    unavailable_errors = (redis.ConnectionError, redis.TimeoutError, OSError)   # loading after a restart too

    def __init__(self, client: redis.Redis, prefix: str = "stylebot"):
        """`client` must decode responses (`decode_responses=True`). `prefix` names this bot's keys; it becomes
        a hash tag, so all of them live in one Redis Cluster slot."""
        self.r = client
        self.p = f"{{{prefix}}}"
        self._scripts = {name: client.register_script(src) for name, src in (
            ("claim", CLAIM_UPDATE), ("finish", FINISH_UPDATE), ("prune", PRUNE), ("create", CREATE_JOB),
            ("move", MOVE_JOB), ("close", CLOSE_CHAT_JOBS), ("set_field", SET_FIELD_IF_PRESENT),
            ("acquire", ACQUIRE_LEASE), ("release", RELEASE_LEASE), ("save_style", SAVE_STYLE),
            ("change_style", CHANGE_STYLE))}

    @classmethod
    def from_url(cls, url: str, prefix: str = "stylebot") -> "RedisStore":
        """`redis://[:password@]host:6379/0` or `rediss://` (TLS), as managed Redis services give them."""
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10, socket_connect_timeout=10,
                                      health_check_interval=30, retry_on_timeout=True)
        return cls(client, prefix)

    def close(self) -> None:
        self.r.close()

    def _key(self, *parts) -> str:
        return ":".join((self.p, *map(str, parts)))

    def _run(self, script: str, keys: list[str], args: list) -> object:
        return self._scripts[script](keys=keys, args=args)

    # -- updates ---------------------------------------------------------------------------------------------
    def claim_update(self, update_id: int, payload: dict, chat_id: int | None = None) -> bool:
        chat_pending = self._key("updates", "pending", "chat", chat_id) if chat_id is not None else ""
        return self._run("claim", [self._key("update", update_id), self._key("updates", "pending"),
                                   self._key("updates", "last"), chat_pending],
                         [update_id, json.dumps(payload), time.time(), "" if chat_id is None else chat_id]) == 1

    def finish_update(self, update_id: int) -> None:
        self._run("finish", [self._key("update", update_id), self._key("updates", "pending"),
                             self._key("updates", "done")],
                  [update_id, UPDATE_RETENTION_S, self._key("updates", "pending", "chat", "")])

    def next_pending_update(self, chat_id: int) -> dict | None:
        for update_id in self.r.zrange(self._key("updates", "pending", "chat", chat_id), 0, 0):
            payload = self.r.hget(self._key("update", update_id), "payload")
            if payload:
                return json.loads(payload)
        return None

    def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        return self._run("acquire", [self._key("lease", name)], [owner, max(1, int(ttl_s * 1000))]) == 1

    def release_lease(self, name: str, owner: str) -> None:
        self._run("release", [self._key("lease", name)], [owner])

    def pending_updates(self) -> list[dict]:
        ids = self.r.zrange(self._key("updates", "pending"), 0, -1)
        with self.r.pipeline(transaction=False) as pipe:
            for update_id in ids:
                pipe.hget(self._key("update", update_id), "payload")
            payloads = pipe.execute()
        return [json.loads(p) for p in payloads if p]

    def last_update_id(self) -> int | None:
        last = self.r.get(self._key("updates", "last"))
        return int(last) if last is not None else None

    def prune(self, updates_older_than_s: float = UPDATE_RETENTION_S, jobs_older_than_s: float = JOB_RETENTION_S,
              now: float | None = None) -> tuple[int, int]:
        now = time.time() if now is None else now
        updates = self._prune(self._key("updates", "done"), self._key("updates", "last"),
                              now - updates_older_than_s, self._key("update", ""))
        jobs = self._prune(self._key("jobs", "finished"), self._key("jobs", "none"),
                           now - jobs_older_than_s, self._key("job", ""))
        return updates, jobs

    def _prune(self, index: str, keep: str, cutoff: float, record_prefix: str) -> int:
        forgotten = 0
        while True:  # in batches, so one script never holds Redis for long
            n, seen = self._run("prune", [index, keep], [cutoff, record_prefix, PRUNE_BATCH])
            forgotten += n
            if seen < PRUNE_BATCH or n == 0:
                return forgotten

    # -- chats -----------------------------------------------------------------------------------------------
    def chat(self, chat_id: int) -> ChatState:
        row = self.r.hgetall(self._key("chat", chat_id))
        if not row:
            return ChatState(chat_id)
        return ChatState(chat_id, row.get("content_file_id"), row.get("style_file_id"), row.get("awaiting"),
                         Settings.from_json(row.get("settings")), ContentInfo.from_json(row.get("content_info")))

    def save_chat(self, state: ChatState) -> None:
        fields = {"content_file_id": state.content_file_id, "style_file_id": state.style_file_id,
                  "awaiting": state.awaiting, "settings": json.dumps(asdict(state.settings)),
                  "content_info": state.content.to_json(), "updated": time.time()}
        key = self._key("chat", state.chat_id)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={k: v for k, v in fields.items() if v is not None})
            absent = [k for k, v in fields.items() if v is None]
            if absent:
                pipe.hdel(key, *absent)
            pipe.execute()

    # -- saved styles ---------------------------------------------------------------------------------------------
    @staticmethod
    def _style(row: dict) -> SavedStyle | None:
        if not row or "vector" not in row:
            return None
        return SavedStyle(int(row["id"]), int(row["chat_id"]), row["name"], json.loads(row["vector"]),
                          float(row["created"]))

    def save_style(self, chat_id: int, name: str, vector: list[float],
                   limit: int = MAX_SAVED_STYLES) -> SavedStyle | None:
        style_id = self._run("save_style", [self._key("chat", chat_id, "styles"), self._key("styles", "seq")],
                             [self._key("style", ""), limit, chat_id, name, json.dumps(vector), time.time()])
        return self.saved_style(chat_id, style_id) if style_id else None

    def saved_styles(self, chat_id: int) -> list[SavedStyle]:
        ids = self.r.zrange(self._key("chat", chat_id, "styles"), 0, -1)
        with self.r.pipeline(transaction=False) as pipe:
            for style_id in ids:
                pipe.hgetall(self._key("style", style_id))
            rows = pipe.execute()
        return [s for s in map(self._style, rows) if s and s.chat_id == chat_id]

    def saved_style(self, chat_id: int, style_id: int) -> SavedStyle | None:
        style = self._style(self.r.hgetall(self._key("style", style_id)))
        return style if style and style.chat_id == chat_id else None

    def rename_style(self, chat_id: int, style_id: int, name: str) -> bool:
        return self._change_style(chat_id, style_id, "rename", name)

    def delete_style(self, chat_id: int, style_id: int) -> bool:
        return self._change_style(chat_id, style_id, "delete")

    def _change_style(self, chat_id: int, style_id: int, action: str, name: str = "") -> bool:
        return self._run("change_style", [self._key("style", style_id), self._key("chat", chat_id, "styles")],
                         [chat_id, style_id, action, name]) == 1

    # -- jobs ------------------------------------------------------------------------------------------------
    @staticmethod
    def _job(row: dict) -> Job | None:
        if not row or "status" not in row:
            return None
        message = row.get("progress_message_id")
        return Job(int(row["id"]), int(row["chat_id"]), row["kind"], row.get("preset"), row["content_file_id"],
                   row.get("style_file_id"), json.loads(row["options"]), row["status"],
                   int(message) if message else None, row.get("reason"), float(row["created"]))

    def create_job(self, chat_id: int, kind: str, content_file_id: str, preset: str | None = None,
                   style_file_id: str | None = None, options: dict | None = None) -> Job | None:
        now = time.time()
        fields = {"chat_id": chat_id, "kind": kind, "preset": preset, "content_file_id": content_file_id,
                  "style_file_id": style_file_id, "options": json.dumps(options or {}), "status": "queued",
                  "created": now, "updated": now}
        pairs = [x for k, v in fields.items() if v is not None for x in (k, v)]
        job_id = self._run("create", [self._key("chat", chat_id, "job"), self._key("jobs", "seq"),
                                      self._key("jobs", "active")], [self._key("job", ""), *pairs])
        return self.job(job_id) if job_id else None

    def job(self, job_id: int) -> Job | None:
        return self._job(self.r.hgetall(self._key("job", job_id)))

    def active_job(self, chat_id: int) -> Job | None:
        job_id = self.r.get(self._key("chat", chat_id, "job"))
        job = self.job(int(job_id)) if job_id else None
        return job if job and job.status in ACTIVE else None

    def unfinished_jobs(self) -> list[Job]:
        ids = self.r.zrange(self._key("jobs", "active"), 0, -1)
        with self.r.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hgetall(self._key("job", job_id))
            rows = pipe.execute()
        return [j for j in map(self._job, rows) if j and j.status in ACTIVE]

    def move_job(self, job_id: int, to: str, expect: tuple[str, ...], reason: str | None = None) -> bool:
        return self._run("move", [self._key("job", job_id), self._key("jobs", "active"),
                                  self._key("jobs", "finished")],
                         [job_id, to, reason or "", "1" if reason is not None else "0", time.time(),
                          JOB_RETENTION_S, self._key("chat", ""), *expect]) == 1

    def set_progress_message(self, job_id: int, message_id: int) -> None:
        self._run("set_field", [self._key("job", job_id)], ["progress_message_id", message_id, time.time()])

    def close_chat_jobs(self, chat_id: int, reason: str) -> int:
        return self._run("close", [self._key("chat", chat_id, "job"), self._key("jobs", "active"),
                                   self._key("jobs", "finished")],
                         [reason, time.time(), JOB_RETENTION_S, self._key("job", "")])
