"""stylebot on a two-node Ray cluster on this machine (README, "Several machines"): a head and a second node, each
its own `ray start` with its own CPUs, temp dir and ports; `serve deploy serve_config.yaml` against the head, as
it is in the repository; the bot on Redis, talking to the fake Telegram Bot API. Requests go through the HTTP
proxy of each node (both listen on the config's port; the kernel spreads connections between them). Then the
second node is lost mid-load (every process it started killed at once, as when a machine goes away): every
request is answered in the end, each failed attempt was a refused connection, a 503 or a lost replica, and each
of the bot's jobs delivers its picture or tells the person.

Not part of `make test` (it starts a second Ray cluster of its own, about four minutes on two cores):
`make test-multinode`, or `pytest -m multinode tests/multinode`."""
from __future__ import annotations

import io
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from PIL import Image

from bot import texts
from tests.multinode.cluster import LocalCluster
from tests.test_bot_e2e import SECRET, Chat, bot_env, fake  # noqa: F401 - fake: a module-scoped fixture

pytestmark = [pytest.mark.multinode, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "serve_config.yaml"
URL = "http://127.0.0.1:8000"    # serve_config.yaml's http_options, on every node
RETRYABLE = {500, 502, 503, 504}
# Ray's words for a request whose replica went away with its node (the proxy answers those with a 500)
LOST_REPLICA_WORDS = ("ActorDiedError", "ActorUnavailableError", "actor died", "unavailable", "NodeDiedError")
# What Ray 2.60's proxy answers when the ingress replica handling the request dies with its node: it maps only
# back pressure and an unavailable deployment to 503 (serve/_private/http_util.py), any RayActorError to a bare
# 500 with this body, and nothing in the application can change that answer. It is safe to send again: every
# styles endpoint is free of side effects (README, "Several machines").
BARE_500 = "500: Internal Server Error"


@dataclass
class Attempt:
    at: float
    outcome: str                  # "200", "503", "500: <body>", or the transport error's name


@dataclass
class Request:
    preset: str
    attempts: list[Attempt] = field(default_factory=list)
    answered: bool = False


def stylize_until_answered(preset: str, photo: bytes, patience_s: float = 180) -> Request:
    """One preset request as a careful client sends it: a refused connection or a 5xx is sent again (the
    request is idempotent), a 4xx is a wrong answer and ends it."""
    request = Request(preset)
    end = time.monotonic() + patience_s
    while time.monotonic() < end:
        at = time.monotonic()
        try:
            r = httpx.post(f"{URL}/v1/stylize/{preset}", params={"size": 96}, content=photo, timeout=60,
                           headers={"Content-Type": "image/jpeg", "Connection": "close"})
        except httpx.TransportError as e:
            request.attempts.append(Attempt(at, type(e).__name__))
            time.sleep(0.3)
            continue
        outcome = str(r.status_code) if r.status_code != 500 else f"500: {r.text[:300]}"
        request.attempts.append(Attempt(at, outcome))
        if r.status_code == 200:
            Image.open(io.BytesIO(r.content)).load()
            request.answered = True
            return request
        if r.status_code not in RETRYABLE:
            return request
        time.sleep(float(r.headers.get("retry-after", 0.5)) if r.status_code == 503 else 0.3)
    return request


class Load:
    """`workers` clients sending preset requests one after another until stopped."""

    def __init__(self, presets: list[str], photo: bytes, workers: int = 3):
        self.presets, self.photo, self.done = presets, photo, []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(workers)]

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(240)

    def _run(self, i: int) -> None:
        n = i
        while not self._stop.is_set():
            self.done.append(stylize_until_answered(self.presets[n % len(self.presets)], self.photo))
            n += 1


class PatientChat(Chat):
    """A chat whose updates Telegram delivers again until the webhook answers 200, as the real one does."""

    def post(self, update: dict, secret: str | None = SECRET) -> httpx.Response:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = super().post(update, secret)
                if r.status_code == 200 or time.monotonic() > deadline:
                    return r
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(1)


@pytest.fixture(scope="module")
def cluster(fake, redis_server, tmp_path_factory):
    with __import__("socket").socket() as s:
        if s.connect_ex(("127.0.0.1", 8000)) == 0:
            pytest.fail("port 8000 (serve_config.yaml's) is in use: stop the service running there first")
    env = bot_env(fake, tmp_path_factory.mktemp("unused") / "unused.db", STYLEBOT_STATE_URL=redis_server.url,
                  STYLEBOT_LEASE_S="5", STYLEBOT_NST_MAX_SIZE="128", STYLEBOT_NST_MAX_STEPS="80",
                  RAY_AUTH_MODE="disabled", RAY_health_check_period_ms="1000",
                  RAY_health_check_failure_threshold="3")
    c = LocalCluster(env)
    try:
        c.start_head(cpus=2)
        c.add_node(cpus=2, name="second")
        c.deploy(CONFIG)
        c.wait_for(lambda: all_running(c), 420, "both applications RUNNING")
        yield c
    finally:
        c.shutdown()


def all_running(c: LocalCluster) -> bool:
    apps = c.serve_details().get("applications", {})
    return set(apps) >= {"styles", "bot"} and all(a["status"] == "RUNNING" for a in apps.values())


def replica_nodes(c: LocalCluster) -> dict[str, set[str]]:
    """{deployment: the roles ("head", "worker") of the nodes its running replicas are on}."""
    roles = c.node_roles()
    return {d: {roles.get(r["node_id"], "gone") for r in dep["replicas"] if r["state"] == "RUNNING"}
            for app in c.serve_details()["applications"].values() for d, dep in app["deployments"].items()}


def proxied(node_logs: Path) -> int:
    """Preset requests a node's HTTP proxy served (its access log lines)."""
    return sum(f.read_text(errors="replace").count("/v1/stylize/") for f in node_logs.glob("serve/proxy_*.log"))


def told_of_a_failure(chat) -> bool:
    failures = (texts.INTERRUPTED, texts.FAILED, texts.BUSY, texts.DELIVERY_FAILED)
    return any(t.startswith(f.split("{")[0]) for t in chat.texts() for f in failures)


def test_replicas_run_on_both_nodes_and_each_nodes_proxy_serves(cluster, data_dir):
    placement = replica_nodes(cluster)
    print("placement:", placement)
    assert set().union(*placement.values()) == {"head", "worker"}
    proxies = cluster.serve_details()["proxies"]
    assert len(proxies) == 2 and all(p["status"] == "HEALTHY" for p in proxies.values())
    presets = [s["name"] for s in httpx.get(f"{URL}/v1/styles").json()["styles"] if s["available"]]
    photo = (data_dir / "kodim23.jpg").read_bytes()
    requests = [stylize_until_answered(p, photo) for p in presets * 4]
    assert all(r.answered and len(r.attempts) == 1 for r in requests)
    assert all(proxied(node.logs()) > 0 for node in cluster.nodes), [proxied(n.logs()) for n in cluster.nodes]


def test_losing_the_second_node_mid_load_loses_no_request_and_no_job(cluster, fake, redis_server, data_dir):
    presets = [s["name"] for s in httpx.get(f"{URL}/v1/styles").json()["styles"] if s["available"]]
    photo = (data_dir / "kodim23.jpg").read_bytes()
    client = httpx.Client(base_url=URL, timeout=30)
    painter, tapper = PatientChat(client, fake, data_dir), PatientChat(client, fake, data_dir)
    before = replica_nodes(cluster)
    with Load(presets, photo) as load:
        time.sleep(10)
        painter.send_photo()                                   # an own-style job, running when the node goes
        painter.wait_text(texts.CHOOSE_STYLE)
        painter.tap(painter.button("My own style image"))
        painter.wait_text("Now send the painting")
        painter.send_photo("starry_night.jpg")
        fake.wait_for(lambda: fake.sent("editMessageText", painter.id), 120, "the NST job's first progress")
        tapper.send_photo()
        tapper.wait_text(texts.CHOOSE_STYLE)
        tapper.tap(tapper.keyboard()[0]["callback_data"])      # a preset job, queued or running at the loss
        lost_at = time.monotonic()
        killed = cluster.lose(next(n for n in cluster.nodes if n.name == "second"))
        cluster.wait_for(lambda: all_running(cluster) and set().union(*replica_nodes(cluster).values()) == {"head"},
                         300, "every replica back, on the head")
        time.sleep(15)                                          # load on the recovered service
    print(f"killed {killed} processes; placement before: {before}")

    # every request was answered, and nothing failed before the loss
    unanswered = [r for r in load.done if not r.answered]
    assert unanswered == []
    failures = [a for r in load.done for a in r.attempts if a.outcome != "200"]
    print(f"{len(load.done)} requests, {sum(len(r.attempts) for r in load.done)} attempts; failed attempts:",
          Counter(a.outcome.split(":")[0] for a in failures))
    assert all(a.at >= lost_at - 1 for a in failures)
    for a in failures:   # a refused or reset connection (the lost node's proxy), a 503, or a lost replica
        assert (a.outcome in ("503", "502", "504", BARE_500) or not a.outcome[0].isdigit()
                or any(w in a.outcome for w in LOST_REPLICA_WORDS)), a.outcome
    assert len(load.done) > 3 * len(presets)
    retried = sum(f.read_text(errors="replace").count("the replica painting it was lost")
                  for f in cluster.nodes[0].logs().glob("serve/replica_styles_StylesIngress_*"))
    print(f"generator calls the head's ingress sent again after losing their replica: {retried}")

    # the bot: each job delivered its picture once or told the person, and the chats take new requests
    keys = redis.Redis.from_url(redis_server.url, decode_responses=True)
    for chat in (painter, tapper):
        fake.wait_for(lambda: chat.photos() or told_of_a_failure(chat), 300, f"chat {chat.id}'s job to end")
        jobs = [keys.hgetall(k) for k in keys.scan_iter("{stylebot}:job:*")]
        statuses = [j["status"] for j in jobs if j.get("chat_id") == str(chat.id)]
        assert statuses and all(s in ("done", "failed") for s in statuses), statuses
        print(f"chat {chat.id}: jobs {statuses}; told: {[t[:60] for t in chat.texts()]}")
        assert len(chat.photos()) == statuses.count("done")
        photos = len(chat.photos())
        chat.send_photo()
        chat.fake.wait_for(lambda: chat.texts().count(texts.CHOOSE_STYLE) >= 2, 60, "the style menu")
        chat.tap(chat.keyboard()[0]["callback_data"])
        chat.fake.wait_for(lambda: len(chat.photos()) == photos + 1, 120, "the next result")
    keys.close()
    client.close()
