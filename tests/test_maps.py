"""Map HTML: names with markup stay text, assets are local, the legend matches the layer styles."""

from __future__ import annotations

import geopandas as gpd
import shapely

from atlas.layers import load_layer_specs
from atlas.maps.base import atlas_map, localise_assets, popup_html, standalone_html
from atlas.settings import load_region

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _layers():
    pts = gpd.GeoDataFrame(
        {"id": ["1"], "nom_estab": [EVIL], "nombre_act": ["Hospitales generales del sector privado"], "clase": ["622111"],
         "sector": ["privado"], "tipo": ["general"], "municipio": ["León"], "ubicacion": ["denue"], "en_ciudad_historica": [False]},
        geometry=[shapely.Point(-101.68, 21.12)], crs=4326,
    )
    zone = gpd.GeoDataFrame({"nombre": ["<b>Centro</b>"], "fuente": ["x & y"], "aproximada": [True]},
                            geometry=[shapely.box(-101.69, 21.11, -101.67, 21.13)], crs=4326)
    return {"hospitales": pts, "ciudad_historica": zone}


def test_names_with_markup_are_escaped():
    m = atlas_map(load_region("leon"), _layers(), load_layer_specs(), tiles=False)
    html = m.get_root().render()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")


def test_popup_escapes_every_field():
    out = popup_html({"nom_estab": "<b>A</b>", "sector": "<i>", "ubicacion": "localidad"}, ["nom_estab", "sector", "ubicacion"])
    assert out == "<b>&lt;b&gt;A&lt;/b&gt;</b><br>Sector: &lt;i&gt;<br>Ubicación: punto de su localidad (ITER 2020), sin coordenadas propias"


def test_assets_are_local_and_legend_matches_styles():
    specs = load_layer_specs()
    m = localise_assets(atlas_map(load_region("leon"), _layers(), specs, tiles=False))
    html = m.get_root().render()
    assert "cdn.jsdelivr.net" not in html and "cdnjs.cloudflare.com" not in html and "code.jquery.com" not in html
    assert '/app/static/vendor/leaflet.js' in html
    assert 'class="map-legend"' in html
    assert f"background: {specs['hospitales'].color}" in html
    assert "Hospitales (1)" in html


def test_standalone_html_inlines_leaflet():
    html = standalone_html(atlas_map(load_region("leon"), _layers(), load_layer_specs(), tiles=False))
    assert "__LOCAL__" not in html and "/app/static" not in html
    assert "Leaflet" in html and len(html) > 150_000


def test_standalone_html_inlines_leaflet_images():
    html = standalone_html(atlas_map(load_region("leon"), _layers(), load_layer_specs(), tiles=False))
    assert "url(images/" not in html
    assert "url(data:image/png;base64," in html
