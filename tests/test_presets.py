"""The project's own presets, committed under weights/presets/: present, verified, small, strict; the painting
ones used by the catalogue whenever the official CycleGAN weights are absent, the single-artwork ones (the
seed's four) always."""
from pathlib import Path

import pytest
import torch

from models.cyclegan.checkerboard import checkerboard_peak
from models.cyclegan.checkpoints import load_generator
from models.cyclegan.inference import GeneratorRunner
from models import loading
from models.catalogue import Catalogue
from models.weights_manifest import RepoSource, WeightSpec
from models.tensors import to_pil
from models.weights_store import WeightsStore, sha256_file
from tests.upstream_layout import upstream_generator_state

PAINTINGS = ("monet", "vangogh", "cezanne", "ukiyoe")
SINGLE_ARTWORKS = ("candy", "mosaic", "rain_princess", "udnie")
PRESETS_DIR = Path(__file__).resolve().parents[1] / "weights" / "presets"


@pytest.mark.parametrize("name", PAINTINGS + SINGLE_ARTWORKS)
def test_committed_preset_matches_its_manifest_entry_and_loads_strictly(name, store, photo):
    spec = store.spec(f"stylebot_{name}")
    path = PRESETS_DIR / f"{name}.pth"
    assert path.stat().st_size <= 8 * 1024 * 1024
    assert sha256_file(path) == spec.sha256 and store.status(spec.name).present
    checkpoint = store.load_state_dict(spec.name)
    assert checkpoint["training"]["name"] == name
    assert all(v.dtype == torch.float16 for v in checkpoint["state_dict"].values() if v.is_floating_point())
    out = GeneratorRunner(load_generator(checkpoint, "stylebot"))(photo)
    assert out.shape == photo.shape and (out - photo).abs().mean() > 0.05
    card = (PRESETS_DIR / f"{name}.md").read_text()
    assert spec.sha256 in card and "stylebot train-preset" in card


KNOWN_GRID = {
    "rain_princess": "the CPU proof preset paints a 2-4 px stripe texture (model card: known flaw); retrained when "
                     "a GPU is lent",
    "vangogh": "still the transposed-convolution decoder: re-decoded, the judge no longer saw Van Gogh (model "
               "card); retrained with the bilinear decoder when a GPU is lent",
    "ukiyoe": "still the transposed-convolution decoder: re-decoded, it kept a grid score of 4 (model card); "
              "retrained with the bilinear decoder when a GPU is lent",
}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GRID[n])) if n in KNOWN_GRID else n
    for n in PAINTINGS + SINGLE_ARTWORKS])
def test_presets_paint_without_a_checkerboard(name, store, photo):
    checkpoint = store.load_state_dict(f"stylebot_{name}")
    assert checkpoint["config"]["decoder"] == "bilinear"
    net = load_generator(checkpoint, "stylebot")
    out = GeneratorRunner(net)(photo)
    # A photo scores ~1. On held-out photos the transposed-convolution painting presets score 2.1-9.5 (monet and
    # cezanne 2.1 and 3.2 before they were re-decoded, about 1 after) and mosaic trained with a nearest-neighbour
    # decoder 11.9; the bilinear ones score below 3 (candy's dots are a texture near those periods).
    assert checkerboard_peak(to_pil(out)) < 3.0


def test_own_weights_serve_a_painting_preset_when_the_official_ones_are_absent(store):
    catalogue = Catalogue.load()
    for name in PAINTINGS:
        status = catalogue.status(catalogue.get(name), store)
        assert status.available and status.choice.weights == f"stylebot_{name}"
        assert status.as_dict()["origin"] == "stylebot's own" and "(stylebot's own)" in status.caption


def test_official_weights_win_when_present(tmp_path, store):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    torch.save(upstream_generator_state(seed=3), mirror / "style_vangogh.pth")
    both = WeightsStore(root=tmp_path / "w", mirror=mirror)
    both.fetch("vangogh")
    both.fetch("stylebot_vangogh")                  # copied from the repository into the other weights folder
    catalogue = Catalogue.load()
    status = catalogue.status(catalogue.get("vangogh"), both)
    assert status.choice.weights == "vangogh" and status.caption == "Van Gogh (official CycleGAN)"
    monet = catalogue.status(catalogue.get("monet"), both)
    assert not monet.available and "stylebot weights fetch stylebot_monet" in monet.reason
    runner = loading.load_preset(both, status)
    assert runner(torch.rand(3, 36, 52)).shape == (3, 36, 52)


def test_a_repo_source_missing_from_the_checkout_is_a_clear_fetch_error(tmp_path):
    spec = WeightSpec("ghost", "presets/ghost.pth", "0" * 64, sources=(RepoSource("weights/presets/ghost.pth"),))
    s = WeightsStore(root=tmp_path, manifest={"ghost": spec}, mirror=None)
    with pytest.raises(Exception, match="missing from this checkout"):
        s.fetch("ghost")
