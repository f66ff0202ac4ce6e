"""An NST replica's resident memory over identical jobs, with and without handing freed memory back between jobs.

`python bench/nst_memory.py [--jobs 20]` runs the jobs through `NSTScheduler` (what an NSTOptimizer replica runs,
no Ray) in two processes side by side, one with `models.memory.release_freed_memory` (the default) and one with
it switched off, and prints each one's seconds per job and resident MiB after each job.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_jobs(jobs: int, size: int, steps: int, release: bool) -> None:
    import models.nst.scheduler as scheduler_module
    from models.images import decode_image
    from models.memory import resident_mib
    from models.nst import GatysNST, NSTOptions
    from models.tensors import to_tensor
    from models.weights_store import WeightsStore

    if not release:
        scheduler_module.release_freed_memory = lambda: False
    data = ROOT / "tests" / "data"
    photo, style = (to_tensor(decode_image((data / name).read_bytes())) for name in ("kodim23.jpg", "starry_night.jpg"))
    scheduler = scheduler_module.NSTScheduler(GatysNST(WeightsStore().load_state_dict("vgg19")), 1, {})
    started, resident = time.monotonic(), []
    for done in range(1, jobs + 1):
        job = scheduler.submit(photo, style, NSTOptions(size=size, steps=steps, min_style_drop=0), lambda e: None,
                               style_key="starry_night")
        job.ended.wait()
        while release and scheduler.memory_releases < done:   # the worker releases once idle, after the job's end
            time.sleep(0.01)
        resident.append(round(resident_mib()))
    scheduler.close()
    label = "released between jobs" if release else "kept (glibc's default)"
    print(f"| {label} | {(time.monotonic() - started) / jobs:.2f} | {resident[0]} | {max(resident)} | "
          f"{resident[-1]} | {' '.join(map(str, resident))} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--child", choices=("release", "keep"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_jobs(args.jobs, args.size, args.steps, args.child == "release")
        return
    print(f"{args.jobs} identical jobs, {args.size} px, {args.steps} evaluations, two processes side by side\n")
    print("| freed memory | s per job | MiB after job 1 | most | last | after each job |")
    print("| --- | ---: | ---: | ---: | ---: | --- |", flush=True)
    children = [subprocess.Popen([sys.executable, __file__, "--child", mode, "--jobs", str(args.jobs), "--size",
                                  str(args.size), "--steps", str(args.steps)]) for mode in ("keep", "release")]
    sys.exit(max(c.wait() for c in children))


if __name__ == "__main__":
    main()
