"""The 26-style network ported to torch: it reproduces the original ONNX model's output, batches different
styles in one pass, and its weight reader refuses what is not an ONNX file of float weights."""
import numpy as np
import pytest
import torch

from models.multistyle import NUM_STYLES, load_multistyle
from models.onnxgraph.proto import OnnxFormatError, read_initializers


@pytest.fixture(scope="module")
def onnx_bytes(store):
    return store.verified_path("multistyle26").read_bytes()


@pytest.fixture(scope="module")
def reference(data_dir):
    return np.load(data_dir / "multistyle26_reference.npz")


def test_the_torch_port_reproduces_onnxruntime(onnx_bytes, reference):
    net = load_multistyle(onnx_bytes)
    assert sum(p.numel() for p in net.parameters()) == 166104
    x = torch.from_numpy(reference["image"].astype(np.float32) / 255).permute(2, 0, 1)[None]
    weights = torch.from_numpy(reference["weights"])
    expected = torch.from_numpy(reference["stylized"].astype(np.float32))
    # one pass, a different style (and a blend) for each image of the batch
    out = net(x.expand(len(weights), -1, -1, -1), weights)
    assert out.shape == expected.shape
    assert (out - expected).abs().max() < 2e-3           # float16 storage of the reference
    assert (out[0] - out[1]).abs().mean() > 0.05          # and the styles do differ
    one = net(x, net.one_hot(13))
    assert torch.allclose(one[0], out[1], atol=1e-5)


def test_style_index_is_checked(onnx_bytes):
    net = load_multistyle(onnx_bytes)
    with pytest.raises(ValueError, match="0..25"):
        net.one_hot(NUM_STYLES)


@pytest.mark.parametrize("junk", [b"", b"\x00" * 10, b"\x3a\xff\xff", b"not an onnx file at all", b"\x08\x80"])
def test_junk_is_refused_by_the_reader(junk):
    with pytest.raises(OnnxFormatError):
        read_initializers(junk)


def test_a_truncated_file_is_refused(onnx_bytes):
    with pytest.raises(OnnxFormatError):
        read_initializers(onnx_bytes[: len(onnx_bytes) // 2])


def test_initializers_have_the_exported_names(onnx_bytes):
    weights = read_initializers(onnx_bytes)
    assert weights["contract.0.w"].shape == (32, 3, 9, 9) and weights["expand.2.norm.beta"].shape == (26, 3)
    assert all(w.dtype == np.float32 for w in weights.values())
