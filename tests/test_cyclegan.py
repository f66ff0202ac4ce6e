import pytest
import torch

from models.cyclegan import CheckpointError, GeneratorRunner, ResnetGenerator, load_generator
from models.cyclegan.checkerboard import checkerboard_peak
from models.cyclegan.inference import pad_to_multiple
from models.tensors import to_pil
from tests.upstream_layout import upstream_generator_state


@pytest.fixture(scope="module")
def vintage(store):
    return load_generator(store.load_state_dict("vintage"), "vintagify")


def test_upstream_checkpoint_loads_strictly_and_runs(tmp_path):
    state = upstream_generator_state(seed=1)
    assert any(k.endswith("running_mean") for k in state)
    path = tmp_path / "style_test.pth"
    torch.save(state, path)
    net = load_generator(torch.load(path, map_location="cpu", weights_only=True), "upstream")
    assert net.config == {"ngf": 64, "n_blocks": 9, "affine": False, "decoder": "transpose"}
    loaded = net.state_dict()
    for key, value in state.items():
        if "running" not in key:
            assert torch.equal(loaded[key], value), key
    y = GeneratorRunner(net)(torch.rand(3, 64, 48))
    assert y.shape == (3, 64, 48) and torch.isfinite(y).all()


def test_upstream_adapter_refuses_a_foreign_layout():
    state = upstream_generator_state(seed=1)
    state.pop("model.26.bias")
    with pytest.raises(CheckpointError):
        load_generator(state, "upstream")
    with pytest.raises(CheckpointError):
        load_generator({"foo": torch.zeros(1)}, "upstream")
    with pytest.raises(CheckpointError):
        load_generator(state, "no-such-adapter")


def test_real_vintagify_weights_load_strictly_and_keep_the_picture(vintage, photo):
    assert vintage.config == {"ngf": 64, "n_blocks": 9, "affine": True, "decoder": "transpose"}
    out = GeneratorRunner(vintage)(photo)
    assert out.shape == photo.shape
    assert (out - photo).abs().mean() > 0.02  # it changed the look...
    a, b = out.mean(0).flatten(), photo.mean(0).flatten()
    corr = torch.corrcoef(torch.stack([a, b]))[0, 1]
    assert corr > 0.7  # ...but it is still the same picture


def test_odd_sizes_round_trip(vintage):
    runner = GeneratorRunner(vintage)
    x = torch.rand(3, 33, 51)
    assert runner(x).shape == x.shape
    padded, hw = pad_to_multiple(torch.rand(1, 3, 333, 517))
    assert padded.shape[-2:] == (336, 520) and hw == (333, 517)


def test_batched_equals_one_by_one():
    net = load_generator(upstream_generator_state(seed=2, ngf=16, n_blocks=3), "upstream")
    runner = GeneratorRunner(net)
    same = [torch.rand(3, 40, 56) for _ in range(3)]
    other = torch.rand(3, 37, 29)
    batched = runner.run_many([same[0], other, same[1], same[2]])
    singles = [runner(x) for x in (same[0], other, same[1], same[2])]
    for b, s in zip(batched, singles):
        assert b.shape == s.shape
        assert torch.allclose(b, s, atol=1e-5)


def test_generator_module_keys_follow_upstream():
    keys = set(ResnetGenerator().state_dict())
    expected = {k for k in upstream_generator_state(running_stats=False)}
    assert keys == expected


def _checkerboard_of_random_generator(decoder: str, seed: int, photo: torch.Tensor) -> float:
    torch.manual_seed(seed)
    net = ResnetGenerator(ngf=16, n_blocks=2, affine=True, decoder=decoder).eval()
    return checkerboard_peak(to_pil(GeneratorRunner(net)(photo)))


@pytest.mark.parametrize("seed", [0, 1])
def test_the_upsample_decoder_paints_no_checkerboard(photo, seed):
    # Even untrained, transposed convolutions leave period-2/4 energy (their uneven kernel overlap);
    # upsample-then-convolve does not. A photo scores ~1.
    small = photo[:, :256, :256]
    assert checkerboard_peak(to_pil(small)) < 1.3
    assert _checkerboard_of_random_generator("transpose", seed, small) > 3
    assert _checkerboard_of_random_generator("upsample", seed, small) < 1.3
    assert _checkerboard_of_random_generator("bilinear", seed, small) < 1.3


def test_each_decoder_loads_only_its_own_weights():
    torch.manual_seed(0)
    up = ResnetGenerator(ngf=8, n_blocks=2, affine=True, decoder="upsample")
    checkpoint = {"config": dict(up.config), "state_dict": up.state_dict()}
    net = load_generator(checkpoint, "stylebot")
    assert net.config["decoder"] == "upsample"
    x = torch.rand(1, 3, 32, 24)
    assert torch.equal(net(x), up.eval()(x))
    # Only the two decoder convolutions change keys; everything else keeps upstream's numbering.
    transpose_keys = set(ResnetGenerator(ngf=8, n_blocks=2, affine=True).state_dict())
    assert len(transpose_keys ^ set(checkpoint["state_dict"])) == 8  # 2 x (weight, bias) on each side
    with pytest.raises(CheckpointError):
        load_generator({"config": {**up.config, "decoder": "transpose"}, "state_dict": up.state_dict()}, "stylebot")
    with pytest.raises(CheckpointError):  # upstream's adapter builds the CycleGAN layout only
        load_generator(up.state_dict(), "upstream")
    # Presets saved before the decoder was a choice carry no "decoder" and are transposed-convolution ones.
    old = ResnetGenerator(ngf=8, n_blocks=2, affine=True)
    legacy = {"config": {"ngf": 8, "n_blocks": 2, "affine": True}, "state_dict": old.state_dict()}
    assert load_generator(legacy, "stylebot").config["decoder"] == "transpose"
    with pytest.raises(ValueError, match="decoder"):
        ResnetGenerator(decoder="pixelshuffle")


def test_strength_blends_with_the_photo_and_keep_colors_keeps_its_chrominance(vintage, photo):
    from models.colour import luminance, rgb_to_yiq
    from models.cyclegan.finishing import finish

    painted = GeneratorRunner(vintage)(photo)
    assert torch.allclose(finish(photo, painted, 0.0), photo)
    assert torch.allclose(finish(photo, painted, 1.0), painted.clamp(0, 1))
    half = finish(photo, painted, 0.5)
    assert float((half - photo).abs().mean()) == pytest.approx(float((painted - photo).abs().mean()) / 2, rel=0.05)
    kept = finish(photo, painted, 1.0, keep_colors=True)
    assert (rgb_to_yiq(kept)[1:] - rgb_to_yiq(photo)[1:]).abs().mean() < 0.01       # the photo's colours
    assert (luminance(kept) - luminance(painted)).abs().mean() < 0.01               # the painting's light
    assert (rgb_to_yiq(painted)[1:] - rgb_to_yiq(photo)[1:]).abs().mean() > 0.02     # which vintage did change
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="strength"):
            finish(photo, painted, bad)
