import os
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
    from serve_app.weights_store import WeightsStore

    s = WeightsStore()
    for name in ("vgg19", "vintage"):
        s.fetch(name, log=print)
    return s


@pytest.fixture(scope="session")
def vgg_state(store):
    return store.load_state_dict("vgg19")


@pytest.fixture(scope="session")
def nst(vgg_state):
    from deployments.nst import GatysNST

    return GatysNST(vgg_state)


@pytest.fixture(scope="session")
def photo():
    from deployments.imaging import to_tensor
    from serve_app.images import decode_image

    return to_tensor(decode_image((DATA / "kodim23.jpg").read_bytes(), max_side=128))


@pytest.fixture(scope="session")
def painting():
    from deployments.imaging import to_tensor
    from serve_app.images import decode_image

    return to_tensor(decode_image((DATA / "starry_night.jpg").read_bytes(), max_side=256))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
