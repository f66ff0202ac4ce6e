import subprocess
import sys

import pytest
from PIL import Image

from serve_app.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "serve_app.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_stylize_with_a_preset(tmp_path, data_dir, store):
    out = tmp_path / "out.png"
    done = run_cli("stylize", str(data_dir / "kodim23.jpg"), "--style", "vintage", "-o", str(out), "--size", "200")
    assert done.returncode == 0, done.stderr
    img = Image.open(out)
    assert img.format == "PNG" and max(img.size) == 200
    assert "Vintage" in done.stdout


def test_size_full_paints_the_photo_at_its_own_size(tmp_path, data_dir, store, capsys):
    photo = tmp_path / "wide.jpg"
    Image.open(data_dir / "kodim23.jpg").convert("RGB").resize((1040, 560)).save(photo, quality=95)
    out = tmp_path / "full.jpg"
    done = run_cli("stylize", str(photo), "--style-image", str(data_dir / "wave.jpg"), "--fast", "--size", "full",
                   "--strength", "0.8", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (1040, 560) and "tiles" in done.stderr and "3/3" in done.stderr
    assert main(["stylize", str(photo), "--style", "candy", "--size", "FULL", "--strength", "0.5", "-o", str(out)]) == 0
    assert Image.open(out).size == (1040, 560)
    # NST with --size full paints at its working size, then its result is brought to the photo's size
    from models.tensors import to_tensor
    from serve_app.cli import _nst_at_full_size

    result = to_tensor(Image.open(photo).resize((96, 52), Image.BOX))   # stands for the optimiser's picture
    art = to_tensor(Image.open(data_dir / "wave.jpg").convert("RGB"))
    assert _nst_at_full_size(str(photo), result, art, store, "cpu", False).shape == (560, 1040, 3)


def test_stylize_with_a_style_image(tmp_path, data_dir, store):
    out = tmp_path / "nst.jpg"
    done = run_cli("stylize", str(data_dir / "astronaut.jpg"), "--style-image", str(data_dir / "wave.jpg"),
                   "--size", "64", "--steps", "30", "--strength", "2", "--keep-colors", "--seed", "3", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert Image.open(out).format == "JPEG" and Image.open(out).size == (64, 64)
    assert "painting [" in done.stderr and "/30 loss" in done.stderr  # the progress bar


def test_stylize_fast_with_a_style_image(tmp_path, data_dir, store):
    out = tmp_path / "fast.png"
    done = run_cli("stylize", str(data_dir / "astronaut.jpg"), "--style-image", str(data_dir / "wave.jpg"), "--fast",
                   "--size", "160", "--strength", "0.7", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (160, 160) and "fast" in done.stdout
    for wrong, words in ((["--steps", "10"], "one pass"), (["--strength", "3"], "between 0")):
        refused = run_cli("stylize", str(data_dir / "astronaut.jpg"), "--style-image", str(data_dir / "wave.jpg"),
                          "--fast", *wrong, "-o", str(tmp_path / "no.png"))
        assert refused.returncode != 0 and words in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "no.png").exists()


def test_a_style_that_did_not_take_writes_nothing_and_says_what_to_do(tmp_path, data_dir, store):
    out = tmp_path / "nst.jpg"
    done = run_cli("stylize", str(data_dir / "astronaut.jpg"), "--style-image", str(data_dir / "wave.jpg"),
                   "--size", "64", "--steps", "1", "-o", str(out))
    assert done.returncode == 1
    assert not out.exists()
    assert "nothing written" in done.stderr and "--seed" in done.stderr and "Traceback" not in done.stderr


def test_styles_and_weights_list(capsys, store):
    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    assert "vintage" in out and "monet" in out
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "vgg19      present" in out


@pytest.mark.parametrize("args,needle", [
    (["stylize", "nope.jpg", "--style", "vintage", "-o", "x.jpg"], "no such file"),
    (["stylize", "pyproject.toml", "--style", "vintage", "-o", "x.jpg"], "not an image"),
    (["stylize", "tests/data/kodim23.jpg", "--style", "picasso", "-o", "x.jpg"], "no style 'picasso'"),
    (["stylize", "tests/data/kodim23.jpg", "--style", "vintage", "-o", "x.gif"], ".jpg, .jpeg or .png"),
    (["stylize", "tests/data/kodim23.jpg", "--style", "monet", "-o", "x.jpg"], "stylebot weights fetch style_monet"),
    (["weights", "fetch", "picasso"], "not in the weights manifest"),
])
def test_bad_input_gives_one_clear_line(capsys, store, args, needle, monkeypatch, tmp_path):
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(store.root))
    if "monet" in args:
        monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path))
    assert main(args) != 0
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["stylize", "a.jpg", "-o", "b.jpg"], ["stylize", "a.jpg", "--style", "x",
                                  "-o", "b.jpg", "--steps", "zero"], ["bogus"]])
def test_bad_arguments_exit_2(capsys, args):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_make_style_writes_a_fixed_style_the_catalogue_can_serve(tmp_path, data_dir, store):
    import hashlib
    import json

    from models.arbitrary.fixed import read_vector_document

    out = tmp_path / "styles" / "pair.json"
    done = run_cli("make-style", str(data_dir / "wave.jpg"), str(data_dir / "starry_night.jpg"), "--method", "medoid",
                   "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert read_vector_document(data).shape == (100,)
    doc = json.loads(data)
    assert doc["provenance"]["method"] == "medoid" and len(doc["provenance"]["paintings"]) == 1
    assert hashlib.sha256(data).hexdigest() in done.stdout and "adapter: arbitrary" in done.stdout
    missing = run_cli("make-style", str(tmp_path / "nowhere.jpg"), "-o", str(tmp_path / "x.json"))
    assert missing.returncode == 1 and "no such file or folder" in missing.stderr
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("hello")
    refused = run_cli("make-style", str(not_image), "-o", str(tmp_path / "y.json"))
    assert refused.returncode == 1 and "notes.jpg" in refused.stderr and not (tmp_path / "y.json").exists()


def test_stylize_a_clip_to_mp4_with_a_preset_and_with_the_quick_network(tmp_path, data_dir, store, capsys):
    from models.video.clip import probe
    from tests.video_clips import gif, mp4, scene

    clip, animation = tmp_path / "clip.mp4", tmp_path / "loop.gif"
    clip.write_bytes(mp4(scene(frames=16, pan=1), audio_seconds=1.3))
    animation.write_bytes(gif(scene(frames=6)))
    out = tmp_path / "painted.mp4"
    assert main(["stylize", str(clip), "--style", "candy", "--size", "96", "-o", str(out)]) == 0
    painted = probe(out.read_bytes())
    assert (painted.width, painted.height, painted.frames, painted.has_audio) == (96, 72, 16, True)
    assert "16 frames at 12 fps, with sound" in capsys.readouterr().out
    assert main(["stylize", str(animation), "--style-image", str(data_dir / "wave.jpg"), "--fast", "-o", str(out)]) == 0
    assert probe(out.read_bytes()).frames == 6


@pytest.mark.parametrize("extra, needle", [
    (["--style-image", "ART"], "quick network"),         # Gatys is not offered for clips
    (["--style", "candy", "--size", "2000"], "up to 720"),
    (["--style", "candy", "-o", "OUT.jpg"], "written as .mp4"),
])
def test_a_clip_refused_in_one_clear_line(tmp_path, data_dir, store, capsys, extra, needle):
    from tests.video_clips import mp4, scene

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4(scene(frames=4)))
    args = [a.replace("ART", str(data_dir / "wave.jpg")).replace("OUT", str(tmp_path / "o")) for a in extra]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "o.mp4")]
    assert main(["stylize", str(clip), *args]) == 1
    assert needle in capsys.readouterr().err


def test_a_clip_over_a_minute_is_refused_before_painting(tmp_path, store, capsys):
    from tests.video_clips import too_long

    clip = tmp_path / "long.mp4"
    clip.write_bytes(too_long(70))
    assert main(["stylize", str(clip), "--style", "candy", "-o", str(tmp_path / "o.mp4")]) == 1
    assert "at most 60 s" in capsys.readouterr().err and not (tmp_path / "o.mp4").exists()
