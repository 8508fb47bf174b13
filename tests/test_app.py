"""Fast smoke tests of the Streamlit app with streamlit.testing (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["region"] = "leon"
    return at.run()


def test_app_renders_leon_in_spanish(app):
    assert not app.exception
    assert app.title[0].value == "Atlas de servicios de salud · León, Guanajuato"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Hospitales"] == "60"
    assert metrics["Hospitales privados"] == "36"
    assert metrics["Hospitales públicos"] == "24"
    assert metrics["Unidades 621–623"] == "3,132"


def test_filters_update_the_url(app):
    app.sidebar.multiselect(key="mapa_sector").set_value(["público"]).run()
    assert not app.exception
    assert app.query_params["sector"] == "público"
    app.sidebar.text_input(key="mapa_q").set_value("aranda").run()
    assert app.query_params["q"] == "aranda"
    assert any("En el mapa con los filtros actuales: 0 " in c.value for c in app.caption)


@pytest.mark.parametrize("params", [
    {"vista": "sitios", "sit_k": "abc"},
    {"vista": "sitios", "sit_k": "50"},
    {"vista": "influencia", "inf_radio": "nan", "inf_min": "0,60"},
    {"vista": "influencia", "inf_radio": "5"},
    {"vista": "densidad", "d_bw": "-5", "d_h3": "99"},
    {"vista": "nada", "region": "atlantis", "capas": "<script>", "sector": "otro"},
])
def test_stale_or_edited_links_never_crash_a_view(params):
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
