"""A :class:`~atlas.export.views.MapView` as one self-contained interactive HTML file (folium).

Leaflet is inlined by :func:`atlas.maps.base.standalone_html`, so the file opens without the app or
internet; the web tiles are the only online part, and the municipal boundaries and roads are drawn
from the project's own data underneath so the map still has a basemap offline. Every string that
comes from data is escaped (popups through :func:`~atlas.maps.base.popup_html`, titles and legend
through :func:`~atlas.maps.base.html_escape`), and GeoJSON travels through ``tojson``.
"""

from __future__ import annotations


import folium
import geopandas as gpd
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from ..layers import LayerSpec
from ..maps.base import add_legend, add_points, base_map, html_escape, popup_html, standalone_html
from .basemap import context_from_region
from .views import MapView

__all__ = ["html_map", "html_document"]


class _Features(Layer):
    """GeoJSON features with one fixed style; each feature's popup is escaped HTML in its properties."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
            style: function () { return {{ this.style|tojson }}; },
            interactive: {{ this.interactive|tojson }},
            onEachFeature: function (f, layer) {
                if (f.properties && f.properties._popup) { layer.bindPopup(f.properties._popup, {maxWidth: 360}); }
            }
        });
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}"""
    )

    def __init__(self, data: dict, *, name: str, style: dict, show: bool = True, interactive: bool = True):
        super().__init__(name=html_escape(name), overlay=True, control=True, show=show)
        self._name = "Features"
        self.data = data
        self.style = style
        self.interactive = interactive


class _Title(MacroElement):
    _template = Template(
        """{% macro html(this, kwargs) %}
        <div class="map-title" style="position: absolute; z-index: 1000; top: 10px; left: 54px; max-width: 60%;
             background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
             font: 13px/1.35 sans-serif;">
          <div style="font-weight: 700; font-size: 16px;">{{ this.title }}</div>
          <div>{{ this.subtitle }}</div>
        </div>
        {% endmacro %}"""
    )

    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self.title = html_escape(title)
        self.subtitle = html_escape(subtitle)


def _features(gdf: gpd.GeoDataFrame, fields, label: str, tolerance: float) -> dict:
    g = gdf.to_crs(4326)
    geoms = g.geometry.simplify(tolerance, preserve_topology=True) if tolerance > 0 else g.geometry
    feats = []
    records = g.drop(columns=g.geometry.name).to_dict("records")
    for rec, geom in zip(records, geoms):
        if geom is None or geom.is_empty:
            continue
        body = popup_html(rec, list(fields)) if fields else ""
        feats.append({"type": "Feature", "geometry": geom.__geo_interface__,
                      "properties": {"_popup": f"<b>{html_escape(label)}</b>" + (f"<br>{body}" if body else "")}})
    return {"type": "FeatureCollection", "features": feats}


def html_map(view: MapView, *, tiles: bool = True, context: bool = True) -> folium.Map:
    """The view as a folium map: context layers, the view's layers, legend, title, framed on its extent."""
    m = base_map(view.region, tiles=tiles)
    x0, y0, x1, y1 = view.bounds()
    tol = (x1 - x0) / 3000  # about a third of a screen pixel at the framed zoom
    if context:
        ctx = context_from_region(view.region, (x0, y0, x1, y1))
        if len(ctx.municipios):
            _Features(_features(ctx.municipios[["geometry"]], (), "", tol), name="Límites municipales (INEGI)",
                      style={"color": "#6b6b6b", "weight": 1, "fill": False}, interactive=False).add_to(m)
        if len(ctx.roads):
            _Features(_features(ctx.roads[["geometry"]], (), "", tol), name="Carreteras (Natural Earth)",
                      style={"color": "#c9a063", "weight": 2}, interactive=False).add_to(m)
    items = []
    for lyr in view.layers:
        if lyr.kind == "puntos":
            spec = LayerSpec(id=lyr.id, etiqueta=lyr.label, color=lyr.color, radio=max(2, round(lyr.size)),
                             agrupar=lyr.cluster, popup=lyr.popup or ("nom_estab",))
            data = lyr.data.copy()
            if "nom_estab" not in data.columns:
                # the tooltip shows nom_estab; other point layers name their first popup field
                first = lyr.popup[0] if lyr.popup else None
                data["nom_estab"] = data[first].astype(str) if first in data.columns else lyr.label
            add_points(m, data, spec, show=True)
            items.append((lyr.color, lyr.legend_label, "circle"))
        else:
            style = {"color": lyr.color, "weight": (lyr.size if lyr.outline_only else 1.5)}
            style.update({"fill": False} if lyr.outline_only else {"fillColor": lyr.color, "fillOpacity": lyr.fill_opacity})
            if lyr.dashed:
                style["dashArray"] = "6 4"
            _Features(_features(lyr.data, lyr.popup, lyr.label, tol), name=lyr.legend_label, style=style).add_to(m)
            items.append((lyr.color, lyr.legend_label, "area"))
    add_legend(m, "Leyenda", items)
    m.add_child(_Title(view.title, view.subtitle))
    m.fit_bounds([[y0, x0], [y1, x1]])
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def html_document(view: MapView, *, tiles: bool = True) -> str:
    """One self-contained HTML file (Leaflet and its images inlined) of the view."""
    return standalone_html(html_map(view, tiles=tiles))
