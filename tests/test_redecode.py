"""Re-decoding: a transposed-convolution preset becomes a bilinear one that paints what it painted, without the
checkerboard, and ships in the same checkpoint format."""
import pytest
import torch

from models.cyclegan.checkerboard import checkerboard_peak
from models.cyclegan.checkpoints import load_generator
from models.cyclegan.inference import GeneratorRunner
from models.cyclegan.network import ResnetGenerator
from models.cyclegan.redecode import (RedecodeConfig, Redecoder, blur, redecoded_checkpoint, student_of,
                                     upsampler_indices)
from models.cyclegan.training import stylebot_checkpoint, TrainConfig
from models.tensors import to_pil
from serve_app.cli import main


def _teacher(seed: int = 0) -> ResnetGenerator:
    torch.manual_seed(seed)
    return ResnetGenerator(ngf=16, n_blocks=2, affine=True, decoder="transpose").eval()


def _correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1])


def test_the_student_keeps_the_encoder_and_starts_from_the_transposed_kernels(photo):
    teacher = _teacher()
    student = student_of(teacher)
    assert student.config == {**teacher.config, "decoder": "bilinear"}
    upsamplers = tuple(f"model.{i}." for i in upsampler_indices(student))
    assert len(upsamplers) == 2
    for key, value in teacher.state_dict().items():
        if not key.startswith(upsamplers):
            assert torch.equal(student.state_dict()[key], value), key
    torch.manual_seed(1)
    unrelated = ResnetGenerator(ngf=16, n_blocks=2, affine=True, decoder="bilinear").eval()
    unrelated.load_state_dict({k: v for k, v in student.state_dict().items() if not k.startswith(upsamplers)},
                              strict=False)
    x = photo[None] * 2 - 1
    with torch.no_grad():
        target = blur(teacher(x), 1.5)
        started = _correlation(blur(student(x), 1.5), target)
        fresh = _correlation(blur(unrelated(x), 1.5), target)
    # Flipped, transposed kernels give a decoder that already paints roughly what the teacher paints; freshly
    # initialised ones do not.
    assert started > 0.5 and started > fresh + 0.1
    small = photo[:, :128, :128]
    assert checkerboard_peak(to_pil(GeneratorRunner(teacher)(small))) > 3
    assert checkerboard_peak(to_pil(GeneratorRunner(student)(small))) < 1.3


def test_a_bilinear_preset_is_not_re_decoded():
    with pytest.raises(ValueError, match="already has a bilinear decoder"):
        student_of(student_of(_teacher()))


def test_redecoding_brings_the_student_closer_and_ships_in_the_preset_format(data_dir, photo):
    teacher = _teacher()
    photos = [data_dir / "kodim23.jpg", data_dir / "astronaut.jpg"]
    redecoder = Redecoder(teacher, photos, RedecodeConfig(steps=30, batch_size=2, crop=64, lr=5e-3, holdout=0.0),
                          log=print)
    fixed = torch.stack([photo[:, :64, :64], photo[:, -64:, -64:]]) * 2 - 1
    with torch.no_grad():
        before = float(redecoder.loss(fixed))
    student, record = redecoder.fit()
    with torch.no_grad():
        after = float(redecoder.loss(fixed))
    assert after < 0.85 * before
    assert record["steps_done"] == 30 and record["decoder"] == "bilinear"
    encoder = redecoder.start
    assert all(torch.equal(a, b) for a, b in zip(student.model[:encoder].state_dict().values(),
                                                  teacher.model[:encoder].state_dict().values()))

    shipped = redecoded_checkpoint(stylebot_checkpoint(teacher, TrainConfig(name="tiny")), student, record)
    loaded = load_generator(shipped, "stylebot")
    assert loaded.config["decoder"] == "bilinear"
    assert shipped["training"]["name"] == "tiny" and shipped["training"]["redecoded"]["steps_done"] == 30
    x = photo[None, :, :64, :64] * 2 - 1
    assert torch.allclose(loaded(x), student(x), atol=2e-2)  # fp16 storage


def test_redecode_preset_cli(tmp_path, data_dir, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("kodim23.jpg", "astronaut.jpg", "wave.jpg"):
        (photos / name).write_bytes((data_dir / name).read_bytes())
    teacher_path = tmp_path / "tiny.pth"
    torch.save(stylebot_checkpoint(_teacher(), TrainConfig(name="tiny")), teacher_path)
    out = tmp_path / "out" / "tiny.pth"
    assert main(["redecode-preset", str(teacher_path), "--photos", str(photos), "-o", str(out), "--steps", "2",
                 "--crop", "64", "--batch-size", "2"]) == 0
    assert load_generator(torch.load(out, weights_only=True), "stylebot").config["decoder"] == "bilinear"
    assert f"saved {out}" in capsys.readouterr().out

    # Already bilinear, or not a file: a clear error, nothing written.
    assert main(["redecode-preset", str(out), "--photos", str(photos), "-o", str(tmp_path / "again.pth")]) != 0
    assert main(["redecode-preset", str(tmp_path / "missing.pth"), "--photos", str(photos),
                 "-o", str(tmp_path / "again.pth")]) != 0
    assert main(["redecode-preset", str(photos / "wave.jpg"), "--photos", str(photos),     # not a checkpoint
                 "-o", str(tmp_path / "again.pth")]) != 0
    err = capsys.readouterr().err
    assert "already has a bilinear decoder" in err and "missing.pth" in err and "wave.jpg" in err
    assert not (tmp_path / "again.pth").exists()
