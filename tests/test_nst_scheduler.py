"""The NST scheduler: jobs join and leave a shared loop between steps (what an NSTOptimizer replica runs)."""
import threading

import pytest
import torch

from models.nst import NSTOptions, StyleNotTransferred
from models.nst.scheduler import NSTScheduler
from tests.test_nst_batch import jobs  # noqa: F401 - the fixture


class Events:
    def __init__(self):
        self.items, self.ended = [], threading.Event()

    def __call__(self, event):
        self.items.append(event)
        if event["type"] not in ("progress", "preview"):
            self.ended.set()

    @property
    def last(self):
        return self.items[-1]


def submit_all(scheduler, jobs):
    sinks = [Events() for _ in jobs]
    handles = [scheduler.submit(c, s, o, sink) for (c, s, o), sink in zip(jobs, sinks)]
    return sinks, handles


def test_jobs_run_together_and_each_gets_its_own_result(nst, jobs):  # noqa: F811
    scheduler = NSTScheduler(nst, capacity=3)
    try:
        sinks, _ = submit_all(scheduler, jobs)
        for sink in sinks:
            assert sink.ended.wait(300)
        for sink, (c, s, o) in zip(sinks, jobs):
            assert sink.last["type"] == "result"
            steps = [e["step"] for e in sink.items if e["type"] == "progress"]
            assert steps == list(range(1, sink.last["result"].steps + 1))
        assert scheduler.widest_step >= 2 and scheduler.running == 0
    finally:
        scheduler.close()


def test_capacity_one_runs_jobs_one_after_another(nst, jobs):  # noqa: F811
    scheduler = NSTScheduler(nst, capacity=1)
    try:
        sinks, _ = submit_all(scheduler, jobs[:2])
        for sink in sinks:
            assert sink.ended.wait(300) and sink.last["type"] == "result"
        assert scheduler.widest_step == 1
    finally:
        scheduler.close()
    assert scheduler.memory_releases == 1    # once idle, not between the two jobs (the second was waiting)


def test_a_cancelled_job_leaves_mid_batch_and_the_others_finish(nst, jobs):  # noqa: F811
    scheduler = NSTScheduler(nst, capacity=3)
    try:
        sinks = [Events() for _ in jobs]
        cancel_at = threading.Event()

        def watch(event, sink=sinks[1]):
            sink(event)
            if event["type"] == "progress" and event["step"] == 4:
                cancel_at.set()

        handles = [scheduler.submit(c, s, o, watch if i == 1 else sinks[i]) for i, (c, s, o) in enumerate(jobs)]
        assert cancel_at.wait(120)
        handles[1].cancel()
        for sink in sinks:
            assert sink.ended.wait(300)
        assert sinks[1].last["type"] == "left"
        assert max(e["step"] for e in sinks[1].items if e["type"] == "progress") <= 5
        assert sinks[0].last["type"] == "result" and sinks[2].last["type"] == "result"
    finally:
        scheduler.close()


def test_a_job_whose_style_did_not_take_gets_the_typed_error(nst, jobs):  # noqa: F811
    content, style, _ = jobs[0]
    scheduler = NSTScheduler(nst, capacity=2)
    try:
        sink = Events()
        scheduler.submit(content, style, NSTOptions(size=64, steps=1, min_level_side=32), sink)
        assert sink.ended.wait(120)
        assert sink.last["type"] == "error" and isinstance(sink.last["error"], StyleNotTransferred)
    finally:
        scheduler.close()


def test_bad_options_are_refused_at_submit(nst, jobs):  # noqa: F811
    content, style, _ = jobs[0]
    scheduler = NSTScheduler(nst)
    try:
        with pytest.raises(ValueError):
            scheduler.submit(content, style, NSTOptions(size=4), Events())
    finally:
        scheduler.close()


def test_a_job_that_asks_for_previews_gets_the_picture_so_far_at_most_max_times(nst, jobs):  # noqa: F811
    scheduler = NSTScheduler(nst, capacity=2)
    try:
        (c, s, o), (c2, s2, o2) = jobs[0], jobs[1]
        asked, plain = Events(), Events()
        scheduler.submit(c, s, o, asked, preview_every_s=0.0, max_previews=2)
        scheduler.submit(c2, s2, o2, plain)
        assert asked.ended.wait(300) and plain.ended.wait(300)
        previews = [e for e in asked.items if e["type"] == "preview"]
        assert len(previews) == 2 and asked.last["type"] == "result"
        assert [e["step"] for e in previews] == sorted({e["step"] for e in previews})  # distinct steps, in order
        assert all(p["image"].shape[0] == 3 and 0 <= float(p["image"].min()) <= float(p["image"].max()) <= 1
                   for p in previews)
        assert not [e for e in plain.items if e["type"] == "preview"]
    finally:
        scheduler.close()


def test_a_finished_job_leaves_nothing_for_the_cycle_collector(nst, jobs):  # noqa: F811
    """A job and its run referred to each other, so a finished job's L-BFGS history and images waited for Python's
    rare full collection: an optimizer replica's memory crept up job after job (bench/README.md, "Soak")."""
    import gc

    from models.nst.run import NSTRun
    from models.nst.scheduler import NSTJob

    scheduler = NSTScheduler(nst, capacity=1)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        sink = Events()
        scheduler.submit(*jobs[0], sink)
        assert sink.ended.wait(300) and sink.last["type"] == "result"
        scheduler.close()
        del sink
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, (NSTJob, NSTRun, torch.Tensor))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []
