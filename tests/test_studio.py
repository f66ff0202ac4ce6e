"""The studio page (GET /) against the real styles app on the local Ray cluster: its HTTP pieces (the page, its
assets, the style thumbnails, NST previews in the stream), then the page itself in a real browser: a photo, a
style, the result decoded and measured, the strength changing it, an own style with its progress, an error in
words, the keyboard alone, a phone-sized window. Screenshots go to var/screenshots."""
from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image
from ray import serve

from tests.browser import image_bytes, needs_browser, open_browser, screenshot, wait_until

pytestmark = pytest.mark.serve


# -- HTTP ---------------------------------------------------------------------------------------------------------
def test_the_page_and_its_assets_come_from_the_app(styles_app):
    page = httpx.get(f"{styles_app['url']}/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="static/studio/studio.js"' in page.text and "http" not in page.text.split("<body>")[1]
    for asset, kind in (("studio.js", "javascript"), ("studio.css", "text/css")):
        got = httpx.get(f"{styles_app['url']}/static/studio/{asset}", timeout=30)
        assert got.status_code == 200 and kind in got.headers["content-type"]


def test_a_thumbnail_is_the_preset_on_the_sample_photo_painted_once(styles_app):
    url = f"{styles_app['url']}/v1/styles/vangogh/thumbnail"
    first, second = httpx.get(url, timeout=60), httpx.get(url, timeout=60)
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert "max-age" in first.headers["cache-control"]
    assert max(Image.open(io.BytesIO(first.content)).size) == 128
    assert first.content == second.content                      # kept, not painted again
    other = httpx.get(f"{styles_app['url']}/v1/styles/vintage/thumbnail", timeout=60)
    assert other.status_code == 200 and other.content != first.content


@pytest.mark.parametrize("name, code", [("monet", "style_unavailable"), ("no_such_style", "unknown_style")])
def test_a_thumbnail_of_a_style_not_served_is_a_json_404(styles_app, name, code):
    got = httpx.get(f"{styles_app['url']}/v1/styles/{name}/thumbnail", timeout=30)
    assert got.status_code == 404 and got.json()["error"] == code


def test_the_nst_stream_carries_previews_when_asked(styles_app, data_dir):
    files = {"content": ("photo.jpg", (data_dir / "kodim23.jpg").read_bytes(), "image/jpeg"),
             "style": ("art.jpg", (data_dir / "starry_night.jpg").read_bytes(), "image/jpeg")}
    with httpx.stream("POST", f"{styles_app['url']}/v1/nst?stream=true&previews=2", files=files,
                      data={"size": "128", "steps": "40"}, timeout=180) as response:
        assert response.status_code == 200
        events = [json.loads(line) for line in response.iter_lines() if line]
    previews = [e for e in events if e["type"] == "preview"]
    assert previews and events[-1]["type"] == "result"
    for event in previews + events[-1:]:
        assert max(Image.open(io.BytesIO(base64.b64decode(event["image"]))).size) == 128
    bad = httpx.post(f"{styles_app['url']}/v1/nst?stream=true&previews=1", files=files, timeout=30)
    assert bad.status_code == 422 and "previews" in bad.json()["message"]


# -- in a real browser --------------------------------------------------------------------------------------------
@pytest.fixture()
def browser():
    driver = open_browser()
    yield driver
    driver.quit()


def open_studio(driver, url: str) -> None:
    driver.get(f"{url}/?nst_size=128&nst_steps=40")    # the own-style painting small enough for a test
    wait_until(lambda: driver.find_elements("css selector", ".style"), 60, "the style grid")


def result_image(driver, previous: bytes = b"", timeout: float = 120) -> Image.Image:
    """The painting the page shows once it differs from `previous`, decoded here."""
    def shown():
        src = driver.find_element("id", "after").get_attribute("src") or ""
        data = image_bytes(driver, "after") if src.startswith("blob:") else b""
        return data if data and data != previous else None
    return Image.open(io.BytesIO(wait_until(shown, timeout, "a new result on the page")))


def choose_photo(driver, path) -> None:
    driver.find_element("id", "photo-input").send_keys(str(path))


def status(driver) -> str:
    return driver.find_element("id", "status").text


def error(driver) -> str:
    return driver.find_element("id", "error").text


@needs_browser
def test_a_photo_and_a_style_give_a_painting_and_the_strength_changes_it(styles_app, data_dir, browser):
    open_studio(browser, styles_app["url"])
    thumbs = browser.find_elements("css selector", ".style img")
    wait_until(lambda: all(browser.execute_script("return arguments[0].naturalWidth", t) for t in thumbs), 120,
               "every thumbnail drawn")
    choose_photo(browser, data_dir / "kodim23.jpg")
    hidden = ("key-form", "result-controls", "downloads")    # no key asked for by an open service, no result yet
    assert not any(browser.find_element("id", name).is_displayed() for name in hidden)
    browser.find_element("css selector", '.style[data-style="vangogh"]').click()
    painted = result_image(browser)
    assert browser.find_element("id", "downloads").is_displayed()
    assert not browser.find_element("id", "key-form").is_displayed()
    assert painted.size == Image.open(data_dir / "kodim23.jpg").size       # under the service's limit: as sent
    assert browser.find_element("css selector", '.style[data-style="vangogh"]').get_attribute("aria-pressed") == "true"
    screenshot(browser, "studio_result")
    first = np.asarray(painted.convert("RGB"), np.float32)
    strength = browser.find_element("id", "strength")
    browser.execute_script("arguments[0].value = 0.3; arguments[0].dispatchEvent(new Event('input'))", strength)
    weaker = np.asarray(result_image(browser, image_bytes(browser, "after")).convert("RGB"), np.float32)
    photo = np.asarray(Image.open(data_dir / "kodim23.jpg").convert("RGB").resize(painted.size), np.float32)
    assert np.abs(weaker - photo).mean() < np.abs(first - photo).mean()      # closer to the photo
    assert browser.find_element("id", "strength-value").text == "30%"


@needs_browser
def test_an_own_style_shows_the_quick_version_then_progress_then_the_painting(styles_app, data_dir, browser):
    open_studio(browser, styles_app["url"])
    choose_photo(browser, data_dir / "kodim23.jpg")
    browser.find_element("id", "own-style").click()                         # opens the <details>
    browser.find_element("id", "style-input").send_keys(str(data_dir / "starry_night.jpg"))
    browser.find_element("id", "own-run").click()
    quick = result_image(browser)
    assert quick.size == Image.open(data_dir / "kodim23.jpg").size
    wait_until(lambda: "%" in status(browser), 120, "the optimiser's progress")
    screenshot(browser, "studio_own_style_progress")
    assert "at 128 px" in status(browser)          # the size the link added to the choices, and chose
    wait_until(lambda: status(browser).startswith("Done"), 600, "the full painting")
    assert max(result_image(browser, b"").size) == 128 and error(browser) == ""


@needs_browser
def test_cancel_stops_the_own_style_painting(styles_app, data_dir, browser):
    from selenium.webdriver.support.ui import Select

    open_studio(browser, styles_app["url"])
    choose_photo(browser, data_dir / "kodim23.jpg")
    browser.find_element("id", "own-style").click()
    browser.find_element("id", "style-input").send_keys(str(data_dir / "starry_night.jpg"))
    Select(browser.find_element("id", "nst-size")).select_by_visible_text("Small, the quickest (256 px)")
    browser.find_element("id", "own-run").click()
    wait_until(lambda: "at 256 px: " in status(browser), 180, "the optimiser's progress at the size chosen")
    browser.find_element("id", "cancel").click()
    assert status(browser) == "Cancelled." and not browser.find_element("id", "cancel").is_displayed()
    from tests.conftest import nst_answers_within
    assert nst_answers_within(60), "the optimiser kept the cancelled job"


@pytest.fixture()
def small_nst_studio(styles_app):
    """A second ingress whose optimizer takes at most 300 px, under a prefix; its URL."""
    from deployments.ingress import StylesIngress

    ingress = StylesIngress.options(name="SmallNSTIngress", ray_actor_options={"num_cpus": 0.1})
    serve.run(ingress.bind(serve.get_deployment_handle("NSTOptimizer", "styles"), {}, [], nst_max_side=300),
              name="styles-small-nst", route_prefix="/small-nst")
    yield f"{styles_app['url']}/small-nst"
    serve.delete("styles-small-nst")


@needs_browser
def test_sizes_larger_than_the_service_paints_are_disabled_and_not_chosen(small_nst_studio, browser):
    assert httpx.get(f"{small_nst_studio}/v1/styles").json()["nst_max_size"] == 300
    browser.get(f"{small_nst_studio}/")
    browser.find_element("id", "own-style").click()

    def options():
        return [(o.get_attribute("value"), o.get_property("disabled"), o.get_property("selected"))
                for o in browser.find_elements("css selector", "#nst-size option")]
    wait_until(lambda: options()[-1][1], 30, "the sizes fitted to the service")
    assert options() == [("256", False, True), ("384", True, False), ("512", True, False)]
    assert "larger than this service paints" in browser.find_element("css selector", "#nst-size").text


@needs_browser
def test_an_error_from_the_api_is_shown_in_words(styles_app, tmp_path, browser):
    fake = tmp_path / "notes.jpg"
    fake.write_text("these are my notes, not a photo")
    open_studio(browser, styles_app["url"])
    choose_photo(browser, fake)
    browser.find_element("css selector", '.style[data-style="vintage"]').click()
    words = wait_until(lambda: error(browser), 60, "an error on the page")
    assert "image" in words.lower() and "{" not in words                   # the API's message, not its JSON
    text = tmp_path / "notes.txt"
    text.write_text("plain text")
    choose_photo(browser, text)
    wait_until(lambda: "not a picture" in error(browser), 10, "the page's own refusal")
    screenshot(browser, "studio_error")


@needs_browser
def test_the_keyboard_alone_picks_a_style_and_a_phone_window_fits(styles_app, data_dir):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = open_browser(390, 844)
    try:
        open_studio(driver, styles_app["url"])
        choose_photo(driver, data_dir / "kodim23.jpg")
        keyboard = ActionChains(driver)
        for _ in range(40):                                             # Tab until a style button has focus
            keyboard.send_keys(Keys.TAB).perform()
            if driver.switch_to.active_element.get_attribute("class") == "style":
                break
        assert driver.switch_to.active_element.get_attribute("class") == "style", "no style is reachable with Tab"
        keyboard.send_keys(Keys.ENTER).perform()
        painted = result_image(driver)
        assert painted.size == Image.open(data_dir / "kodim23.jpg").size
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a phone"
        labels = driver.execute_script("""return [...document.querySelectorAll('input, button, select')]
            .filter(e => e.offsetParent !== null || e.id === 'photo-input')
            .filter(e => !(e.labels && e.labels.length) && !e.textContent.trim() && !e.getAttribute('aria-label'))
            .map(e => e.id)""")
        assert labels == [], f"controls a screen reader cannot name: {labels}"
        screenshot(driver, "studio_phone")
    finally:
        driver.quit()
