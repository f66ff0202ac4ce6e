"""Serving overhead for a preset: direct engine call vs DeploymentHandle vs HTTP, at 64 px and 512 px.

At concurrency 1, 4 and 16 it prints p50/p95 latency and throughput for each path. At 64 px the model's own time
is small and the serving path dominates: targets at concurrency 1, HTTP adds at most 15 ms p50 to the direct
call, a handle call at most 5 ms. At 512 px: HTTP throughput at concurrency 16 at least 1.3x concurrency 1. The
direct path decodes, runs and encodes in-process, exactly the work a request needs.

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
import yaml  # noqa: E402
from ray import serve  # noqa: E402

from models.tensors import to_pil, to_tensor  # noqa: E402
from models import loading  # noqa: E402
from serve_app.builder import build_styles_app  # noqa: E402
from models.catalogue import Catalogue  # noqa: E402
from models.images import decode_image, encode_image  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "serve_config.yaml"
PHOTO = Path(__file__).resolve().parents[1].parent / "shared" / "images" / "photos" / "kodak_kodim05.jpg"
SIZES = (64, 512)


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
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="long sides to measure")
    ap.add_argument("--batch-wait", type=float, help="override the shipped batch_wait_timeout_s")
    args = ap.parse_args()
    sizes = tuple(args.sizes)
    photo = PHOTO.read_bytes() if PHOTO.exists() else (Path("tests/data/kodim23.jpg")).read_bytes()

    store = WeightsStore()
    catalogue = Catalogue.load()
    runner = loading.load_preset(store, catalogue.status(catalogue.get(args.preset), store))

    def direct_once(size: int) -> bytes:
        img = decode_image(photo, max_side=size)
        return encode_image(to_pil(runner(to_tensor(img))), "JPEG")

    for size in sizes:
        direct_once(size)
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": 8123})
    shipped = yaml.safe_load(CONFIG.read_text())["applications"][0]["args"]["generator"]["user_config"]
    if args.batch_wait is not None:
        shipped = dict(shipped, batch_wait_timeout_s=args.batch_wait)
    print(f"batching (serve_config.yaml unless overridden): {shipped}")
    handle = serve.run(build_styles_app({"accelerator": "auto", "presets": [args.preset], "nst": False,
                                         "generator": {"max_ongoing_requests": 16, "max_queued_requests": 64,
                                                       "user_config": shipped}}),
                       name="styles", route_prefix="/")
    client = httpx.AsyncClient(base_url="http://127.0.0.1:8123", timeout=600)

    async def run_size(size: int, requests: int) -> dict:
        async def direct():
            await asyncio.to_thread(direct_once, size)

        async def via_handle():
            await handle.stylize.remote(args.preset, photo, "JPEG", size)

        async def via_http():
            r = await client.post(f"/v1/stylize/{args.preset}?size={size}", content=photo)
            r.raise_for_status()

        await via_handle()
        await via_http()
        results = {}
        for c in (1, 4, 16):
            n = requests * (2 if c == 16 else 1)
            for name, call in (("direct", direct), ("handle", via_handle), ("http", via_http)):
                if name == "direct" and c > 1:
                    continue  # the engine call is synchronous; concurrency is what Serve adds
                results[(name, c)] = r = await load(call, c, n)
                print(f"{size:>4} px {name:>6} c={c:<2} n={n:<3} p50 {r['p50']:.4f}s  p95 {r['p95']:.4f}s  "
                      f"{r['throughput']:.2f} img/s", flush=True)
        return results

    async def run_all():
        return {size: await run_size(size, args.requests * (4 if size <= 64 else 1)) for size in sizes}

    all_results = asyncio.run(run_all())
    print("\n| size | path | concurrency | p50 (ms) | p95 (ms) | images/s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size, results in all_results.items():
        for (name, c), r in results.items():
            print(f"| {size} | {name} | {c} | {1000 * r['p50']:.1f} | {1000 * r['p95']:.1f} | {r['throughput']:.2f} |")
    small = all_results[min(sizes)]
    d1, h1, w1 = small[("direct", 1)], small[("handle", 1)], small[("http", 1)]
    handle_ms, http_ms = 1000 * (h1["p50"] - d1["p50"]), 1000 * (w1["p50"] - d1["p50"])
    print(f"\n{min(sizes)} px, c=1: a handle call adds {handle_ms:.1f} ms p50 (target <= 5): "
          f"{'MET' if handle_ms <= 5 else 'MISSED'}")
    print(f"{min(sizes)} px, c=1: HTTP adds {http_ms:.1f} ms p50 (target <= 15): {'MET' if http_ms <= 15 else 'MISSED'}")
    big = all_results[max(sizes)]
    gain = big[("http", 16)]["throughput"] / big[("http", 1)]["throughput"]
    print(f"{max(sizes)} px: HTTP throughput c=16 / c=1: {gain:.2f} (target >= 1.3): {'MET' if gain >= 1.3 else 'MISSED'}")
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
