"""Soak: mixed traffic at half the measured capacity for 30 minutes, through HTTP and the fake Telegram.

1. A local Ray cluster (`ray start`, as an operator runs it) and `serve deploy serve_config.yaml` as committed:
   the styles app and the bot, which talks to the local fake Telegram Bot API (tests/fake_telegram.py) and keeps
   its state in SQLite.
2. Capacity, measured in the same run: `--clients` closed-loop clients send the mix back to back for
   `--capacity-s` seconds; the jobs answered per second is the capacity.
3. The soak: open-loop Poisson arrivals at `--load` (0.5) x that capacity for `--minutes` (30), the mix:
   a preset over HTTP (256 px), the fast model with a style image over HTTP, Gatys NST over HTTP (128 px, 60
   evaluations), and a Telegram chat (a photo, the style keyboard, a preset tap, the painting back).
4. Every `--sample-s` seconds the resident memory of every Serve replica, proxy and controller (psutil, by the
   actor's pid from Ray's state API).

Reported: latency percentiles and outcomes per kind (errors: anything but a 200 or a 503; a chat that got no
painting and was not told why), each actor's memory over time and its growth after warm-up, against the bound
`--bound-mib` MiB or `--bound-share` of its warm size, whichever is larger. Writes bench/out/soak.json.

Not part of CI (half an hour of both cores; needs port 8000 free):

    RAY_AUTH_MODE=disabled .venv/bin/python bench/soak.py [--minutes 30] [--load 0.5]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from bot import texts  # noqa: E402
from tests.fake_telegram import FakeTelegram, Updates  # noqa: E402
from tests.multinode.cluster import LocalCluster, free_port  # noqa: E402
from tests.test_bot_e2e import SECRET, TOKEN, bot_env  # noqa: E402

URL = "http://127.0.0.1:8000"      # serve_config.yaml's http_options
DATA = ROOT / "tests" / "data"
MIX = {"preset": 0.45, "fast": 0.2, "telegram": 0.25, "nst": 0.1}
PRESET, PRESET_SIDE, NST_SIDE, NST_STEPS = "vangogh", 256, 128, 60
CHAT_PATIENCE_S = 300


@dataclass
class Outcome:
    kind: str
    status: str            # "200", "503", another status, a transport error's name, or a chat's end
    latency_s: float
    at_s: float


@dataclass
class Traffic:
    """The requests of every kind, sent to the service as the mix says."""
    client: httpx.AsyncClient
    fake: FakeTelegram
    photo: bytes
    style: bytes
    started: float = field(default_factory=time.monotonic)
    outcomes: list[Outcome] = field(default_factory=list)
    chats: int = 0

    async def one(self, kind: str) -> str:
        start = time.monotonic()
        try:
            status = await getattr(self, f"_{kind}")()
        except httpx.TransportError as e:
            status = type(e).__name__
        now = time.monotonic()
        self.outcomes.append(Outcome(kind, status, now - start, now - self.started))
        return status

    async def _preset(self) -> str:
        r = await self.client.post(f"/v1/stylize/{PRESET}", params={"size": PRESET_SIDE}, content=self.photo,
                                   headers={"Content-Type": "image/jpeg"})
        return str(r.status_code)

    async def _fast(self) -> str:
        r = await self.client.post("/v1/fast", files={"content": self.photo, "style": self.style},
                                   data={"size": str(PRESET_SIDE)})
        return str(r.status_code)

    async def _nst(self) -> str:
        r = await self.client.post("/v1/nst", files={"content": self.photo, "style": self.style},
                                   data={"size": str(NST_SIDE), "steps": str(NST_STEPS)})
        return str(r.status_code)

    async def _webhook(self, update: dict) -> None:
        start = time.monotonic()
        r = await self.client.post("/telegram/webhook", json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        now = time.monotonic()
        self.outcomes.append(Outcome("webhook", str(r.status_code), now - start, now - self.started))

    async def _telegram(self) -> str:
        """A new person: a photo, the style keyboard, a tap on the first preset, the painting (or being told)."""
        self.chats += 1
        chat = Updates(900_000 + self.chats)
        file_id = self.fake.host_file(self.photo)
        await self._webhook(chat.photo(file_id, len(self.photo)))
        keyboard = await self._wait(lambda: [c for c in self.fake.sent("sendMessage", chat.chat_id)
                                             if c.params.get("reply_markup")])
        if not keyboard:
            return "no keyboard"
        markup = keyboard[-1].params["reply_markup"]
        markup = json.loads(markup) if isinstance(markup, str) else markup
        await self._webhook(chat.tap(markup["inline_keyboard"][0][0]["callback_data"]))
        ended = await self._wait(lambda: self.fake.sent("sendPhoto", chat.chat_id) or told(self.fake, chat.chat_id))
        if not ended:
            return "no answer"
        if self.fake.sent("sendPhoto", chat.chat_id):
            return "200"
        failure = told(self.fake, chat.chat_id)
        return "503" if failure.startswith(BUSY_WORDS) else f"told: {failure[:40]}"

    @staticmethod
    async def _wait(predicate, timeout: float = CHAT_PATIENCE_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            await asyncio.sleep(0.25)
        return None


BUSY_WORDS = texts.BUSY.split("{")[0]
FAILURES = tuple(t.split("{")[0] for t in (texts.BUSY, texts.FAILED, texts.DELIVERY_FAILED, texts.INTERRUPTED,
                                          texts.DOWNLOAD_FAILED))


def told(fake: FakeTelegram, chat_id: int) -> str:
    """The failure the chat was told of, or ""."""
    return next((t for t in fake.texts(chat_id) if t.startswith(FAILURES)), "")


def pick(rng: random.Random) -> str:
    return rng.choices(list(MIX), weights=list(MIX.values()))[0]


async def closed_loop(traffic: Traffic, clients: int, seconds: float, seed: int = 1) -> float:
    """Jobs answered (200) per second with `clients` sending back to back: the capacity."""
    rng, end = random.Random(seed), time.monotonic() + seconds
    first = len(traffic.outcomes)

    async def client() -> None:
        while time.monotonic() < end:
            if await traffic.one(pick(rng)) != "200":
                await asyncio.sleep(1)    # a refused client waits as Retry-After asks, not spinning

    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    done = [o for o in traffic.outcomes[first:] if o.kind != "webhook" and o.status == "200"]
    return len(done) / (time.monotonic() - t0)


async def open_loop(traffic: Traffic, rate: float, seconds: float, sampler: "MemorySampler", seed: int = 2) -> None:
    rng, tasks = random.Random(seed), []
    t0 = time.monotonic()
    at = rng.expovariate(rate)
    sampler_task = asyncio.create_task(sampler.run_until(t0 + seconds))
    while at < seconds:
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        tasks.append(asyncio.create_task(traffic.one(pick(rng))))
        at += rng.expovariate(rate)
    await asyncio.gather(*tasks)
    await sampler_task


class MemorySampler:
    """The RSS of every live Serve actor (replicas, proxies, the controller) every `every_s` seconds."""

    def __init__(self, cluster: LocalCluster, every_s: float):
        self.cluster, self.every_s = cluster, every_s
        self.t0 = time.monotonic()
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)   # actor -> [(minute, MiB)]

    def sample(self) -> None:
        actors = (self.cluster._get("/api/v0/actors?limit=1000&detail=true") or {})
        for a in actors.get("data", {}).get("result", {}).get("result", []):
            name = a.get("name") or ""
            if a.get("state") != "ALIVE" or not name.startswith("SERVE_"):
                continue
            try:
                rss = psutil.Process(a["pid"]).memory_info().rss / 2 ** 20
            except (psutil.NoSuchProcess, KeyError):
                continue
            self.samples[name.split("::", 1)[-1]].append(((time.monotonic() - self.t0) / 60, rss))

    async def run_until(self, end: float) -> None:
        while time.monotonic() < end:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(min(self.every_s, max(0.0, end - time.monotonic())))
        await asyncio.to_thread(self.sample)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def latency_report(outcomes: list[Outcome]) -> dict:
    report = {}
    for kind in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == kind]
        ok = [o.latency_s for o in mine if o.status == "200"]
        report[kind] = {"requests": len(mine), "outcomes": dict(Counter(o.status for o in mine)),
                        "p50_s": percentile(ok, 0.5), "p95_s": percentile(ok, 0.95), "p99_s": percentile(ok, 0.99)}
    return report


def memory_report(samples: dict[str, list[tuple[float, float]]], warm_min: float, bound_mib: float,
                  bound_share: float) -> dict:
    """Per actor: its warm size (the largest sample in its own first `warm_min` minutes: a replica the autoscaler
    starts mid-soak warms up then), the last three samples' median, the growth between them, and whether the
    growth is within the bound."""
    report = {}
    for actor, points in sorted(samples.items()):
        born = points[0][0]
        warm = [mib for minute, mib in points if minute <= born + warm_min] or [points[0][1]]
        last = statistics.median(mib for _, mib in points[-3:])
        bound = max(bound_mib, bound_share * max(warm))
        report[actor] = {"samples": len(points), "warm_mib": round(max(warm), 1), "end_mib": round(last, 1),
                         "max_mib": round(max(m for _, m in points), 1),
                         "growth_mib": round(last - max(warm), 1), "bound_mib": round(bound, 1),
                         "within_bound": last - max(warm) <= bound}
    return report


def errors(outcomes: list[Outcome]) -> Counter:
    """Anything but a 200 or a 503 (a chat told the painters were busy counts as a 503)."""
    return Counter(f"{o.kind}: {o.status}" for o in outcomes if o.status not in ("200", "503"))


def print_tables(latency: dict, memory: dict, capacity: float, rate: float, minutes: float) -> None:
    print(f"\ncapacity {capacity:.2f} jobs/s (closed loop); soak at {rate:.2f} jobs/s for {minutes:g} min")
    print("\n| kind | requests | outcomes | p50 s | p95 s | p99 s |\n| --- | ---: | --- | ---: | ---: | ---: |")
    for kind, r in latency.items():
        print(f"| {kind} | {r['requests']} | {r['outcomes']} | {r['p50_s']:.2f} | {r['p95_s']:.2f} | "
              f"{r['p99_s']:.2f} |")
    print("\n| actor | warm MiB | end MiB | max MiB | growth MiB | bound MiB | within |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for actor, m in memory.items():
        print(f"| {actor} | {m['warm_mib']} | {m['end_mib']} | {m['max_mib']} | {m['growth_mib']} | "
              f"{m['bound_mib']} | {'yes' if m['within_bound'] else 'NO'} |")


async def soak(args, cluster: LocalCluster, fake: FakeTelegram) -> dict:
    photo, style = (DATA / "kodim23.jpg").read_bytes(), (DATA / "starry_night.jpg").read_bytes()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=URL, timeout=CHAT_PATIENCE_S, limits=limits) as client:
        traffic = Traffic(client, fake, photo, style)
        print(f"== capacity: {args.clients} closed-loop clients for {args.capacity_s:g} s", flush=True)
        capacity = await closed_loop(traffic, args.clients, args.capacity_s)
        rate = args.load * capacity
        print(f"   {capacity:.2f} jobs/s; == soak at {rate:.2f} jobs/s for {args.minutes:g} min", flush=True)
        traffic.outcomes.clear()
        traffic.started = time.monotonic()
        sampler = MemorySampler(cluster, args.sample_s)
        await open_loop(traffic, rate, args.minutes * 60, sampler)
    latency = latency_report(traffic.outcomes)
    memory = memory_report(sampler.samples, args.warm_min, args.bound_mib, args.bound_share)
    print_tables(latency, memory, capacity, rate, args.minutes)
    return {"capacity_jobs_per_s": capacity, "rate_jobs_per_s": rate, "minutes": args.minutes, "mix": MIX,
            "latency": latency, "memory": memory, "memory_samples": sampler.samples,
            "errors": dict(errors(traffic.outcomes))}


def start_service(fake: FakeTelegram, state_dir: Path, cpus: int) -> LocalCluster:
    env = bot_env(fake, state_dir / "state.db", RAY_AUTH_MODE="disabled")
    cluster = LocalCluster(env)
    cluster.start_head(cpus=cpus)
    cluster.deploy(ROOT / "serve_config.yaml")

    def running() -> bool:
        apps = cluster.serve_details().get("applications", {})
        return set(apps) >= {"styles", "bot"} and all(a["status"] == "RUNNING" for a in apps.values())
    cluster.wait_for(running, 600, "both applications RUNNING")
    return cluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--load", type=float, default=0.5, help="the soak's rate as a share of the measured capacity")
    ap.add_argument("--clients", type=int, default=6, help="closed-loop clients for the capacity")
    ap.add_argument("--capacity-s", type=float, default=120)
    ap.add_argument("--sample-s", type=float, default=30, help="seconds between memory samples")
    ap.add_argument("--warm-min", type=float, default=5, help="minutes of warm-up before growth is counted")
    ap.add_argument("--bound-mib", type=float, default=64)
    ap.add_argument("--bound-share", type=float, default=0.10)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak.json")
    args = ap.parse_args()
    fake = FakeTelegram(TOKEN).start(free_port())
    cluster = start_service(fake, Path(tempfile.mkdtemp(prefix="soak-")), args.cpus)
    try:
        report = asyncio.run(soak(args, cluster, fake))
    finally:
        cluster.shutdown()
        fake.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    grown = [a for a, m in report["memory"].items() if not m["within_bound"]]
    print(f"\nerrors (anything but 200 and 503): {report['errors'] or 'none'}; "
          f"memory beyond the bound: {grown or 'none'}; written to {args.out}")
    sys.exit(1 if report["errors"] or grown else 0)


if __name__ == "__main__":
    main()
