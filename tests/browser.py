"""A real browser for page tests: Debian's chromium, headless, driven by Selenium through Debian's chromedriver,
with every host but this machine unresolvable (as on a machine without internet). Tests that need it skip, with
one line saying how to get it, where it is missing."""
from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
OFFLINE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
HOW = "no browser: apt-get install chromium chromium-driver (.ci/run installs them)"
needs_browser = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=HOW)
SHOTS = Path("var") / "screenshots"


def open_browser(width: int = 1280, height: int = 1000, download_dir: Path | None = None):
    """A headless chromium of that window size (downloads into `download_dir`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--host-resolver-rules={OFFLINE}", f"--window-size={width},{height}"):
        options.add_argument(arg)
    if download_dir is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                                  "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_until(check, timeout: float, what: str, every: float = 0.2):
    """`check()`'s first truthy value within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def image_bytes(driver, element_id: str) -> bytes:
    """The bytes behind an <img>'s (blob or http) src, fetched by the page itself."""
    script = """const done = arguments[arguments.length - 1];
        fetch(document.getElementById(arguments[0]).src).then(r => r.arrayBuffer()).then(b => {
          let s = ""; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); done(btoa(s)); },
          e => done(""));"""
    return base64.b64decode(driver.execute_async_script(script, element_id))


def screenshot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
