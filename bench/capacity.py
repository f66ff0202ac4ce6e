"""Capacity model: what each job kind costs, how many nodes a stated load needs, checked by a load run here.

1. Costs, measured in-process on this machine: CPU seconds (all threads) and wall seconds per job kind at the
   bot's qualities (presets at 512/768/1024 px; "all styles" = every available preset; NST seconds per objective
   evaluation at each level size, times the quality's evaluation budget).
2. The model: daily users x jobs per user, the busiest hour's rate (peak factor over the mean), a job mix, and a
   target utilisation give the CPU seconds per second to provide, hence the nodes of N cores.
3. The check, scaled down to this machine: the same model predicts the most jobs per second this machine serves
   for a small mix (presets at 256 px, NST at 128 px); open-loop Poisson load through the real Serve HTTP API at
   0.5x and 1.4x that prediction must be served in full below it and saturate near it above it.

    RAY_AUTH_MODE=disabled .venv/bin/python bench/capacity.py [--skip-costs] [--window 60]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import torch  # noqa: E402

from models import loading  # noqa: E402
from models.catalogue import Catalogue  # noqa: E402
from models.images import decode_image, encode_image  # noqa: E402
from models.nst import GatysNST, NSTOptions  # noqa: E402
from models.nst.options import level_budgets, level_sizes  # noqa: E402
from models.tensors import resize_long_side, to_pil, to_tensor  # noqa: E402
from models.weights_store import WeightsStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "images" / "photos" / "kodak_kodim05.jpg"
STYLE = ROOT / "tests" / "data" / "starry_night.jpg"
QUALITIES = {"fast": (512, 256, 150), "standard": (768, 384, 300), "best": (1024, 512, 500)}  # bot/state/records.py


@dataclass
class Cost:
    cpu_s: float    # CPU seconds, all threads of the process (what a node's cores must provide)
    wall_s: float


def measure(fn, repeats: int) -> Cost:
    fn()  # warm up (allocator, oneDNN kernels)
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return Cost(statistics.median(cpu), statistics.median(wall))


def sized(photo: bytes, side: int) -> torch.Tensor:
    """The photo decoded and brought to `side` px long side, as a photo at least that large would arrive (the
    test photos are 384 px squares: square is the costliest shape for a given long side)."""
    return resize_long_side(to_tensor(decode_image(photo)), side)


def preset_job(runner, photo: bytes, side: int):
    """One preset job as the service runs it: the photo at `side`, the generator, a JPEG."""
    def job() -> None:
        with torch.inference_mode():
            encode_image(to_pil(runner(sized(photo, side))), "JPEG")
    return job


def preset_costs(photo: bytes, sides: list[int], repeats: int) -> dict[str, dict[int, Cost]]:
    store, catalogue = WeightsStore(), Catalogue.load()
    costs: dict[str, dict[int, Cost]] = {}
    for status in catalogue.available(store):
        runner = loading.load_preset(store, status)
        costs[status.name] = {}
        for side in sides:
            costs[status.name][side] = c = measure(preset_job(runner, photo, side), repeats)
            print(f"  preset {status.name:>9} {side:>4} px: {c.cpu_s:6.2f} CPU s, {c.wall_s:6.2f} s", flush=True)
    return costs


def nst_evaluation_costs(photo: bytes, sides: list[int], evaluations: int) -> dict[int, Cost]:
    """CPU and wall seconds of one objective evaluation (VGG forward + backward + L-BFGS step) per level side."""
    nst = GatysNST(WeightsStore().load_state_dict("vgg19"))
    content = sized(photo, max(sides))
    style = sized(STYLE.read_bytes(), max(sides))
    costs = {}
    for side in sides:
        run = nst.start(content, style, NSTOptions(size=side, steps=10 * evaluations, tolerance=0, min_level_side=side))

        def evaluate(run=run):
            nst.step([run])
        c = measure(lambda: [evaluate() for _ in range(evaluations)], 1)
        costs[side] = Cost(c.cpu_s / evaluations, c.wall_s / evaluations)
        print(f"  NST evaluation {side:>4} px: {costs[side].cpu_s:.3f} CPU s, {costs[side].wall_s:.3f} s", flush=True)
    return costs


def nst_job_cost(per_eval: dict[int, Cost], side: int, budget: int) -> Cost:
    """A whole job: each coarse-to-fine level's share of the budget at that level's cost (the full budget; the
    optimiser may stop earlier when it converges, so this is the most a job costs)."""
    o = NSTOptions(size=side, steps=budget)
    sizes = level_sizes(side, o.min_level_side, o.max_levels)
    budgets = level_budgets(budget, len(sizes), o.coarse_share)
    return Cost(sum(b * per_eval[s].cpu_s for s, b in zip(sizes, budgets)),
                sum(b * per_eval[s].wall_s for s, b in zip(sizes, budgets)))


def nodes_needed(rate: float, mix: dict[str, float], cost: dict[str, Cost], cores: int, utilisation: float) -> dict:
    """CPU seconds per second the busiest hour asks for, and the nodes of `cores` cores kept at `utilisation`."""
    demand = rate * sum(share * cost[kind].cpu_s for kind, share in mix.items())
    return {"cpu_s_per_s": demand, "nodes": demand / (cores * utilisation)}


# -- the check: open-loop load through the real service ------------------------------------------------------
async def open_loop(url: str, rate: float, window_s: float, mix: dict[str, float], photo: bytes, style: bytes,
                    preset_side: int, nst_side: int, nst_steps: int, preset: str, seed: int = 0) -> dict:
    import httpx

    rng = random.Random(seed)
    results: list[tuple[str, int, float, float]] = []   # kind, status, latency, finished (s from start)
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        t0 = time.perf_counter()

        async def one(kind: str) -> None:
            start = time.perf_counter()
            if kind == "preset":
                r = await client.post(f"/v1/stylize/{preset}", params={"size": preset_side}, content=photo)
            else:
                r = await client.post("/v1/nst", files={"content": photo, "style": style},
                                      data={"size": str(nst_side), "steps": str(nst_steps)})
            end = time.perf_counter()
            results.append((kind, r.status_code, end - start, end - t0))

        tasks, at = [], rng.expovariate(rate)
        while at < window_s:
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            kind = "preset" if rng.random() < mix["preset"] else "nst"
            tasks.append(asyncio.create_task(one(kind)))
            at += rng.expovariate(rate)
        await asyncio.gather(*tasks)
    ok = [r for r in results if r[1] == 200]
    in_window = [r for r in ok if r[3] <= window_s]
    lat = sorted(r[2] for r in ok)
    return {"offered": len(results), "ok": len(ok), "refused_503": sum(r[1] == 503 for r in results),
            "other": sum(r[1] not in (200, 503) for r in results),
            "served_per_s_in_window": len(in_window) / window_s,
            "p50_s": statistics.median(lat) if lat else None,
            "p95_s": lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else None}


def check_on_this_machine(args, photo: bytes) -> None:
    import ray
    from ray import serve

    from serve_app.builder import build_styles_app

    cores = os.cpu_count() or 1
    preset_side, nst_side, nst_steps = 256, 128, 80
    preset = "vangogh"
    print(f"\n== the check on this machine ({cores} cores): presets {preset_side} px, NST {nst_side} px "
          f"x {nst_steps} evaluations, mix {args.check_mix}")
    cost = {"preset": preset_costs_of(preset, photo, preset_side),
            "nst": nst_job_cost(nst_evaluation_costs(photo, [nst_side], 15), nst_side, nst_steps)}
    mix = {"preset": args.check_mix, "nst": 1 - args.check_mix}
    capacity = 1 / nodes_needed(1.0, mix, cost, cores, 1.0)["nodes"]  # jobs/s at full use of every core
    print(f"  costs: preset {cost['preset'].cpu_s:.2f} CPU s, NST {cost['nst'].cpu_s:.2f} CPU s; "
          f"model: this machine serves at most {capacity:.2f} jobs/s of this mix")

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": 8124})
    serve.run(build_styles_app({"accelerator": "auto", "presets": [preset],
                                "generator": {"max_ongoing_requests": 8, "max_queued_requests": 32,
                                              "user_config": {"max_batch_size": 8, "batch_wait_timeout_s": 0.01}},
                                "nst_options": {"max_queued_requests": 4}}), name="styles", route_prefix="/")
    style = STYLE.read_bytes()
    rows = []
    for factor in args.factors:
        r = asyncio.run(open_loop("http://127.0.0.1:8124", factor * capacity, args.window, mix, photo, style,
                                  preset_side, nst_side, nst_steps, preset))
        rows.append((factor, factor * capacity, r))
        print(f"  offered {factor:.1f}x ({factor * capacity:.2f} jobs/s): {json.dumps(r)}", flush=True)
    serve.shutdown()
    ray.shutdown()
    print("\n| offered (x model capacity) | offered jobs/s | served jobs/s | served / model capacity | 503 | p50 s | "
          "p95 s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for factor, rate, r in rows:
        print(f"| {factor:.1f} | {rate:.2f} | {r['served_per_s_in_window']:.2f} | "
              f"{r['served_per_s_in_window'] / capacity:.2f} | {r['refused_503']} | {r['p50_s'] or 0:.1f} | "
              f"{r['p95_s'] or 0:.1f} |")


def preset_costs_of(name: str, photo: bytes, side: int) -> Cost:
    store, catalogue = WeightsStore(), Catalogue.load()
    runner = loading.load_preset(store, catalogue.status(catalogue.get(name), store))

    return measure(preset_job(runner, photo, side), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=10_000, help="daily users")
    ap.add_argument("--jobs-per-user", type=float, default=5)
    ap.add_argument("--peak", type=float, default=5, help="the busiest hour's rate over the day's mean")
    ap.add_argument("--mix", default='{"preset": 0.7, "all": 0.1, "nst": 0.2}', help="job kinds' shares (JSON)")
    ap.add_argument("--quality", default="standard", choices=QUALITIES)
    ap.add_argument("--cores", type=int, default=16, help="cores per node in the plan")
    ap.add_argument("--utilisation", type=float, default=0.6, help="the share of each node's cores to plan for")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-costs", action="store_true", help="only the check on this machine")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--check-mix", type=float, default=0.8, help="preset share in the check (the rest NST)")
    ap.add_argument("--factors", type=float, nargs="+", default=[0.5, 1.4])
    ap.add_argument("--window", type=float, default=60, help="seconds of offered load per factor")
    args = ap.parse_args()
    photo = (PHOTO if PHOTO.exists() else ROOT / "tests" / "data" / "kodim23.jpg").read_bytes()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")

    if not args.skip_costs:
        preset_side, nst_side, budget = QUALITIES[args.quality]
        print("== costs per job (median of", args.repeats, "runs)")
        presets = preset_costs(photo, sorted({q[0] for q in QUALITIES.values()}), args.repeats)
        per_eval = nst_evaluation_costs(photo, sorted({s for q in QUALITIES.values()
                                                      for s in level_sizes(q[1], 256, 3)}), 8)
        print("\n| job | CPU s | wall s (this machine) |\n| --- | ---: | ---: |")
        for q, (ps, ns, nb) in QUALITIES.items():
            mean = Cost(statistics.mean(c[ps].cpu_s for c in presets.values()),
                        statistics.mean(c[ps].wall_s for c in presets.values()))
            everything = Cost(sum(c[ps].cpu_s for c in presets.values()), sum(c[ps].wall_s for c in presets.values()))
            nst = nst_job_cost(per_eval, ns, nb)
            print(f"| preset, {q} ({ps} px, mean of {len(presets)}) | {mean.cpu_s:.2f} | {mean.wall_s:.2f} |")
            print(f"| all styles, {q} ({len(presets)} x {ps} px) | {everything.cpu_s:.2f} | {everything.wall_s:.2f} |")
            print(f"| NST, {q} ({ns} px, {nb} evaluations) | {nst.cpu_s:.1f} | {nst.wall_s:.1f} |")
        mix = json.loads(args.mix)
        cost = {"preset": Cost(statistics.mean(c[preset_side].cpu_s for c in presets.values()), 0),
                "all": Cost(sum(c[preset_side].cpu_s for c in presets.values()), 0),
                "nst": nst_job_cost(per_eval, nst_side, budget)}
        mean_rate = args.users * args.jobs_per_user / 86400
        plan = nodes_needed(mean_rate * args.peak, mix, cost, args.cores, args.utilisation)
        print(f"\n== the plan: {args.users} daily users x {args.jobs_per_user} jobs = {mean_rate:.2f} jobs/s on "
              f"average, {mean_rate * args.peak:.2f} jobs/s at the {args.peak:g}x peak; mix {mix}, {args.quality}")
        print(f"  {plan['cpu_s_per_s']:.1f} CPU s per second -> {plan['nodes']:.1f} nodes of {args.cores} cores at "
              f"{args.utilisation:.0%} (round up); per kind: " + ", ".join(
                  f"{k} {mean_rate * args.peak * s * cost[k].cpu_s:.1f} cores" for k, s in mix.items()))

    if not args.skip_check:
        check_on_this_machine(args, photo)


if __name__ == "__main__":
    main()
