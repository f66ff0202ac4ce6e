import functools
import hashlib
import http.server
import threading

import pytest
import torch

from models.weights_manifest import UrlSource, WeightSpec, load_manifest
from models.weights_store import WeightsError, WeightsStore
from tests.upstream_layout import upstream_generator_state


def test_manifest_lists_every_weight_with_a_source():
    manifest = load_manifest()
    assert {"vgg19", "vintage", "monet", "vangogh", "cezanne", "ukiyoe"} <= set(manifest)
    for spec in manifest.values():
        assert spec.sources, spec.name
    assert manifest["vgg19"].sha256 == "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"


def test_fetched_wheel_weights_are_present_and_verified(store):
    for name in ("vgg19", "vintage"):
        st = store.status(name)
        assert st.present, st.reason
        assert hashlib.sha256(st.path.read_bytes()).hexdigest() == store.spec(name).sha256


def test_missing_weight_names_the_file_reason_and_fix(tmp_path):
    store = WeightsStore(root=tmp_path, mirror=None)
    st = store.status("vgg19")
    assert not st.present and "not downloaded" in st.reason
    with pytest.raises(WeightsError) as e:
        store.load_state_dict("vgg19")
    msg = str(e.value)
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin" in msg
    assert "stylebot weights fetch vgg19" in msg


def test_corrupt_weight_is_not_present(tmp_path, store):
    bad = tmp_path / store.spec("vintage").file
    data = bytearray(store.path("vintage").read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    st = WeightsStore(root=tmp_path, mirror=None).status("vintage")
    assert not st.present and "corrupt" in st.reason


def upstream_file(tmp_path, seed=3):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    torch.save(upstream_generator_state(seed=seed), mirror / "style_monet.pth")
    return mirror


def test_mirror_fetch_pins_a_weight_without_published_checksum(tmp_path):
    mirror = upstream_file(tmp_path)
    store = WeightsStore(root=tmp_path / "w", mirror=mirror)
    path = store.fetch("monet")
    assert store.status("monet").present
    pinned = hashlib.sha256((mirror / "style_monet.pth").read_bytes()).hexdigest()
    assert store.expected_sha256("monet") == pinned
    assert not list(path.parent.glob(".*part*"))
    # A later change to the file is caught by the pin.
    torch.save(upstream_generator_state(seed=4), path)
    assert "corrupt" in WeightsStore(root=tmp_path / "w", mirror=mirror).status("monet").reason


def test_a_bad_download_never_counts_as_present(tmp_path, store):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / store.spec("vgg19").file).write_bytes(b"half a file")
    broken = WeightsStore(root=tmp_path / "w", mirror=mirror,
                          manifest={"vgg19": WeightSpec(**{**store.spec("vgg19").__dict__, "sources": ()})})
    with pytest.raises(WeightsError) as e:
        broken.fetch("vgg19")
    assert "could not be fetched" in str(e.value) and "size" in str(e.value)
    assert not broken.status("vgg19").present
    assert not any((tmp_path / "w").iterdir())  # no partial file left behind


def test_url_source_over_local_http(tmp_path):
    served = upstream_file(tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/style_monet.pth"
        spec = WeightSpec(name="monet", file="style_monet.pth", sha256=None, sources=(UrlSource(url),))
        store = WeightsStore(root=tmp_path / "w", manifest={"monet": spec}, mirror=None)
        store.fetch("monet")
        assert store.status("monet").present
        gone = WeightSpec(name="monet", file="style_monet.pth", sha256=None,
                          sources=(UrlSource(url.replace("style_monet", "nothing")),))
        with pytest.raises(WeightsError) as e:
            WeightsStore(root=tmp_path / "x", manifest={"monet": gone}, mirror=None).fetch("monet")
        assert "STYLEBOT_WEIGHTS_MIRROR" in str(e.value)
    finally:
        server.shutdown()


def test_unknown_weight_name(store):
    with pytest.raises(WeightsError) as e:
        store.status("picasso")
    assert "vgg19" in str(e.value)
