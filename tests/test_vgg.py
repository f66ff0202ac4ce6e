import torch
import torch.nn.functional as F

from models.nst.vgg import CAFFE_MEAN_BGR, VGG19Features, decode_quantized, layer_names


def test_decoding_matches_a_reference_decode(vgg_state):
    decoded = decode_quantized(vgg_state)
    assert len(decoded) == 16
    for conv, block in (("conv1_1", "block1_conv1"), ("conv3_2", "block3_conv2"), ("conv5_4", "block5_conv4")):
        codes, table = vgg_state[f"{block}_W_q"], vgg_state[f"{block}_W_table"]
        w, b = decoded[conv]
        assert w.shape == codes.shape and w.dtype == torch.float32
        for index in [(0, 0, 0, 0), (3, 1, 2, 1), (codes.shape[0] - 1, codes.shape[1] - 1, 2, 2)]:
            assert w[index].item() == table[int(codes[index])].item()
        assert torch.equal(b, vgg_state[f"{block}_b"])


def test_layers_map_to_torchvision_feature_indices():
    convs = [i for i, n in enumerate(layer_names()) if n.startswith("conv")]
    assert convs == [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def test_conv1_1_filters_are_pretrained_edge_and_colour_detectors(vgg_state):
    w, _ = decode_quantized(vgg_state)["conv1_1"]

    def roughness(k):  # mean absolute difference between neighbouring taps, relative to the taps' spread
        d = (k[..., 1:, :] - k[..., :-1, :]).abs().mean() + (k[..., :, 1:] - k[..., :, :-1]).abs().mean()
        return (d / k.std()).item()

    shuffled = w.flatten()[torch.randperm(w.numel(), generator=torch.Generator().manual_seed(0))].view_as(w)
    assert roughness(w) < 0.6 * roughness(shuffled)
    # Trained first-layer filters come in colour-opponent and oriented-edge kinds: many are nearly zero-sum
    # (edge detectors) and the colour channels of a filter are far from independent.
    zero_sum = (w.sum(dim=(1, 2, 3)).abs() < 0.25 * w.abs().sum(dim=(1, 2, 3))).float().mean()
    assert zero_sum > 0.3


def test_module_applies_caffe_convention_inside(vgg_state):
    vgg = VGG19Features(vgg_state, ("relu1_1", "relu2_1"))
    raw_w, raw_b = decode_quantized(vgg_state)["conv1_1"]
    rgb = torch.rand(1, 3, 40, 52)
    bgr = rgb[:, [2, 1, 0]] * 255 - torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    expected = F.relu(F.conv2d(bgr, raw_w, raw_b, padding=1))
    got = vgg(rgb)
    assert torch.allclose(got["relu1_1"], expected, rtol=1e-4, atol=1e-2)
    assert got["relu2_1"].shape == (1, 128, 20, 26)


def test_truncated_after_the_last_needed_layer_and_frozen(vgg_state):
    vgg = VGG19Features(vgg_state, ("relu2_1",))
    assert vgg.names[-1] == "relu2_1"
    assert len(vgg.body) == 7
    assert not any(p.requires_grad for p in vgg.parameters())
