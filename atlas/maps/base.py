"""Base map, point layers, the historic-centre polygon and the legend.

Every string that comes from data is escaped with :func:`html_escape` before it reaches HTML, and point
data travels as JSON (``tojson`` escapes ``<`` and ``>``), so an establishment called
``<script>…</script>`` stays text. Leaflet and its plugins are served from ``static/vendor`` (see
:func:`localise_assets`) so the map works without internet; tiles are the only online part.
"""

from __future__ import annotations

import base64
import html
import re

import folium
import geopandas as gpd
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from ..layers import LayerSpec
from ..settings import PROJECT_ROOT, Region

__all__ = [
    "ATTRIBUTION",
    "ATTRIBUTION_SHORT",
    "STATIC_DIR",
    "html_escape",
    "BindPopup",
    "PointLayer",
    "base_map",
    "add_points",
    "add_zone",
    "add_legend",
    "atlas_map",
    "localise_assets",
    "standalone_html",
    "popup_html",
]

ATTRIBUTION = (
    "Fuente: INEGI, Directorio Estadístico Nacional de Unidades Económicas (DENUE); INEGI, Censo de "
    "Población y Vivienda 2020 y Marco Geoestadístico; CONAPO, Índices de marginación 2020; Natural Earth"
)
#: the short form shown on the map itself
ATTRIBUTION_SHORT = "Fuente: INEGI (DENUE, Censo 2020, Marco Geoestadístico), CONAPO 2020, Natural Earth"
STATIC_DIR = PROJECT_ROOT / "static" / "vendor"
#: Streamlit serves ``static/`` at ``/app/static`` (server.enableStaticServing)
STATIC_URL = "/app/static/vendor"

# CDN asset name (folium's default_js/default_css keys) -> local file; None = not needed by our maps
_ASSETS = {
    "leaflet": "leaflet.js",
    "leaflet_css": "leaflet.css",
    "markerclusterjs": "leaflet.markercluster.js",
    "markerclustercss": "MarkerCluster.css",
    "markerclusterdefaultcss": "MarkerCluster.Default.css",
    "leaflet-heat.js": "leaflet-heat.js",
    "jquery": None,
    "bootstrap": None,
    "awesome_markers": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
}

PLACEMENT_LABELS = {
    "denue": "coordenadas del DENUE",
    "coordenadas_invertidas": "coordenadas invertidas en el DENUE, corregidas",
    "localidad": "punto de su localidad (ITER 2020), sin coordenadas propias",
}
FIELD_LABELS = {
    "nom_estab": "Nombre",
    "nombre_act": "Clase SCIAN",
    "clase": "Código SCIAN",
    "sector": "Sector",
    "tipo": "Tipo",
    "municipio": "Municipio",
    "ubicacion": "Ubicación",
    "nombre": "Nombre",
    "fuente": "Fuente",
}


def html_escape(value: object) -> str:
    """Text for HTML: ``None``/NaN become ``""``; ``<``, ``>``, ``&`` and quotes are escaped."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return html.escape(str(value), quote=True)


def popup_html(row, fields) -> str:
    """Popup for one record: the name in bold, then one line per field (all escaped)."""
    parts = []
    for f in fields:
        val = row.get(f, "")
        if f == "ubicacion":
            val = PLACEMENT_LABELS.get(str(val), val)
        if val in ("", None) or (isinstance(val, float) and val != val):
            continue
        if f in ("nom_estab", "nombre"):
            parts.append(f"<b>{html_escape(val)}</b>")
        else:
            parts.append(f"{FIELD_LABELS.get(f, f)}: {html_escape(val)}")
    return "<br>".join(parts)


def base_map(region: Region, *, tiles: bool = True, height: str | None = None) -> folium.Map:
    """A map centred on the region with a light basemap and the sources in the attribution."""
    m = folium.Map(location=list(region.center), zoom_start=region.zoom, tiles=None, control_scale=True, prefer_canvas=True)
    if tiles:
        folium.TileLayer(
            "OpenStreetMap", name="Mapa base (OpenStreetMap)", control=False,
        ).add_to(m)
    _Attribution(ATTRIBUTION_SHORT).add_to(m)
    return m


class _Attribution(MacroElement):
    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self.text = html_escape(text)


class PointLayer(JSCSSMixin, Layer):
    """Circle markers from a compact JSON array, optionally clustered (Leaflet.markercluster).

    Popups and tooltips are HTML built and escaped in Python; the array is embedded with ``tojson``.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        {% if this.cluster %}
        var {{ this.get_name() }}_opts = {{ this.cluster_options|tojson }};
        {{ this.get_name() }}_opts.iconCreateFunction = function (c) {
            var n = c.getChildCount(), s = n < 100 ? 30 : (n < 1000 ? 38 : 46);
            return L.divIcon({
                html: '<div style="background:' + {{ this.style.fillColor|tojson }} + ';opacity:.85;color:#fff;font-weight:600;border-radius:50%;width:' + s + 'px;height:' + s + 'px;line-height:' + s + 'px;text-align:center;border:2px solid #fff;box-shadow:0 0 0 2px ' + {{ this.style.fillColor|tojson }} + '55">' + n + '</div>',
                className: 'marker-cluster atlas-cluster', iconSize: L.point(s, s)
            });
        };
        var {{ this.get_name() }} = L.markerClusterGroup({{ this.get_name() }}_opts);
        {% else %}
        var {{ this.get_name() }} = L.featureGroup();
        {% endif %}
        (function () {
            var data = {{ this.data|tojson }};
            var style = {{ this.style|tojson }};
            for (var i = 0; i < data.length; i++) {
                var d = data[i];
                var mk = L.circleMarker([d[0], d[1]], style);
                mk.bindPopup(d[2], {maxWidth: 340});
                mk.bindTooltip(d[3]);
                mk.options.capa = {{ this.layer_id|tojson }};
                {{ this.get_name() }}.addLayer(mk);
            }
        })();
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}"""
    )
    default_js = [("markerclusterjs", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js")]
    default_css = [
        ("markerclustercss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css"),
        ("markerclusterdefaultcss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css"),
    ]

    def __init__(self, data, *, name, layer_id, color, radius, cluster, show=True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.data = data
        self.layer_id = layer_id
        self.cluster = cluster
        self.cluster_options = {"chunkedLoading": True, "maxClusterRadius": 45, "disableClusteringAtZoom": 17}
        self.style = {"radius": radius, "color": "#ffffff", "weight": 1, "fillColor": color, "fillOpacity": 0.85}


def add_points(m: folium.Map, gdf: gpd.GeoDataFrame, spec: LayerSpec, *, show: bool = True, cluster: bool | None = None) -> PointLayer:
    """Add a point layer styled by its spec; returns the layer."""
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    fields = list(spec.popup) or ["nom_estab"]
    records = gdf.drop(columns="geometry").to_dict("records")
    ys, xs = gdf.geometry.y.to_numpy(), gdf.geometry.x.to_numpy()
    data = [
        [round(float(y), 6), round(float(x), 6), popup_html(rec, fields), html_escape(rec.get("nom_estab", ""))]
        for rec, y, x in zip(records, ys, xs)
    ]
    label = f"{spec.etiqueta} ({len(gdf):,})"
    layer = PointLayer(
        data, name=label, layer_id=spec.id, color=spec.color, radius=spec.radio,
        cluster=spec.agrupar if cluster is None else cluster, show=show,
    )
    layer.add_to(m)
    return layer


def add_zone(m: folium.Map, zone: gpd.GeoDataFrame, spec: LayerSpec, *, show: bool = True) -> folium.GeoJson:
    """The historic-centre polygon (dashed outline) with an escaped popup."""
    z = zone.to_crs(4326)
    row = z.drop(columns="geometry").iloc[0].to_dict()
    aprox = bool(row.get("aproximada", True))
    name = f"{spec.etiqueta}{' (aproximada)' if aprox else ''}"
    gj = folium.GeoJson(
        z[["geometry"]].__geo_interface__,
        name=name,
        style_function=lambda _f, c=spec.color: {"color": c, "weight": 3, "dashArray": "6 4", "fillColor": c, "fillOpacity": 0.08},
        show=show,
    )
    gj.add_child(BindPopup(popup_html({"nombre": name, "fuente": row.get("fuente", "")}, ["nombre", "fuente"])))
    gj.add_to(m)
    return gj


class BindPopup(MacroElement):
    """Bind already-escaped popup HTML to the parent layer (folium.Popup needs jQuery; this does not)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }}, {maxWidth: {{ this.max_width }}});
        {% endmacro %}"""
    )

    def __init__(self, content: str, max_width: int = 360):
        super().__init__()
        self.content = content
        self.max_width = int(max_width)


class _Legend(MacroElement):
    _template = Template(
        """{% macro html(this, kwargs) %}
        <div class="map-legend" style="position: absolute; z-index: 1000; bottom: 40px; left: 12px; background: rgba(255,255,255,0.92);
             padding: 8px 10px; border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; max-width: 280px;">
          <div style="font-weight: 600; margin-bottom: 4px;">{{ this.title }}</div>
          {% for color, label, shape in this.items %}
          <div class="map-legend-item"><span style="display:inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px;
               background: {{ color }}; {% if shape == 'circle' %}border-radius: 50%;{% else %}opacity: .6; border: 2px dashed {{ color }};{% endif %}"></span>{{ label }}</div>
          {% endfor %}
        </div>
        {% endmacro %}"""
    )

    def __init__(self, title: str, items):
        super().__init__()
        self.title = html_escape(title)
        self.items = [(c if re.fullmatch(r"#[0-9a-fA-F]{3,8}", c) else "#999", html_escape(lbl), shape) for c, lbl, shape in items]


def add_legend(m: folium.Map, title: str, items) -> None:
    """A fixed legend: ``items`` are (colour, label, "circle" | "area")."""
    m.add_child(_Legend(title, items))


def localise_assets(m: folium.Map, base_url: str = STATIC_URL) -> folium.Map:
    """Point every Leaflet asset of the map at the bundled copies and drop CDN assets our maps never use."""
    def _walk(el):
        yield el
        for child in getattr(el, "_children", {}).values():
            yield from _walk(child)

    for el in _walk(m):
        for attr in ("default_js", "default_css"):
            assets = getattr(el, attr, None)
            if not assets:
                continue
            new = []
            for name, url in assets:
                local = _ASSETS.get(name, "keep")
                if local is None:
                    continue
                new.append((name, url if local == "keep" else f"{base_url}/{local}"))
            setattr(el, attr, new)
    return m


def standalone_html(m: folium.Map) -> str:
    """The map as one self-contained HTML file: Leaflet, plugins and their images inlined; opens without
    the app or the internet (tiles aside)."""
    localise_assets(m, base_url="__LOCAL__")
    text = m.get_root().render()

    def _js(match):
        path = STATIC_DIR / match.group(1)
        return f"<script>{path.read_text(encoding='utf-8')}</script>" if path.is_file() else match.group(0)

    def _image(match):
        path = STATIC_DIR / "images" / match.group(1)
        if not path.is_file():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"

    def _css(match):
        path = STATIC_DIR / match.group(1)
        if not path.is_file():
            return match.group(0)
        # Leaflet's CSS points at images/*.png beside it; one file needs them as data URIs
        css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", _image, path.read_text(encoding="utf-8"))
        return f"<style>{css}</style>"

    text = re.sub(r'<script src="__LOCAL__/([^"]+)"></script>', _js, text)
    text = re.sub(r'<link rel="stylesheet" href="__LOCAL__/([^"]+)"/?>', _css, text)
    return text


def _ids(draw, layers):
    return [s.id for s in draw if layers.get(s.id) is not None and (s.is_points or len(layers[s.id]))]


def atlas_map(region: Region, layers: dict[str, gpd.GeoDataFrame], specs: dict[str, LayerSpec], visible=None, *, tiles: bool = True) -> folium.Map:
    """The main map: the historic centre, each point layer (clustered where its spec says) and a legend."""
    visible = set(visible if visible is not None else [s.id for s in specs.values() if s.visible])
    m = base_map(region, tiles=tiles)
    items = []
    # draw order: areas, then clustered layers, then the few large markers (hospitals) on top
    draw = sorted(specs.values(), key=lambda s: (s.is_points, not s.agrupar, -s.orden))
    for spec in draw:
        gdf = layers.get(spec.id)
        if gdf is None:
            continue
        show = spec.id in visible
        if spec.is_points:
            add_points(m, gdf, spec, show=show)
            items.append((spec.color, f"{spec.etiqueta} ({len(gdf):,})", "circle"))
        elif len(gdf):
            add_zone(m, gdf, spec, show=show)
            aprox = bool(gdf["aproximada"].iloc[0]) if "aproximada" in gdf else True
            items.append((spec.color, spec.etiqueta + (" (aproximada)" if aprox else ""), "area"))
    folium.LayerControl(collapsed=True).add_to(m)
    order = {s.id: s.orden for s in specs.values()}
    items = [it for _, it in sorted(zip([order.get(k, 99) for k in _ids(draw, layers)], items))]
    add_legend(m, "Capas", items)
    return m
