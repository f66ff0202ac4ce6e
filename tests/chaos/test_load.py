"""Chaos suite, load: a burst of preset requests gets only pictures or 503 with Retry-After (never a 5xx
or a hang), twenty chats that tap a preset at the same moment each get exactly one result, and a huge upload
does not stall the router."""
import asyncio
import io
import time

import httpx
import pytest
from PIL import Image

from bot import texts
from tests.chaos.test_hostile_bot import bot, chat, fake  # noqa: F401 - the chaos bot's fixtures
from tests.test_bot_e2e import Chat

pytestmark = [pytest.mark.serve, pytest.mark.chaos]


def test_64_concurrent_preset_requests_get_200_or_503_with_retry_after(styles_app, data_dir):
    photo = (data_dir / "kodim23.jpg").read_bytes()

    async def burst():
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=styles_app["url"], timeout=300, limits=limits) as client:
            return await asyncio.gather(*(client.post("/v1/stylize/vintage?size=96", content=photo)
                                          for _ in range(64)))

    responses = asyncio.run(burst())
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 8
    for r in responses:
        if r.status_code == 503:
            assert r.json()["error"] == "busy" and int(r.headers["retry-after"]) > 0
        else:
            assert Image.open(io.BytesIO(r.content)).size == (96, 96)
    with httpx.Client(base_url=styles_app["url"], timeout=60) as client:
        assert client.post("/v1/stylize/vintage?size=96", content=photo).status_code == 200


def test_twenty_chats_tapping_at_once_each_get_exactly_one_result(bot, fake, data_dir):  # noqa: F811
    from tests.chaos.test_hostile_bot import PREFIX

    chats = [Chat(bot, fake, data_dir, f"P{i}", prefix=PREFIX) for i in range(20)]
    for c in chats:
        c.send_photo()
    for c in chats:
        c.wait_text(texts.CHOOSE_STYLE)
    taps = [c.updates.tap(c.button("Van Gogh")) for c in chats]
    for c, tap in zip(chats, taps):       # as close together as the webhook takes them
        assert c.post(tap).status_code == 200
    for c in chats:
        fake.wait_for(lambda c=c: c.photos(), 300, f"chat {c.id}'s result")
    asyncio.run(asyncio.sleep(3))         # time for any duplicate to show up
    assert [len(c.photos()) for c in chats] == [1] * 20


def test_a_huge_upload_does_not_stall_the_router(styles_app):
    """The router decodes in a worker thread, so while a 49.6 MP PNG is decoded and fitted its event loop keeps
    answering: no health check waits for the decode (on the event loop, one would wait for all of it)."""
    from tests.chaos.hostile_files import just_under_pixel_cap

    big = just_under_pixel_cap()

    async def probe():
        async with httpx.AsyncClient(base_url=styles_app["url"], timeout=120) as client:
            assert (await client.get("/healthz")).status_code == 200
            started = time.monotonic()
            upload = asyncio.create_task(client.post("/v1/stylize/vintage?size=64", content=big))
            waits = []
            while not upload.done():
                t = time.monotonic()
                assert (await client.get("/healthz")).status_code == 200
                waits.append(time.monotonic() - t)
            return (await upload), time.monotonic() - started, waits

    response, upload_s, waits = asyncio.run(probe())
    assert response.status_code == 200
    assert len(waits) >= 3, f"the upload took {upload_s:.2f}s: too quick to observe"
    assert max(waits) < upload_s / 2, f"a health check waited {max(waits):.2f}s of the upload's {upload_s:.2f}s"
