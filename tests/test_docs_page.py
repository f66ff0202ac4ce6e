"""/docs works offline: Swagger UI's assets are served by the styles app itself (deployments/static), and a real
browser (Debian's chromium, headless, every host but this machine unresolvable) renders every route from it."""
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"   # any other host fails, as on a machine without internet


def test_the_docs_page_loads_its_assets_from_the_app(styles_app):
    import httpx

    html = httpx.get(f"{styles_app['url']}/docs", timeout=30).text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    js = httpx.get(f"{styles_app['url']}/static/swagger-ui/swagger-ui-bundle.js", timeout=30)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and "SwaggerUIBundle" in js.text
    missing = httpx.get(f"{styles_app['url']}/static/nothing.js", timeout=30)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


@pytest.mark.skipif(CHROMIUM is None, reason="no browser: apt-get install chromium (.ci/run installs it)")
def test_the_docs_page_renders_every_route_in_a_real_browser_offline(styles_app, tmp_path):
    screenshot = Path("var") / "docs_page.png"
    screenshot.parent.mkdir(exist_ok=True)
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--host-resolver-rules={OFFLINE}", "--virtual-time-budget=20000", "--window-size=1280,1600"]
    dom = subprocess.run(common + [f"--user-data-dir={tmp_path / 'a'}", "--dump-dom", f"{styles_app['url']}/docs"],
                         capture_output=True, text=True, timeout=180).stdout
    for route in ("/v1/stylize/{preset}", "/v1/nst", "/v1/fast", "/v1/fast/vector", "/v1/styles", "/healthz"):
        assert f'data-path="{route}"' in dom, route       # an operation block Swagger UI drew from /openapi.json
    assert "stylebot styles API" in dom
    subprocess.run(common + [f"--user-data-dir={tmp_path / 'b'}", f"--screenshot={screenshot.resolve()}",
                             f"{styles_app['url']}/docs"], capture_output=True, timeout=180)
    assert screenshot.stat().st_size > 10_000                # what a person sees: written under var/
