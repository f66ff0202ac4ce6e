"""Serving overhead for a preset at 512 px: direct engine call vs DeploymentHandle vs HTTP.

At concurrency 1, 4 and 16 it prints p50/p95 latency and throughput for each path, and the ratios: HTTP over
direct at concurrency 1 (target: at most 1.15) and HTTP throughput at 16 over 1 (target: above 1, from
@serve.batch). The direct path decodes, runs and encodes in-process, exactly the work a request needs.

    RAY_AUTH_MODE=disabled .venv/bin/python bench/serve_overhead.py [--preset vintage] [--requests 8]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import httpx  # noqa: E402
import ray  # noqa: E402
from ray import serve  # noqa: E402

from models.tensors import to_pil, to_tensor  # noqa: E402
from models import loading  # noqa: E402
from serve_app.builder import build_styles_app  # noqa: E402
from models.catalogue import Catalogue  # noqa: E402
from models.images import decode_image, encode_image  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402

PHOTO = Path(__file__).resolve().parents[1].parent / "shared" / "images" / "photos" / "kodak_kodim05.jpg"
SIZE = 512


def summarise(latencies: list[float], wall: float) -> dict:
    q = sorted(latencies)
    return {"p50": statistics.median(q), "p95": q[min(len(q) - 1, int(0.95 * len(q)))],
            "throughput": len(q) / wall}


async def load(call, concurrency: int, total: int) -> dict:
    latencies: list[float] = []
    queue = list(range(total))

    async def worker():
        while queue:
            queue.pop()
            t = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summarise(latencies, time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="vintage")
    ap.add_argument("--requests", type=int, default=8, help="requests per concurrency level (x2 at 16)")
    args = ap.parse_args()
    photo = PHOTO.read_bytes() if PHOTO.exists() else (Path("tests/data/kodim23.jpg")).read_bytes()

    store = WeightsStore()
    catalogue = Catalogue.load()
    runner = loading.load_preset(store, catalogue.status(catalogue.get(args.preset), store))

    def direct_once() -> bytes:
        img = decode_image(photo, max_side=SIZE)
        return encode_image(to_pil(runner(to_tensor(img))), "JPEG")

    direct_once()
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": 8123})
    handle = serve.run(build_styles_app({"accelerator": "auto", "presets": [args.preset], "nst": False,
                                         "generator": {"max_ongoing_requests": 16, "max_queued_requests": 64,
                                                       "user_config": {"max_batch_size": 8,
                                                                       "batch_wait_timeout_s": 0.05}}}),
                       name="styles", route_prefix="/")
    client = httpx.AsyncClient(base_url="http://127.0.0.1:8123", timeout=600)

    async def direct():
        await asyncio.to_thread(direct_once)

    async def via_handle():
        await handle.stylize.remote(args.preset, photo, "JPEG", SIZE)

    async def via_http():
        r = await client.post(f"/v1/stylize/{args.preset}?size={SIZE}", content=photo)
        r.raise_for_status()

    async def run_all():
        await via_handle()
        await via_http()
        results = {}
        for c in (1, 4, 16):
            n = args.requests * (2 if c == 16 else 1)
            for name, call in (("direct", direct), ("handle", via_handle), ("http", via_http)):
                if name == "direct" and c > 1:
                    continue  # the engine call is synchronous; concurrency is what Serve adds
                results[(name, c)] = await load(call, c, n)
                r = results[(name, c)]
                print(f"{name:>6} c={c:<2} n={n:<3} p50 {r['p50']:.3f}s  p95 {r['p95']:.3f}s  "
                      f"{r['throughput']:.2f} img/s", flush=True)
        return results

    results = asyncio.run(run_all())
    d1, h1, w1 = results[("direct", 1)], results[("handle", 1)], results[("http", 1)]
    w16 = results[("http", 16)]
    print("\n| path | concurrency | p50 (s) | p95 (s) | images/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for (name, c), r in results.items():
        print(f"| {name} | {c} | {r['p50']:.3f} | {r['p95']:.3f} | {r['throughput']:.2f} |")
    overhead = w1["p50"] / d1["p50"]
    print(f"\nhandle / direct p50 at c=1: {h1['p50'] / d1['p50']:.3f}")
    print(f"HTTP / direct p50 at c=1: {overhead:.3f} (target <= 1.15): {'MET' if overhead <= 1.15 else 'MISSED'}")
    gain = w16["throughput"] / w1["throughput"]
    print(f"HTTP throughput c=16 / c=1: {gain:.2f} (target > 1): {'MET' if gain > 1 else 'MISSED'}")
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
