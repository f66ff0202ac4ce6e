import torch

from models import loading
from models.catalogue import Catalogue
from models.weights_store import WeightsStore
from tests.upstream_layout import upstream_generator_state

PAINTINGS = ("monet", "vangogh", "cezanne", "ukiyoe")
SINGLE_ARTWORKS = ("candy", "mosaic", "rain_princess", "udnie")   # the serverless seed bot's four


def test_ships_the_four_paintings_the_seeds_four_and_vintage(store):
    catalogue = Catalogue.load()
    assert set(PAINTINGS) | set(SINGLE_ARTWORKS) | {"vintage"} <= {p.name for p in catalogue.presets}
    labels = {p.name: p.label for p in catalogue.presets}
    assert [labels[n] for n in SINGLE_ARTWORKS] == ["Candy", "Mosaic", "Rain Princess", "Udnie"]
    # on a fresh clone every one of them is served: the seed's from weights committed in the repository
    assert {s.name for s in catalogue.available(store)} >= set(PAINTINGS) | set(SINGLE_ARTWORKS) | {"vintage"}


def test_missing_presets_are_listed_with_reason_and_left_out(tmp_path, store):
    bare = WeightsStore(root=tmp_path, mirror=None)
    catalogue = Catalogue.load()
    statuses = {s.name: s for s in catalogue.statuses(bare)}
    for name in PAINTINGS:
        assert not statuses[name].available
        # a fixed style needs the network and its vector: the reason names both, each with its fix
        assert "stylebot weights fetch fast_transform" in statuses[name].reason
        assert f"stylebot weights fetch style_{name}" in statuses[name].reason
    assert catalogue.available(bare) == []
    available = {s.name for s in catalogue.available(store)}
    assert "vintage" in available
    assert statuses["monet"].as_dict()["reason"]


def test_official_weights_from_a_mirror_make_a_preset_available(tmp_path, data_dir):
    """The tests' catalogue lists the official CycleGAN monet as its only weights."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    torch.save(upstream_generator_state(seed=5), mirror / "style_monet.pth")
    store = WeightsStore(root=tmp_path / "w", mirror=mirror)
    store.fetch("monet")
    catalogue = Catalogue.load(data_dir / "styles.yaml")
    status = catalogue.status(catalogue.get("monet"), store)
    assert status.available and status.caption == "Monet (official CycleGAN)"
    runner = loading.load_preset(store, status)
    assert runner(torch.rand(3, 40, 40)).shape == (3, 40, 40)
