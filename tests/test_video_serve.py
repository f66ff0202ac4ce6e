"""Clips through the styles app (issue #26): POST /v1/video/{preset} and /v1/fast/video answer with an MP4 of the
clip's duration, frame rate and shape (sound kept), or NDJSON progress then the MP4; every broken or oversized
clip gets a JSON 4xx naming what is wrong before any painting; the frames reach the generators in batches."""
import base64
import io
import json

import httpx
import pytest

from models.video.clip import probe
from tests.video_clips import damaged, gif, mp4, rotated, scene, too_long

pytestmark = pytest.mark.serve


@pytest.fixture(scope="module")
def http(styles_app):
    with httpx.Client(base_url=styles_app["url"], timeout=300) as client:
        yield client


@pytest.fixture(scope="module")
def clip():
    return mp4(scene(frames=20, pan=1), audio_seconds=1.6)


def post_video(http, path, video: bytes, data=None, files=None, headers=None, params=None):
    return http.post(path, files={"video": ("clip.mp4", video), **(files or {})}, data=data or {}, headers=headers,
                     params=params)


def test_a_preset_paints_a_clip_with_its_sound_rate_and_shape(http, clip):
    r = post_video(http, "/v1/video/vangogh", clip, data={"size": "96"})
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4", r.text[:300]
    out, source = probe(r.content), probe(clip)
    assert (out.frames, out.fps, out.has_audio) == (source.frames, source.fps, True)
    assert (out.width, out.height) == (96, 72)


def test_ndjson_streams_frames_done_then_the_mp4(http, clip):
    r = post_video(http, "/v1/video/starry_blue", clip, data={"size": "64"},
                   headers={"Accept": "application/x-ndjson"})
    lines = [json.loads(line) for line in r.text.splitlines()]
    progress, result = lines[:-1], lines[-1]
    assert [e["type"] for e in progress] == ["progress"] * len(progress) and progress[-1]["done"] == 20
    assert result["type"] == "result" and result["frames"] == 20 and result["fps"] == 12.0
    assert probe(base64.b64decode(result["video"])).frames == 20


def test_a_gif_and_a_phone_video_on_its_side(http):
    frames = scene(frames=8, pan=0)
    from_gif = probe(post_video(http, "/v1/video/candy", gif(frames), data={"size": "80"}).content)
    upright = probe(post_video(http, "/v1/video/candy", rotated(mp4(frames)), data={"size": "80"}).content)
    assert (from_gif.width, from_gif.height, from_gif.frames, from_gif.has_audio) == (80, 60, 8, False)
    assert (upright.width, upright.height, upright.rotation) == (60, 80, 0)


def test_the_quick_own_style_network_paints_a_clip(http, clip, data_dir):
    style = (data_dir / "starry_night.jpg").read_bytes()
    r = post_video(http, "/v1/fast/video", clip, data={"size": "64", "strength": "0.8"},
                   files={"style": ("style.jpg", style)})
    assert r.status_code == 200, r.text[:300]
    assert probe(r.content).frames == 20


@pytest.mark.parametrize("video, status, code", [
    (b"", 422, "empty_video"),
    (b"hello, this is text" * 20, 415, "not_a_video"),
    (b"GIF89a" + b"\x00" * 40, 415, "not_a_video"),
])
def test_a_broken_clip_is_json_4xx(http, video, status, code):
    r = post_video(http, "/v1/video/vangogh", video)
    assert (r.status_code, r.json()["error"]) == (status, code), r.text


def test_a_clip_cut_off_and_one_over_the_limits_are_refused_before_painting(http, clip):
    cut = post_video(http, "/v1/video/vangogh", damaged(clip))
    long = post_video(http, "/v1/video/vangogh", too_long(70))
    assert cut.status_code in (415, 422) and cut.json()["error"] in ("not_a_video", "unreadable_video")
    assert (long.status_code, long.json()["error"]) == (422, "video_too_long")
    assert "60 s" in long.json()["message"]


@pytest.mark.parametrize("path, data, field", [
    ("/v1/video/vangogh", {"size": "5000"}, "size"),
    ("/v1/video/vangogh", {"steady": "maybe"}, "steady"),
    ("/v1/video/vangogh", {"style_vector": json.dumps([0.0] * 100)}, "style_vector"),
    ("/v1/video/vangogh", {"steps": "10"}, "steps"),
    ("/v1/fast/video", {"size": "64"}, "style"),
])
def test_bad_options_are_json_4xx_naming_the_field(http, clip, path, data, field):
    r = post_video(http, path, clip, data=data)
    assert r.status_code in (400, 422) and field in r.json()["message"], r.text


def test_an_unknown_style_is_404(http, clip):
    r = post_video(http, "/v1/video/nope", clip)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_style")


def test_frames_reach_the_generator_in_batches(styles_app, clip):
    from ray import serve

    r = httpx.post(styles_app["url"] + "/v1/video/vintage", files={"video": ("c.mp4", clip)},
                   data={"size": "64"}, timeout=300)
    assert r.status_code == 200
    stats = serve.get_deployment_handle("Generator_vintage", "styles").stats.remote().result()
    assert stats["clips"]["frames"] >= 20 and stats["clips"]["clips"] >= 1
