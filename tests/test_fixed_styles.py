"""Fixed-style presets: a style vector made once from an artwork, shipped through the weights manifest, painted by
the arbitrary network's transformer alone; the catalogue's engine choice; the structure and grid checks."""
import hashlib
import json
import math

import pytest
import torch
from PIL import Image

from models import loading
from models.arbitrary import load_arbitrary
from models.arbitrary.fixed import (FORMAT, StyleVectorError, check_vector, collection_vector,
                                    read_vector_document, vector_document)
from models.catalogue import Catalogue, CatalogueError
from models.cyclegan.checkerboard import checkerboard_peak
from models.structure import edge_correlation
from models.tensors import to_pil, to_tensor
from models.weights_manifest import RepoSource, WeightSpec, load_manifest
from models.weights_store import WeightsStore

DATA = __import__("pathlib").Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def fast(store):
    return loading.load_fast(store)


@pytest.fixture(scope="module")
def photo256():
    return to_tensor(Image.open(DATA / "kodim23.jpg").convert("RGB").resize((256, 171), Image.LANCZOS))


def fixed_style_store(tmp_path, store, vector: torch.Tensor) -> WeightsStore:
    """A weights store holding the real transformer and one fixed style, `style_starry`, as the manifest lists
    shipped ones."""
    doc = vector_document(vector, {"method": "style image", "image": "tests/data/starry_night.jpg"})
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "starry.json").write_bytes(doc)
    (tmp_path / "arbitrary_transform.onnx").write_bytes(store.verified_path("fast_transform").read_bytes())
    manifest = {"fast_transform": store.spec("fast_transform"),
                "style_starry": WeightSpec("style_starry", "styles/starry.json", hashlib.sha256(doc).hexdigest(),
                                           len(doc), sources=(RepoSource("weights/styles/starry.json"),))}
    return WeightsStore(root=tmp_path, manifest=manifest, mirror=None)


def catalogue_with_starry(tmp_path) -> Catalogue:
    path = tmp_path / "styles.yaml"
    path.write_text("presets:\n  - name: starry\n    label: Starry\n    weights:\n"
                    "      - {weights: fast_transform, adapter: arbitrary, style: style_starry, origin: fixed style}\n")
    return Catalogue.load(path)


def test_a_fixed_style_preset_paints_as_the_arbitrary_network_given_the_same_artwork(tmp_path, store, fast, photo256):
    painting = to_tensor(Image.open(DATA / "starry_night.jpg").convert("RGB"))
    vector = fast.style_vector(painting)
    fixed_store = fixed_style_store(tmp_path, store, vector)
    status = catalogue_with_starry(tmp_path).statuses(fixed_store)[0]
    assert status.available and status.choice.engine == "fixed style" and status.as_dict()["engine"] == "fixed style"
    preset = loading.load_preset(fixed_store, status)(photo256)
    # the served own-style path with the artwork itself: the same transformer, the same vector
    assert (preset - fast.paint(photo256, vector)).abs().max() < 1e-5
    # the network as written (nearest upsampling, one pass): the same picture, not the same pixels (bilinear
    # upsampling and phase averaging change the 2-4 px texture): compared over 4 px cells
    exact = load_arbitrary(store.verified_path("fast_predict").read_bytes(),
                           store.verified_path("fast_transform").read_bytes())
    as_written = exact.paint(photo256, exact.style_vector(painting))
    cells = lambda x: torch.nn.functional.avg_pool2d(x[None], 4)  # noqa: E731
    assert (cells(preset) - cells(as_written)).abs().mean() < 0.03
    assert (preset - photo256).abs().mean() > 0.1      # and it painted


def test_the_clean_transformer_paints_without_the_networks_grid(store, fast, photo256):
    exact = load_arbitrary(store.verified_path("fast_predict").read_bytes(),
                           store.verified_path("fast_transform").read_bytes())
    starry = fast.style_vector(to_tensor(Image.open(DATA / "starry_night.jpg").convert("RGB")))
    photo = to_tensor(Image.open(DATA / "kodim23.jpg").convert("RGB"))   # 576 x 384
    as_written = checkerboard_peak(to_pil(exact.paint(photo, starry)))
    clean = checkerboard_peak(to_pil(fast.paint(photo, starry)))
    assert as_written > 1.3 and clean < 1.2, (as_written, clean)   # 1.3: the catalogue's gate


def test_a_missing_or_altered_style_vector_makes_the_preset_unavailable_with_the_fix(tmp_path, store, fast):
    fixed_store = fixed_style_store(tmp_path, store, torch.zeros(100))
    catalogue = catalogue_with_starry(tmp_path)
    (tmp_path / "styles" / "starry.json").write_bytes(vector_document(torch.ones(100), {}))
    status = catalogue.statuses(fixed_store)[0]
    assert not status.available and "corrupt" in status.reason and "stylebot weights fetch style_starry" in status.reason
    (tmp_path / "styles" / "starry.json").unlink()
    status = catalogue.statuses(fixed_store)[0]
    assert not status.available and "not downloaded" in status.reason


def test_a_fixed_style_entry_without_its_vector_name_is_refused(tmp_path):
    path = tmp_path / "styles.yaml"
    path.write_text("presets:\n  - name: x\n    label: X\n    weights:\n      - {weights: fast_transform, adapter: arbitrary}\n")
    with pytest.raises(CatalogueError, match="style vector"):
        Catalogue.load(path)


@pytest.mark.parametrize("values, message", [
    ("not a list", "must be a list"), ([0.0] * 99, "has 99 numbers"), ([0.0] * 99 + [math.nan], "finite"),
    ([0.0] * 99 + [math.inf], "finite"), ([0.0] * 99 + ["1"], "numbers only"), ([0.0] * 99 + [True], "numbers only"),
    ([0.0] * 99 + [10 ** 400], "outside"), ([0.0] * 99 + [-10.5], "outside")])
def test_bad_vectors_are_refused_by_name(values, message):
    with pytest.raises(StyleVectorError, match=message):
        check_vector(values)


def test_vector_documents_round_trip_and_refuse_other_files():
    v = torch.linspace(-2, 2, 100)
    doc = vector_document(v, {"method": "mean"})
    assert json.loads(doc)["format"] == FORMAT and torch.equal(read_vector_document(doc), v)
    for bad in (b"\xff\xfe", b"[1, 2]", json.dumps({"format": "other", "vector": [0] * 100}).encode()):
        with pytest.raises(StyleVectorError):
            read_vector_document(bad)


def test_collection_vectors_mean_and_medoid():
    vectors = torch.tensor([[0.0] * 100, [1.0] * 100, [1.2] * 100, [5.0] * 100, [6.0] * 100])
    mean, none = collection_vector(vectors, "mean")
    medoid, i = collection_vector(vectors, "medoid")
    assert none is None and torch.allclose(mean, torch.full((100,), 2.64))
    assert i == 2 and torch.equal(medoid, vectors[2])     # summed distances: 10.2 for 1.0, 10.0 for 1.2


SHIPPED = ("monet", "vangogh", "cezanne", "ukiyoe", "candy", "mosaic", "rain_princess", "udnie")


def test_every_shipped_fixed_style_is_in_the_manifest_with_its_provenance_and_a_model_card(store):
    manifest = load_manifest()
    catalogue = Catalogue.load()
    for status in catalogue.statuses(store):
        if status.choice is None or status.choice.adapter != "arbitrary":
            continue
        spec = manifest[status.choice.style]
        doc = json.loads(store.verified_path(spec.name).read_bytes())
        assert doc["provenance"]["method"] and doc["provenance"]["network"] == "fast_transform"
        card = store.verified_path(spec.name).with_suffix(".md").read_text()
        assert spec.sha256 in card and "bench/catalogue_eval.py" in card


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_presets_keep_the_photos_shapes_without_a_grid(name, store):
    catalogue = Catalogue.load()
    status = catalogue.status(catalogue.get(name), store)
    assert status.available
    paint = loading.load_preset(store, status)
    for file in ("kodim23.jpg", "astronaut.jpg"):
        img = Image.open(DATA / file).convert("RGB")
        out = to_pil(paint(to_tensor(img)))
        # held-out photos in bench/catalogue_eval.py: the chosen engines keep 0.4 or more on every one
        assert edge_correlation(img, out) >= 0.4, (name, file)
        assert checkerboard_peak(out) <= 1.3, (name, file)


def test_the_structure_check_fails_a_broken_generator(store):
    from models.cyclegan.inference import GeneratorRunner
    from models.cyclegan.network import ResnetGenerator

    img = Image.open(DATA / "kodim23.jpg").convert("RGB")
    torch.manual_seed(0)
    untrained = GeneratorRunner(ResnetGenerator(ngf=16, n_blocks=3))   # paints blotches, not the photo
    assert edge_correlation(img, to_pil(untrained(to_tensor(img)))) < 0.4
    blurred = img.resize((24, 16), Image.BILINEAR).resize(img.size, Image.BILINEAR)  # shapes gone
    assert edge_correlation(img, blurred) < 0.4
    assert edge_correlation(img, img) > 0.99
