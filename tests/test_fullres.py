"""Full-resolution painting (models/fullres): thumbnail instance-norm statistics, tiles with a margin of the
network's measured reach, cores written into a uint8 array. For each engine kind: a CycleGAN-style generator
(the project's vangogh preset), the multi-style network, the arbitrary network with a fixed style (its clean
path: bilinear upsampling and the 2 px phase average).

A 1024 x 680 photo in 256 px tiles: 12 tiles, 3 column and 2 row borders; thumbnail 384 px. Memory and time are
measured by bench/fullres.py, not here."""
import numpy as np
import pytest
import torch
from PIL import Image

from models import loading
from models.fullres import (FullResPainter, NormStats, borders, install_norm_hooks, measure_reach, seam_peak,
                            step_profiles, thumbnail, tile_grid)
from models.tensors import from_array

DATA = __import__("pathlib").Path(__file__).parent / "data"
W, H, TILE, THUMB = 1024, 680, 256, 384
# (weights, adapter, style, fixed styles, measured reach in px)
ENGINES = {
    "generator": ("stylebot_vangogh", "stylebot", None, None, 83),
    "multistyle": ("multistyle26", "multistyle", 3, None, 63),
    "fixed": ("fast_transform", "arbitrary", "style_vangogh", ["style_vangogh"], 60),
}
# Painted at full size and shrunk to the thumbnail, against the thumbnail painted whole: these networks paint
# brush marks of a fixed size in pixels, so at 2.7x the pixels the marks are 2.7x finer and fall elsewhere;
# the whole-image path at full size differs from the thumbnail's painting by as much (measured, whole / tiled:
# generator 0.082 / 0.094, multistyle 0.265 / 0.252 (style 3 paints dense strokes), fixed 0.087 / 0.079).
SHRUNK_MAD = {"generator": 0.115, "multistyle": 0.275, "fixed": 0.10}
SEAM = 1.5   # measured peaks: with the thumbnail's statistics 1.07-1.18, each tile with its own 3.7-7.0


def margin(kind: str) -> int:
    """The margin FullResPainter would choose (the measured reach rounded up to 4 px), without measuring again."""
    return -(-ENGINES[kind][4] // 4) * 4


def u8(x: torch.Tensor) -> np.ndarray:
    return x.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 255)


def shrink(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((like.shape[1], like.shape[0]), Image.BOX))


@pytest.fixture(scope="module")
def runners(store):
    out = {}
    for kind, (weights, adapter, style, styles, _) in ENGINES.items():
        runner = loading.load_runner(store, weights, adapter, styles=styles)
        out[kind] = (runner, runner.for_style(style))
    return out


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.asarray(Image.open(DATA / "kodim23.jpg").convert("RGB").resize((W, H), Image.BICUBIC))


@pytest.fixture(scope="module")
def paintings(runners, photo):
    """Per engine: the whole image painted at once, tiled with the thumbnail's statistics, tiled with each
    tile's own, and the thumbnail painted whole; the painter, for its grid."""
    cache = {}

    def get(kind):
        if kind not in cache:
            runner, paint = runners[kind]
            painter = FullResPainter.for_runner(runner, ENGINES[kind][2], tile=TILE, margin=margin(kind),
                                                thumb_side=THUMB)
            cache[kind] = dict(whole=u8(paint(from_array(photo))), tiled=painter(photo),
                               naive=painter(photo, thumbnail_stats=False),
                               small=u8(paint(thumbnail(photo, THUMB))), painter=painter)
        return cache[kind]
    return get


@pytest.mark.parametrize("kind", ENGINES)
def test_the_hooks_change_nothing_until_statistics_are_frozen(kind, runners):
    runner, paint = runners[kind]
    install_norm_hooks(runner.net)
    x, other = torch.rand(3, 96, 128), torch.rand(3, 96, 128)
    plain, stats = paint(x), NormStats()
    with stats.recording():
        recorded = paint(x)
    with stats.frozen():
        replayed, frozen_other = paint(x), paint(other)
    assert len(stats) >= 13
    assert (recorded - plain).abs().max() < 1e-5 and (replayed - plain).abs().max() < 1e-5
    assert (frozen_other - paint(other)).abs().mean() > 1e-3   # another image's statistics do change it
    assert torch.equal(paint(x), plain)                         # and outside a session nothing is left


@pytest.mark.parametrize("kind", ENGINES)
def test_the_reach_is_measured_and_the_margin_covers_it(kind, runners):
    runner, paint = runners[kind]
    reach = measure_reach(paint, runner.net)
    assert reach == ENGINES[kind][4]
    painter = FullResPainter(paint, runner.net, tile=TILE)
    assert painter.margin >= reach and painter.margin % 4 == 0 and painter.margin - reach < 4


def test_a_blend_with_the_photo_is_measured_on_the_painting_itself(runners):
    """At strength 0 the finished painting is the photo, which reaches nothing: the service measures the reach
    on the painting (reach_of), or one request at strength 0 would leave every later tile without a margin."""
    from models.cyclegan.finishing import finished

    runner, paint = runners["generator"]
    assert measure_reach(finished(paint, 0.0), runner.net) == 0
    painter = FullResPainter(finished(paint, 0.0, True), runner.net, tile=TILE, reach_of=paint)
    assert painter.margin == margin("generator")


@pytest.mark.parametrize("kind", ENGINES)
def test_with_the_whole_images_own_statistics_the_tiles_are_the_whole_image(kind, runners, photo):
    """A thumbnail as large as the photo is the photo: the tiles then get exactly the whole image's pixels
    (uint8 rounding of float noise aside), which is what the margin and the 4 px alignment promise."""
    runner, paint = runners[kind]
    small = np.ascontiguousarray(photo[:340, :512])
    whole = u8(paint(from_array(small)))
    tiled = FullResPainter.for_runner(runner, ENGINES[kind][2], tile=128, margin=margin(kind),
                                      thumb_side=10 ** 6, whole_side=0)(small)
    assert len(tile_grid(340, 512, 128, 64)) == 12
    assert np.abs(tiled.astype(int) - whole).max() <= 1 and mad(tiled, whole) < 1e-4


@pytest.mark.parametrize("kind", ENGINES)
def test_the_tiled_painting_shrunk_matches_the_thumbnail_painted_whole(kind, paintings):
    p = paintings(kind)
    assert p["tiled"].shape == (H, W, 3) and p["tiled"].dtype == np.uint8
    assert mad(shrink(p["tiled"], p["small"]), p["small"]) < SHRUNK_MAD[kind]
    assert mad(shrink(p["tiled"], p["small"]), p["small"]) < mad(shrink(p["whole"], p["small"]), p["small"]) + 0.02
    # at full size the thumbnail's statistics are nearer the whole image's own than each tile's are
    assert mad(p["tiled"], p["whole"]) < mad(p["naive"], p["whole"])


@pytest.mark.parametrize("kind", ENGINES)
def test_no_seam_shows_with_the_thumbnails_statistics_and_one_does_without(kind, paintings):
    p = paintings(kind)
    rows, cols = borders(p["painter"].tiles(H, W))
    assert len(rows) == 2 and len(cols) == 3
    assert seam_peak(p["tiled"], rows, cols) < SEAM
    assert seam_peak(p["naive"], rows, cols) > SEAM


def test_an_own_style_vector_paints_tiled_through_the_stylizer(store, photo):
    fast = loading.load_fast(store)
    vector = fast.style_vector(from_array(np.asarray(Image.open(DATA / "starry_night.jpg").convert("RGB"))))
    small = np.ascontiguousarray(photo[:256, :384])
    painter = FullResPainter.for_runner(fast.transformer, vector, tile=128, thumb_side=10 ** 6, whole_side=0)
    whole = u8(fast.paint(from_array(small), vector))
    assert np.abs(painter(small).astype(int) - whole).max() <= 1


def test_the_grid_covers_the_image_once_on_the_4px_phase():
    tiles = tile_grid(1001, 777, 256, 84)
    cover = np.zeros((1001, 777), int)
    for t in tiles:
        top, left, bottom, right = t.core
        cover[top:bottom, left:right] += 1
        assert top % 4 == 0 and left % 4 == 0 and t.box[0] % 4 == 0 and t.box[1] % 4 == 0
        assert t.box[0] == max(0, top - 84) and t.box[3] == min(777, right + 84)
    assert (cover == 1).all() and len(tiles) == 4 * 4
    assert len(tile_grid(200, 400, 256, 84)) == 1   # no side longer than a tile reads: one tile


def test_a_photo_no_larger_than_the_thumbnail_is_painted_whole(runners, photo):
    runner, paint = runners["multistyle"]
    painter = FullResPainter.for_runner(runner, 3, tile=128, margin=64, thumb_side=1024)
    assert len(painter.tiles(H, W)) == 1 and len(painter.tiles(H, W + 4)) > 1
    assert np.array_equal(painter(photo), u8(paint(from_array(photo))))


def test_the_thumbnail_is_made_in_strips_as_if_whole(photo):
    thumb = thumbnail(photo, 300)
    whole = np.asarray(Image.fromarray(photo).resize((300, 199), Image.BOX))
    assert thumb.shape == (3, 199, 300)
    assert np.abs(u8(thumb).astype(int) - whole).max() <= 1


def test_step_profiles_read_in_strips_are_the_whole_images(photo):
    rows, cols = step_profiles(photo)
    f = photo.astype(np.float32)
    assert np.allclose(rows, np.abs(np.diff(f, axis=0)).mean(axis=(1, 2)), atol=1e-4)
    assert np.allclose(cols, np.abs(np.diff(f, axis=1)).mean(axis=(0, 2)), atol=1e-4)


def test_a_network_without_an_instance_norm_is_refused():
    with pytest.raises(ValueError, match="no instance norm"):
        install_norm_hooks(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3)))


def test_an_enlarged_result_keeps_its_picture_and_gains_the_paintings_detail(photo):
    """models/fullres/enlarge.py: shrunk back, the enlargement is the small result (its low band is kept); at full
    size it carries the full-size painting's marks, where the bicubic enlargement is soft."""
    from models.fullres.enlarge import bicubic, with_painted_detail
    from models.structure import edge_magnitude

    small = np.asarray(Image.fromarray(photo).resize((256, 170), Image.BOX))[..., ::-1].copy()  # another picture
    painted = photo                                     # stands for a full-size painting: all its detail is real
    out = with_painted_detail(small, painted)
    assert out.shape == photo.shape and out.dtype == np.uint8
    back = np.asarray(Image.fromarray(out).resize((256, 170), Image.BOX))
    assert mad(back, small) < 0.02                      # the result's picture, up to its own scale
    soft = bicubic(small, photo.shape[:2])
    sharp, blurred = (edge_magnitude(Image.fromarray(a)).mean() for a in (out, soft))
    assert sharp > 1.3 * blurred                        # (the test photo is itself enlarged from 384 px)
