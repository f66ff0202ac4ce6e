"""The studio as a Telegram Mini App, against both real Serve applications and the fake Telegram Bot API: /studio
offers the page as a web_app button, and the page's "Send to the chat" reaches the person's chat only with a
valid initData (signed with the bot's token, recent): a forged, stale or missing one is a JSON 401 and the fake
Telegram receives nothing. Last, the same through the page in chromium, with Telegram's theme applied, served
through configs/Caddyfile with the choices the README gives for the studio (api and studio)."""
from __future__ import annotations

import io
import json
from urllib.parse import quote

import httpx
import pytest
from PIL import Image

from bot import texts
from deployments.web_app_auth import MAX_AGE_S
from tests.browser import needs_browser, open_browser, screenshot, wait_until
from tests.test_bot_e2e import TOKEN, Chat, bot, fake, state_db  # noqa: F401 - the e2e bot and its fake Telegram
from tests.caddy_proxy import caddy, needs_caddy
from tests.test_web_app_auth import init_data

pytestmark = pytest.mark.serve
PERSON = 424242          # the user in tests.test_web_app_auth.init_data
SEND = "/telegram/studio/send"
THEME = {"bg_color": "#17212b", "text_color": "#f5f5f5", "button_color": "#5288c1", "button_text_color": "#ffffff"}


def a_painting(data_dir) -> bytes:
    buffer = io.BytesIO()
    Image.open(data_dir / "kodim23.jpg").save(buffer, "JPEG")
    return buffer.getvalue()


def photos_to_person(fake) -> list:
    return [c for c in fake.sent("sendPhoto", PERSON) if c.status == 200]


def test_studio_offers_the_page_as_a_mini_app_button(bot, fake, data_dir):  # noqa: F811
    chat = Chat(bot, fake, data_dir)
    chat.say("/studio")
    chat.wait_text(texts.STUDIO_INTRO)
    [button] = chat.keyboard()
    assert button["text"] == texts.STUDIO_BUTTON and button["web_app"]["url"] == "https://bot.example.org/"
    chat.say("/help")
    chat.wait_text("/studio")


@pytest.mark.parametrize("header, why", [
    (None, "no Telegram sign-in"),
    (init_data(token="987654321:AnotherBotsToken"), "does not check out"),
    (init_data().replace("424242", "424243"), "does not check out"),
    (init_data(age_s=MAX_AGE_S + 60), "too long ago"),
])
def test_a_send_without_a_valid_init_data_is_401_and_reaches_no_chat(bot, fake, data_dir, header, why):  # noqa: F811
    before = len(fake.sent("sendPhoto"))
    headers = {"X-Telegram-Init-Data": header} if header is not None else {}
    got = bot.post(SEND, content=a_painting(data_dir), headers={**headers, "Content-Type": "image/jpeg"})
    assert got.status_code == 401 and got.json()["error"] == "unauthorized" and why in got.json()["message"]
    assert len(fake.sent("sendPhoto")) == before and TOKEN not in got.text


def test_a_send_with_a_valid_init_data_reaches_that_persons_chat_in_their_language(bot, fake, data_dir):  # noqa: F811
    got = bot.post(SEND, content=a_painting(data_dir), headers={"X-Telegram-Init-Data": init_data()})
    assert got.status_code == 200 and got.json() == {"ok": True}
    [sent] = photos_to_person(fake)
    assert sent.params["caption"] == texts.for_language("ru").STUDIO_CAPTION     # the user's language_code is ru
    assert Image.open(io.BytesIO(fake.photo_bytes(sent))).size == Image.open(data_dir / "kodim23.jpg").size
    notes = bot.post(SEND, content=b"these are notes", headers={"X-Telegram-Init-Data": init_data()})
    assert notes.status_code == 415 and len(photos_to_person(fake)) == 1
    assert bot.get(SEND).status_code == 405


@pytest.fixture()
def studio_door(styles_app, tmp_path):
    """The service behind Caddy with the studio's documented choices: the page's URL there."""
    with caddy(("api", "studio"), int(styles_app["url"].rsplit(":", 1)[1]), tmp_path) as port:
        door = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{door}/healthz", timeout=30).status_code == 404     # not a choice the studio needs
        yield door


@needs_browser
@needs_caddy
@pytest.mark.parametrize("valid", [True, False], ids=["valid init data", "forged init data"])
def test_the_page_inside_telegram_sends_its_result_only_with_a_valid_init_data(bot, fake, data_dir,  # noqa: F811
                                                                              styles_app, studio_door, valid):
    signed = init_data() if valid else init_data().replace("auth_date=", "auth_date=1")
    fragment = f"tgWebAppData={quote(signed)}&tgWebAppThemeParams={quote(json.dumps(THEME))}"
    before = len(photos_to_person(fake))
    driver = open_browser(420, 900)
    try:
        driver.get(f"{studio_door}/#{fragment}")
        wait_until(lambda: driver.find_elements("css selector", ".style"), 60, "the style grid")
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(23, 33, 43)"                                   # Telegram's bg_color
        driver.find_element("id", "photo-input").send_keys(str(data_dir / "kodim23.jpg"))
        driver.find_element("css selector", '.style[data-style="vintage"]').click()
        send = wait_until(lambda: [b for b in driver.find_elements("id", "send-to-chat") if b.is_displayed()], 120,
                          "the send button under a result")[0]
        send.click()
        if valid:
            wait_until(lambda: driver.find_element("id", "status").text.startswith("Sent"), 60, "sent")
            assert len(photos_to_person(fake)) == before + 1
            screenshot(driver, "studio_mini_app")
        else:
            words = wait_until(lambda: driver.find_element("id", "error").text, 60, "the refusal")
            assert "not sent" in words and "does not check out" in words
            assert len(photos_to_person(fake)) == before
    finally:
        driver.quit()
    assert TOKEN not in httpx.get(f"{styles_app['url']}/", timeout=30).text
