"""The fast arbitrary-style model: the wheel's int8 ONNX networks run in torch (models.onnxgraph), checked against
onnxruntime's outputs committed in tests/data/fast_reference.npz (bench/make_fast_reference.py)."""
import numpy as np
import pytest
import torch
from PIL import Image

from models.arbitrary import load_arbitrary
from models.onnxgraph.module import OnnxModule
from models.onnxgraph.proto import Graph, Node, OnnxFormatError, read_graph

DATA = __import__("pathlib").Path(__file__).parent / "data"


def square(name: str, side: int) -> torch.Tensor:
    """The centre square of a test image at `side` px, as bench/make_fast_reference.py makes it."""
    img = Image.open(DATA / name).convert("RGB")
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    arr = np.asarray(img.crop((left, top, left + s, top + s)).resize((side, side), Image.LANCZOS), np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255


@pytest.fixture(scope="module")
def onnx_files(store):
    return store.verified_path("fast_predict").read_bytes(), store.verified_path("fast_transform").read_bytes()


@pytest.fixture(scope="module")
def reference():
    return np.load(DATA / "fast_reference.npz")


@pytest.fixture(scope="module")
def model(onnx_files):
    return load_arbitrary(*onnx_files)


def test_the_reader_sees_the_whole_quantized_graph(onnx_files):
    graph = read_graph(onnx_files[1])
    ops = {n.op_type for n in graph.nodes}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "Pad", "Resize", "Sigmoid"} <= ops
    assert len(graph.nodes) == 740 and len(graph.inputs) == 2 and len(graph.outputs) == 1
    int8 = [a for a in graph.initializers.values() if a.dtype == np.int8]
    assert len(int8) == 116


def test_an_operator_the_module_does_not_know_is_refused_by_name():
    graph = Graph([Node("Softmax", ["x"], ["y"])], {}, ["x"], ["y"])
    with pytest.raises(NotImplementedError, match="Softmax"):
        OnnxModule(graph)


def test_a_truncated_file_is_refused(onnx_files):
    with pytest.raises(OnnxFormatError):
        read_graph(onnx_files[0][: len(onnx_files[0]) // 3])


@pytest.mark.parametrize("fake_quant", [True, False])
def test_style_vectors_match_onnxruntime(onnx_files, reference, fake_quant):
    model = load_arbitrary(*onnx_files, fake_quant=fake_quant)
    ours = torch.stack([model.style_vector(square(n, 256)) for n in ("starry_night.jpg", "wave.jpg")]).numpy()
    ref = reference["vectors"]
    # the two styles are far apart; ours sits on onnxruntime's, within a few quantisation steps
    assert np.abs(ref[0] - ref[1]).max() > 1.0
    assert np.abs(ours - ref).max() < 0.1 and np.abs(ours - ref).mean() < 0.01


@pytest.mark.parametrize("fake_quant", [True, False])
def test_paintings_match_onnxruntime(onnx_files, reference, fake_quant):
    model = load_arbitrary(*onnx_files, fake_quant=fake_quant)
    vector = torch.from_numpy(reference["vectors"][0])
    out = model.paint(square("kodim23.jpg", 384), vector)[:, 128:256, 128:256].permute(1, 2, 0).numpy()
    ref = reference["stylized_crop"].astype(np.float32)
    # Float sums in another order flip a few activations by one int8 step, and such flips spread: a mean
    # difference of about 0.02 (PSNR 26-27 dB over the whole image); a wrong pad or upsample is 0.1 and more.
    assert np.abs(out - ref).mean() < 0.035
    other = model.paint(square("kodim23.jpg", 384), torch.from_numpy(reference["vectors"][1]))
    assert np.abs(other[:, 128:256, 128:256].permute(1, 2, 0).numpy() - ref).mean() > 0.08


def test_any_size_keeps_its_shape_and_a_batch_equals_single_runs(model):
    photo = square("kodim23.jpg", 384)[:, :203, :301]  # sides that do not divide by 4
    v1, v2 = model.style_vector(square("starry_night.jpg", 256)), model.style_vector(square("wave.jpg", 256))
    single = [model.paint(photo, v1), model.paint(photo.flip(2), v2)]
    batch = model.paint_many([photo, photo.flip(2)], [v1, v2], [1.0, 1.0])
    assert single[0].shape == photo.shape
    for a, b in zip(single, batch):
        assert torch.allclose(a, b, atol=1e-5)
    assert (single[0] - single[1].flip(2)).abs().mean() > 0.05  # each image got its own style


def test_strength_moves_from_the_photos_own_style_to_the_style_images(model):
    photo = square("kodim23.jpg", 384)[:, ::2, ::2]
    vector = model.style_vector(square("starry_night.jpg", 256))
    full, half, none = (model.paint(photo, vector, s) for s in (1.0, 0.5, 0.0))
    own = model.paint(photo, model.style_vector(photo))
    assert torch.allclose(none, own, atol=1e-5)
    d_full, d_half = (full - none).abs().mean(), (half - none).abs().mean()
    assert d_full > 0.1 and 0.3 * d_full < d_half < 0.8 * d_full  # half way is about half as far
    with pytest.raises(ValueError):
        model.paint(photo, vector, 1.5)
