"""The project's own trained generators, committed under weights/presets/: present, verified, small, strict. They
lost the catalogue's comparison to fixed styles (bench/catalogue_eval.py) and are retired from the catalogue, kept
for the next comparison and for the tests' catalogue."""
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


def test_retired_generators_are_out_of_the_catalogue_and_fixed_styles_serve_those_presets(store):
    """bench/catalogue_eval.py chose the arbitrary network with a fixed style for all eight (bench/README.md,
    "The catalogue's engines"); the trained generators stay in the manifest to compete in the next run."""
    catalogue = Catalogue.load()
    for name in PAINTINGS + SINGLE_ARTWORKS:
        status = catalogue.status(catalogue.get(name), store)
        assert status.available and status.choice.adapter == "arbitrary" and status.choice.style == f"style_{name}"
        assert all(c.weights != f"stylebot_{name}" for c in catalogue.get(name).choices)
        assert "Retired" in (PRESETS_DIR / f"{name}.md").read_text()


def test_the_first_present_choice_serves_a_preset(tmp_path, store):
    """The tests' catalogue lists official CycleGAN weights before the project's own for vangogh."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    torch.save(upstream_generator_state(seed=3), mirror / "style_vangogh.pth")
    both = WeightsStore(root=tmp_path / "w", mirror=mirror)
    both.fetch("vangogh")
    both.fetch("stylebot_vangogh")                  # copied from the repository into the other weights folder
    catalogue = Catalogue.load(Path(__file__).parent / "data" / "styles.yaml")
    assert catalogue.status(catalogue.get("vangogh"), store).choice.weights == "stylebot_vangogh"
    status = catalogue.status(catalogue.get("vangogh"), both)
    assert status.choice.weights == "vangogh" and status.caption == "Van Gogh (official CycleGAN)"
    monet = catalogue.status(catalogue.get("monet"), both)
    assert not monet.available and "stylebot weights fetch monet" in monet.reason
    runner = loading.load_preset(both, status)
    assert runner(torch.rand(3, 36, 52)).shape == (3, 36, 52)


def test_a_repo_source_missing_from_the_checkout_is_a_clear_fetch_error(tmp_path):
    spec = WeightSpec("ghost", "presets/ghost.pth", "0" * 64, sources=(RepoSource("weights/presets/ghost.pth"),))
    s = WeightsStore(root=tmp_path, manifest={"ghost": spec}, mirror=None)
    with pytest.raises(Exception, match="missing from this checkout"):
        s.fetch("ghost")
