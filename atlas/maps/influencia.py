"""The "Área de influencia" map: road travel bands, the straight-line circle, where they disagree, and
the origins with the network node each one was snapped to.

Everything that comes from data (origin names, numbers) is escaped before it reaches HTML.
"""

from __future__ import annotations

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from ..catchment import CatchmentResult
from ..settings import Region
from .base import BindPopup, add_legend, base_map, html_escape

__all__ = ["BAND_COLORS", "CIRCLE_COLOR", "DISAGREEMENT_COLOR", "influence_map"]

#: darkest for the nearest band; more thresholds than colours reuse the last one
BAND_COLORS = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#deebf7")
CIRCLE_COLOR = "#d94801"
DISAGREEMENT_COLOR = "#fd8d3c"
ORIGIN_COLOR = "#a50f15"
NODE_COLOR = "#252525"
#: display-only simplification of the polygons (degrees, ~200 m): the bands are union of discs with
#: tens of thousands of vertices, far more than a regional map shows
_SIMPLIFY_DEG = 0.002


class _BindTooltip(MacroElement):
    """A tooltip passed through ``tojson``: folium.Tooltip pastes its text into a JS template literal,
    where a backtick in an establishment's name would end the string."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self.text = html_escape(text)


def _fmt(n) -> str:
    return f"{int(n):,}".replace(",", " ")


def _polygon_layer(m, gdf: gpd.GeoDataFrame, name: str, style: dict, popup: str, *, show: bool = True) -> folium.GeoJson:
    g = gdf[["geometry"]].copy()
    g["geometry"] = g.geometry.simplify(_SIMPLIFY_DEG, preserve_topology=True)
    layer = folium.GeoJson(g.__geo_interface__, name=html_escape(name), style_function=lambda _f, s=style: s, show=show)
    layer.add_child(BindPopup(popup))
    layer.add_to(m)
    return layer


def influence_map(region: Region, result: CatchmentResult, *, tiles: bool = True,
                  show_disagreement: bool = True) -> folium.Map:
    """A folium map of a :class:`~atlas.catchment.CatchmentResult`.

    Bands are drawn largest first so the nearest band sits on top; the geodesic circle is a dashed
    outline; the disagreement layer shades the land within the radius but beyond the largest band
    (and the reverse). Origins are red dots joined by a dashed line to their snapped network node.
    """
    m = base_map(region, tiles=tiles)
    items = []
    bands = result.bands.sort_values("minutos", ascending=False)
    n = len(result.bands)
    for rank, row in enumerate(bands.itertuples()):
        color = BAND_COLORS[min(n - 1 - rank, len(BAND_COLORS) - 1)]
        label = f"Hasta {int(row.minutos)} min por carretera"
        popup = (f"<b>{html_escape(label)}</b><br>Población (censo 2020): {html_escape(_fmt(row.poblacion))}"
                 f"<br>Superficie: {html_escape(_fmt(row.area_km2))} km²")
        style = {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.22}
        _polygon_layer(m, gpd.GeoDataFrame(geometry=[row.geometry], crs=4326), label, style, popup)
        items.append((color, f"{label}: {_fmt(row.poblacion)} hab.", "area"))

    for row in result.circle.itertuples():
        label = f"{row.radio_km:g} km en línea recta"
        popup = (f"<b>{html_escape(label)}</b> (círculo geodésico)<br>"
                 f"Población (censo 2020): {html_escape(_fmt(row.poblacion))}")
        style = {"color": CIRCLE_COLOR, "weight": 2.5, "dashArray": "8 6", "fill": False}
        _polygon_layer(m, gpd.GeoDataFrame(geometry=[row.geometry], crs=4326), label, style, popup)
        items.append((CIRCLE_COLOR, f"{label}: {_fmt(row.poblacion)} hab.", "area"))

    if show_disagreement:
        for row in result.disagreement.itertuples():
            if row.geometry is None or row.geometry.is_empty:
                continue
            label = "Dentro del radio, fuera de la banda" if row.tipo == "solo_circulo" else "Dentro de la banda, fuera del radio"
            popup = f"<b>{html_escape(label)}</b><br>{html_escape(row.descripcion)}<br>Población: {html_escape(_fmt(row.poblacion))}"
            style = {"color": DISAGREEMENT_COLOR, "weight": 0.5, "fillColor": DISAGREEMENT_COLOR, "fillOpacity": 0.18,
                     "dashArray": "2 4"}
            _polygon_layer(m, gpd.GeoDataFrame(geometry=[row.geometry], crs=4326), label, style, popup, show=False)
            items.append((DISAGREEMENT_COLOR, f"{label}: {_fmt(row.poblacion)} hab. (capa opcional)", "area"))

    origins = folium.FeatureGroup(name="Orígenes y su punto en la red", show=True)
    for row in result.origins.itertuples():
        lat, lon = row.geometry.y, row.geometry.x
        popup = (f"<b>{html_escape(row.nombre)}</b><br>Punto de la red más cercano a {html_escape(_fmt(row.snap_m))} m"
                 + (f"<br>{html_escape(row.n)} establecimientos en este punto" if row.n > 1 else ""))
        marker = folium.CircleMarker([lat, lon], radius=5, color="#ffffff", weight=1, fill=True, fill_color=ORIGIN_COLOR,
                                     fill_opacity=0.95)
        marker.add_child(BindPopup(popup))
        marker.add_child(_BindTooltip(row.nombre))
        marker.add_to(origins)
        folium.PolyLine([[lat, lon], [row.lat_nodo, row.lon_nodo]], color=NODE_COLOR, weight=1.5, dash_array="3 4").add_to(origins)
        node = folium.CircleMarker([row.lat_nodo, row.lon_nodo], radius=3, color=NODE_COLOR, weight=1, fill=True,
                                   fill_color="#ffffff", fill_opacity=1.0)
        node.add_child(_BindTooltip("Nodo de la red"))
        node.add_to(origins)
    origins.add_to(m)
    items.append((ORIGIN_COLOR, f"Orígenes ({len(result.origins)}) y su nodo en la red", "circle"))

    folium.LayerControl(collapsed=False).add_to(m)
    add_legend(m, "Área de influencia", items)
    minx, miny, maxx, maxy = result.circle.total_bounds if len(result.circle) else result.bands.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m
