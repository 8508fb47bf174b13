"""Switching region in the app (streamlit.testing, no browser): the map recentres on the new region,
layers, key figures and published figures change, the banner appears, and the URL carries the region."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")

pytestmark = pytest.mark.slow


def _folium_args(at) -> dict:
    """The arguments st_folium sent to the browser (its HTML/JS), found in the element tree."""
    found = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            walk(child)
        if getattr(node, "type", None) == "component_instance":
            found.append(json.loads(node.proto.json_args))

    walk(at._tree)
    maps = [a for a in found if "script" in a and "L.map" in a["script"]]
    assert len(maps) == 1, f"expected one folium map, found {len(maps)}"
    return maps[0]


def _center_zoom(at) -> tuple[float, float, int]:
    script = _folium_args(at)["script"]
    lat, lon = map(float, re.search(r"center:\s*\[\s*([-\d.]+),\s*([-\d.]+)\s*\]", script).groups())
    zoom = int(re.search(r"\"zoom\":\s*(\d+)", script).group(1))
    return lat, lon, zoom


def _table_with(at, column: str):
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(tables) == 1, f"expected one table with column {column!r}, found {len(tables)}"
    return tables[0]


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["region"] = "leon"
    return at.run()


def test_switch_from_leon_to_laguna_and_back(app):
    assert not app.exception
    assert _center_zoom(app) == (21.1221, -101.6823, 12)
    assert not app.warning  # León's data is complete: no partial-data banner
    assert {m.label: m.value for m in app.metric}["Hospitales privados"] == "36"

    app.sidebar.selectbox(key="region").set_value("laguna").run()
    assert not app.exception
    assert app.query_params["region"] == "laguna"
    assert app.title[0].value == "Atlas de servicios de salud · La Laguna, Coahuila–Durango"
    assert _center_zoom(app) == (25.5395, -103.4565, 14)
    assert app.warning[0].value.startswith("Datos parciales: El DENUE disponible para La Laguna es solo el centro histórico")
    assert any(c.value.startswith("Municipios de la región (5): Torreón, Matamoros, Francisco I. Madero, Gómez Palacio, Lerdo. "
                                  "Zona metropolitana propiamente dicha (4)") for c in app.caption)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Hospitales"] == "5" and metrics["Unidades 621–623"] == "222"
    # public/private cannot be told apart: no misleading zeros, a plain sentence instead
    assert "Hospitales privados" not in metrics and "Hospitales públicos" not in metrics
    assert any("Sector de los hospitales: **sin distinguir**" in c.value for c in app.caption)
    labels = [c.label for c in app.sidebar.checkbox]
    assert "Hospitales (5)" in labels and "Hospitales (60)" not in labels
    script = _folium_args(app)["script"]
    # the historic-centre polygon is Torreón's (its popup lists the landmarks it was drawn from)
    assert "Plaza de Armas" in script and "Templo Expiatorio" not in script
    subheaders = [s.value for s in app.subheader]
    assert "Cifras publicadas frente a este atlas" in subheaders
    assert "DENUE actual frente a las cifras del plan" not in subheaders  # León's 2023 plan table is gone
    published = _table_with(app, "Publicado")
    assert "173 unidades" in published["Publicado"].tolist()

    app.sidebar.selectbox(key="region").set_value("leon").run()
    assert not app.exception
    assert app.query_params["region"] == "leon"
    assert _center_zoom(app) == (21.1221, -101.6823, 12)
    assert not app.warning
    assert {m.label: m.value for m in app.metric}["Hospitales"] == "60"


def test_covid_layer_toggle_is_in_the_url_and_on_the_map():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["region"] = "laguna"
    at.run()
    assert not at.exception
    assert "map-legend-covid" not in _folium_args(at)["script"] + _folium_args(at)["html"]
    at.sidebar.checkbox(key="covid_laguna").check().run()
    assert not at.exception
    assert at.query_params["covid"] == "1"
    args = _folium_args(at)
    page = args["script"] + args["html"]
    assert "map-legend-covid" in page and "junio de 2020" in page
    assert "fitBounds" in args["script"]  # zoomed out to the five municipios
    rates = _table_with(at, "Casos por 100 000 hab.")
    assert dict(zip(rates["Municipio"], rates["Casos por 100 000 hab."])) == pytest.approx(
        {"Torreón": 116.9, "Matamoros": 51.5, "Francisco I. Madero": 282.9, "Gómez Palacio": 145.9, "Lerdo": 63.1,
         "Saltillo": 40.0, "Durango": 83.9})
