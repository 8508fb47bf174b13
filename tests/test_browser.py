"""The real app in a real browser: Streamlit on a free localhost port, Debian's headless Chromium
driven by Playwright (no downloaded browser). The screenshot is saved under the test's temp dir."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium")
# flags that work on this workplace's closed network (see the env notes): no background connections
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
COUNT_CIRCLES = """() => {
  const k = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  let n = 0; window[k].eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not (Path(CHROMIUM).is_file() or shutil.which("chromium")):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package.")
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                pytest.fail(f"Streamlit did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _page(browser, height: int = 1000):
    """A fresh page and the list its JavaScript errors are collected into."""
    page = browser.new_page(viewport={"width": 1500, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def test_map_markers_legend_and_layer_toggle(app_url, browser, tmp_path):
    page, errors = _page(browser)
    page.goto(app_url + "/?region=leon", timeout=120_000)
    page.get_by_text("Atlas de servicios de salud · León, Guanajuato").wait_for(timeout=120_000)
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    legend = frame.locator(".map-legend")
    legend.wait_for(timeout=120_000)
    assert "Hospitales (60)" in legend.inner_text()
    assert "Ciudad Histórica (aproximada)" in legend.inner_text()
    assert frame.locator(".marker-cluster").count() > 10  # auxiliary units, clustered
    map_frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    before = map_frame.evaluate(COUNT_CIRCLES)
    assert before >= 60 + 17  # hospitals and universities are drawn unclustered

    # toggle the hospitals layer off in Leaflet's layer control
    frame.locator(".leaflet-control-layers").hover()
    frame.locator(".leaflet-control-layers-overlays label", has_text="Hospitales (60)").locator("input").click()
    page.wait_for_timeout(500)
    after = map_frame.evaluate(COUNT_CIRCLES)
    assert before - after == 60

    # and the sidebar's layer toggle changes the URL the view can be shared with
    page.get_by_text("Asistencia social (431)").click()
    page.wait_for_function("() => window.location.search.includes('asistencia_social')", timeout=30_000)
    shot = Path(os.environ.get("ATLAS_SCREENSHOT_DIR") or tmp_path) / "atlas_leon.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 50_000
    assert not errors, errors



MAP_CENTER = """() => {
  const k = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  const c = window[k].getCenter(); return [c.lat, c.lng, window[k].getZoom()];
}"""


def _map_frame(page, selector: str, text: str = "", timeout_s: float = 120.0):
    """The single map iframe once it shows ``selector`` (with ``text``); a rerun briefly keeps the
    stale iframe beside the new one, so poll until exactly one map is on the page."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        frames = [f for f in page.frames if "streamlit_folium" in f.url and not f.is_detached()]
        if len(frames) == 1:
            try:
                texts = frames[0].locator(selector).all_inner_texts()
            except Exception:  # noqa: BLE001 — the frame navigated away while we read it
                texts = []
            if any(text in t for t in texts):
                assert len(texts) == 1, f"{selector} appears {len(texts)} times"
                return frames[0], texts[0]
        page.wait_for_timeout(250)
    pytest.fail(f"no single map showing {selector} {text!r} after {timeout_s:.0f} s")


def test_region_switch_recentres_the_map_and_updates_the_url(app_url, browser, tmp_path):
    page, errors = _page(browser)
    # León's map now comes from the app's cache (the test above built it): it must still run cleanly
    page.goto(app_url + "/?region=leon", timeout=120_000)
    page.get_by_text("Atlas de servicios de salud · León, Guanajuato").wait_for(timeout=120_000)
    _map_frame(page, ".map-legend", "Hospitales (60)")

    page.get_by_test_id("stSidebar").get_by_role("combobox").first.click()
    page.get_by_role("option", name="La Laguna, Coahuila–Durango").click()
    page.wait_for_function("() => window.location.search.includes('region=laguna')", timeout=60_000)
    page.get_by_text("Atlas de servicios de salud · La Laguna, Coahuila–Durango").wait_for(timeout=120_000)
    page.get_by_text("Datos parciales: El DENUE disponible para La Laguna").wait_for(timeout=120_000)
    frame, legend = _map_frame(page, ".map-legend", "Hospitales (5)")
    assert "Ciudad Histórica (aproximada)" in legend
    lat, lon, zoom = frame.evaluate(MAP_CENTER)
    assert (lat, lon, zoom) == (pytest.approx(25.5395, abs=1e-4), pytest.approx(-103.4565, abs=1e-4), 14)
    assert frame.evaluate(COUNT_CIRCLES) >= 5  # the five hospitals, unclustered

    # the COVID-19 layer: URL, legend with its date, and the map zooms out to the five municipios
    page.get_by_text("COVID-19: casos por 100 000 hab. (junio de 2020)").click()
    page.wait_for_function("() => window.location.search.includes('covid=1')", timeout=60_000)
    frame, covid = _map_frame(page, ".map-legend-covid", "junio de 2020")
    assert frame.evaluate(MAP_CENTER)[2] < 12
    shot = Path(os.environ.get("ATLAS_SCREENSHOT_DIR") or tmp_path) / "atlas_laguna.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 50_000
    assert not errors, errors


@pytest.mark.parametrize("first, second, title", [
    ("densidad", "influencia", "Unidades por km²"),
    ("influencia", "sitios", "Área de influencia"),
])
def test_analysis_views_render_again_from_cache(app_url, browser, first, second, title):
    """Each analysis view's map, shown, left and shown again (now from the cache), runs without page
    errors and with one legend: st_folium must never receive a cached map it renamed before."""
    page, errors = _page(browser)
    for view in (first, second, first):
        page.goto(f"{app_url}/?region=leon&vista={view}", timeout=120_000)
        if view == first:
            _map_frame(page, ".map-legend", title, timeout_s=180)
        else:
            page.wait_for_timeout(1500)
    assert not errors, errors


def test_click_on_the_sites_map_adds_a_hypothetical_hospital(app_url, browser):
    """The investment office's what-if: a click on the map drops a hospital and the figures follow."""
    page, errors = _page(browser, height=1100)
    page.goto(f"{app_url}/?region=leon&vista=sitios", timeout=120_000)
    page.get_by_text("0 hipotéticos · 0 retirados").wait_for(timeout=240_000)
    frame, _ = _map_frame(page, ".map-legend", "Sitios para nuevos hospitales", timeout_s=240)
    frame.locator(".leaflet-container").click(position={"x": 300, "y": 300})
    page.get_by_text("1 hipotéticos · 0 retirados").wait_for(timeout=120_000)
    assert not errors, errors
