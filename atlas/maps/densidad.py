"""Folium layers of the "Densidad y clústeres" view: kernel-density heat image and contours, H3
hexagon choropleths, cluster polygons and Gi* hot spots, each with a legend.

Polygons travel as GeoJSON embedded with ``tojson`` (which escapes ``<`` and ``>``); every popup and
tooltip is HTML built here from values escaped with :func:`~atlas.maps.base.html_escape`. No layer
holds a Python callable, so a finished map can be cached and pickled.
"""

from __future__ import annotations

import json
import math

import folium
import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from folium.map import Layer
from folium.raster_layers import ImageOverlay
from jinja2 import Template
from matplotlib.colors import to_hex
from pyproj import Transformer
from scipy.ndimage import map_coordinates

from .._errors import ConfigError
from ..clusters import HOTSPOT_CLASSES
from ..density import DensityGrid
from ..settings import Region
from .base import add_legend, base_map, html_escape

__all__ = [
    "HOTSPOT_COLORS",
    "LQ_BREAKS",
    "heat_image",
    "add_heat",
    "add_contours",
    "add_hex_choropleth",
    "add_clusters",
    "add_hotspots",
    "density_map",
]

#: diverging red–blue colours of the hot-spot classes (ColorBrewer RdBu, as in ArcGIS's Hot Spot maps)
HOTSPOT_COLORS = {
    "caliente 99%": "#b2182b",
    "caliente 95%": "#ef8a62",
    "caliente 90%": "#fddbc7",
    "no significativo": "#f7f7f7",
    "frío 90%": "#d1e5f0",
    "frío 95%": "#67a9cf",
    "frío 99%": "#2166ac",
}

_CMAP = "YlOrRd"
_DIVERGING = {"RdBu_r", "PuOr_r", "BrBG", "PiYG", "coolwarm"}
#: classes of a location quotient: below 1 is under-represented, above 1 specialised
LQ_BREAKS = [0.0, 0.5, 0.8, 1.0, 1.25, 2.0, math.inf]


class _Polygons(Layer):
    """GeoJSON polygons whose style, popup and tooltip are precomputed feature properties."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
            style: function (f) { return f.properties._style; },
            onEachFeature: function (f, layer) {
                if (f.properties._popup) { layer.bindPopup(f.properties._popup, {maxWidth: 360}); }
                if (f.properties._tooltip) { layer.bindTooltip(f.properties._tooltip, {sticky: true}); }
            }
        });
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}"""
    )

    def __init__(self, data: dict, *, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "Polygons"
        self.data = data


def _feature_collection(gdf: gpd.GeoDataFrame, styles, popups, tooltips) -> dict:
    geoms = gpd.GeoSeries(gdf.geometry.values, crs=gdf.crs).to_crs(4326).values
    # shapely.to_geojson is ~7x faster than GeoSeries.to_json for a few thousand hexagons
    shapes = [json.loads(g) for g in shapely.to_geojson(np.asarray(geoms, dtype=object))]
    features = [
        {"type": "Feature", "geometry": geom, "properties": {"_style": style, "_popup": popup, "_tooltip": tip}}
        for geom, style, popup, tip in zip(shapes, styles, popups, tooltips)
    ]
    return {"type": "FeatureCollection", "features": features}


def _ramp(n: int, cmap: str = _CMAP) -> list[str]:
    if cmap not in matplotlib.colormaps:
        raise ConfigError(f'cmap was "{cmap}" but is expected to be a matplotlib colormap name such as "{_CMAP}".')
    cm = matplotlib.colormaps[cmap]
    lo = 0.0 if cmap in _DIVERGING else 0.15
    return [to_hex(cm(lo + (1 - lo) * i / max(1, n - 1))) for i in range(n)]


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/d"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) >= 1 else f"{v:.3g}"


# --------------------------------------------------------------------------------------------
# kernel density
# --------------------------------------------------------------------------------------------


def heat_image(grid: DensityGrid, *, cmap: str = _CMAP, max_pixels: int = 1_500_000) -> tuple[np.ndarray, list[list[float]]]:
    """RGBA image of a density grid resampled on Web Mercator, with its (south-west, north-east) bounds.

    Leaflet stretches an image overlay linearly in Web Mercator, so the metric grid is resampled
    (bilinear) onto a grid regular in EPSG:3857; placing the metric grid directly would shift it by
    the meridian convergence. Transparency grows with density: cells below 2 % of the maximum are
    clear.
    """
    to_merc = Transformer.from_crs(grid.crs, 3857, always_xy=True)
    from_merc = Transformer.from_crs(3857, grid.crs, always_xy=True)
    xmin, ymin, xmax, ymax = grid.bounds
    cx = [xmin, xmax, xmin, xmax]
    cy = [ymin, ymin, ymax, ymax]
    mx, my = to_merc.transform(cx, cy)
    mx0, mx1, my0, my1 = min(mx), max(mx), min(my), max(my)
    ny, nx = grid.shape
    scale = min(1.0, math.sqrt(max_pixels / max(1, nx * ny)))
    w, h = max(2, int(nx * scale)), max(2, int(ny * scale))
    px = mx0 + (np.arange(w) + 0.5) * (mx1 - mx0) / w
    py = my1 - (np.arange(h) + 0.5) * (my1 - my0) / h  # row 0 is north in an image
    gx, gy = np.meshgrid(px, py)
    sx, sy = from_merc.transform(gx.ravel(), gy.ravel())
    col = (np.asarray(sx) - grid.x0) / grid.cell_m
    row = (np.asarray(sy) - grid.y0) / grid.cell_m
    vals = map_coordinates(grid.values, [row, col], order=1, mode="constant", cval=0.0).reshape(h, w)
    vmax = grid.max() or 1.0
    t = np.clip(vals / vmax, 0, 1)
    rgba = matplotlib.colormaps[cmap](t)
    rgba[..., 3] = np.where(t < 0.02, 0.0, 0.25 + 0.6 * np.sqrt(t))
    img = (rgba * 255).round().astype(np.uint8)
    lonlat = Transformer.from_crs(3857, 4326, always_xy=True)
    (lon0, lon1), (lat0, lat1) = lonlat.transform([mx0, mx1], [my0, my1])
    return img, [[lat0, lon0], [lat1, lon1]]


def add_heat(m: folium.Map, grid: DensityGrid, *, name: str | None = None, opacity: float = 0.85, show: bool = True) -> ImageOverlay:
    """The density grid as an image overlay (a real estimate in units per km², unlike a pixel blur)."""
    img, bounds = heat_image(grid)
    label = name or f"Densidad kernel (ancho de banda {grid.bandwidth_m:,.0f} m)"
    layer = ImageOverlay(img, bounds=bounds, opacity=opacity, name=html_escape(label), show=show, mercator_project=False)
    layer.add_to(m)
    return layer


def add_contours(m: folium.Map, bands: gpd.GeoDataFrame, *, name: str = "Curvas de densidad", show: bool = True, legend: bool = True) -> _Polygons | None:
    """Filled density bands (:func:`atlas.density.kde_contours`), darker as density grows."""
    if bands is None or not len(bands):
        return None
    colors = _ramp(len(bands))
    styles = [{"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.45} for c in colors]
    labels = [html_escape(e) for e in bands["etiqueta"]]
    popups = [f"<b>Densidad kernel</b><br>{lbl} (unidades por km²)" for lbl in labels]
    layer = _Polygons(_feature_collection(bands, styles, popups, labels), name=html_escape(name), show=show)
    layer.add_to(m)
    if legend:
        add_legend(m, "Unidades por km²", [(c, e, "area") for c, e in zip(colors, bands["etiqueta"])])
    return layer


# --------------------------------------------------------------------------------------------
# hexagons
# --------------------------------------------------------------------------------------------


def _breaks(values: pd.Series, k: int) -> list[float]:
    """Up to ``k`` class breaks at quantiles of the positive values (duplicates dropped)."""
    v = values[np.isfinite(values) & (values > 0)]
    if v.empty:
        return []
    qs = np.unique(np.quantile(v, np.linspace(0, 1, k + 1)))
    return [float(x) for x in qs]


def add_hex_choropleth(
    m: folium.Map,
    hexes: gpd.GeoDataFrame,
    column: str,
    *,
    title: str,
    unit: str,
    extra: dict[str, str] | None = None,
    k: int = 5,
    breaks: list[float] | None = None,
    cmap: str = _CMAP,
    name: str | None = None,
    show: bool = True,
    legend: bool = True,
    highlight: str | None = None,
) -> _Polygons:
    """Hexagons coloured by classes of ``column``; zeros and NaN are left clear.

    Classes are ``k`` quantiles of the positive values unless ``breaks`` (increasing, the last may
    be ``inf``) are given — e.g. around 1 for a location quotient with a diverging ``cmap``.
    ``extra`` maps other columns to popup labels; ``highlight`` names a boolean column whose
    hexagons get a thick outline (e.g. the strong LQ clusters).
    """
    vals = pd.to_numeric(hexes[column], errors="coerce").astype(float)
    br = _breaks(vals, k) if breaks is None else [float(b) for b in breaks]
    if breaks is not None and any(b <= a for a, b in zip(br, br[1:])):
        raise ConfigError(f"breaks were {breaks} but are expected to be strictly increasing.")
    colors = _ramp(max(1, len(br) - 1), cmap)
    styles, popups, tips = [], [], []
    # plain lists: GeoDataFrame.at costs ~0.4 ms a call, which made 2,000 hexagons take seconds
    strong_flags = hexes[highlight].astype(bool).tolist() if highlight else [False] * len(hexes)
    extras = [(html_escape(label), hexes[col].tolist()) for col, label in (extra or {}).items()]
    head, unit_html = html_escape(title), html_escape(unit)
    klass = np.clip(np.searchsorted(br, vals.to_numpy(), side="right") - 1, 0, len(colors) - 1).tolist() if br else []
    for j, (idx, v) in enumerate(zip(hexes.index, vals.tolist())):
        if not math.isfinite(v) or not br or v < br[0] or (breaks is None and v <= 0):
            fill = {"fillColor": "#bdbdbd", "fillOpacity": 0.05 if math.isfinite(v) else 0.0}
        else:
            fill = {"fillColor": colors[klass[j]], "fillOpacity": 0.65}
        strong = strong_flags[j]
        styles.append({"color": "#000000" if strong else "#636363", "weight": 2.5 if strong else 0.4, **fill})
        lines = [f"<b>{head}</b>: {_fmt(v)} {unit_html}"]
        for label, values in extras:
            x = values[j]
            lines.append(f"{label}: {_fmt(float(x)) if isinstance(x, (int, float, np.number)) and not isinstance(x, bool) else html_escape(x)}")
        lines.append(f"Hexágono H3: {html_escape(idx)}")
        popups.append("<br>".join(lines))
        tips.append(f"{_fmt(v)} {unit_html}")
    layer = _Polygons(_feature_collection(hexes, styles, popups, tips), name=html_escape(name or title), show=show)
    layer.add_to(m)
    if legend and br:
        items = [(c, (f"≥ {_fmt(a)} {unit}" if math.isinf(b) else f"{_fmt(a)} – {_fmt(b)} {unit}").strip(), "area")
                 for c, a, b in zip(colors, br[:-1], br[1:])]
        if highlight:
            items.append(("#000000", "contorno negro: clúster fuerte", "area"))
        add_legend(m, title, items)
    return layer


# --------------------------------------------------------------------------------------------
# clusters and hot spots
# --------------------------------------------------------------------------------------------


def add_clusters(m: folium.Map, polygons: gpd.GeoDataFrame, *, name: str = "Clústeres", show: bool = True, legend: bool = True) -> _Polygons | None:
    """Cluster polygons (:func:`atlas.clusters.cluster_polygons`) with a popup of what each holds."""
    if polygons is None or not len(polygons):
        return None
    palette = [to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
    styles, popups, tips = [], [], []
    for i, r in enumerate(polygons.itertuples()):
        c = palette[i % len(palette)]
        styles.append({"color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.25})
        share = "n/d" if r.en_ciudad_historica != r.en_ciudad_historica else f"{100 * r.en_ciudad_historica:.0f} %"
        hosp = html_escape(r.hospitales) if r.hospitales else "ninguno"
        popups.append(
            f"<b>Clúster {int(r.cluster)}</b><br>{int(r.unidades):,} unidades · {r.area_km2:.2f} km²"
            f"<br>En la Ciudad Histórica: {share}<br>Clases: {html_escape(r.clases)}<br>Hospitales: {hosp}"
        )
        tips.append(f"Clúster {int(r.cluster)}: {int(r.unidades):,} unidades")
    layer = _Polygons(_feature_collection(polygons, styles, popups, tips), name=html_escape(name), show=show)
    layer.add_to(m)
    if legend:
        items = [(palette[i % len(palette)], f"#{int(r.cluster)}: {int(r.unidades):,} unidades", "area") for i, r in enumerate(polygons.head(8).itertuples())]
        if len(polygons) > 8:
            items.append(("#999999", f"y {len(polygons) - 8} clústeres más", "area"))
        add_legend(m, name, items)
    return layer


def add_hotspots(m: folium.Map, hotspots: gpd.GeoDataFrame, *, name: str = "Puntos calientes (Gi*)", show: bool = True, legend: bool = True) -> _Polygons:
    """Hexagons coloured by Gi* class (:func:`atlas.clusters.getis_ord_hotspots`)."""
    styles, popups, tips = [], [], []
    for idx, r in zip(hotspots.index, hotspots.itertuples()):
        c = HOTSPOT_COLORS.get(r.clase, "#f7f7f7")
        sig = r.clase != "no significativo"
        styles.append({"color": "#636363", "weight": 0.4, "fillColor": c, "fillOpacity": 0.7 if sig else 0.1})
        z = "n/d" if not math.isfinite(r.gi_z) else f"{r.gi_z:.2f}"
        popups.append(
            f"<b>{html_escape(r.clase.capitalize())}</b><br>Unidades en el hexágono: {int(r.n):,}"
            f"<br>Gi* (z): {z}<br>p bilateral (permutaciones): {r.p_valor:.3f}<br>Hexágono H3: {html_escape(idx)}"
        )
        tips.append(html_escape(r.clase))
    layer = _Polygons(_feature_collection(hotspots, styles, popups, tips), name=html_escape(name), show=show)
    layer.add_to(m)
    if legend:
        counts = hotspots["clase"].value_counts()
        add_legend(m, "Gi* con FDR (confianza)", [(HOTSPOT_COLORS[c], f"{c} ({int(counts.get(c, 0))})", "area") for c in HOTSPOT_CLASSES])
    return layer


def density_map(region: Region, *, zone: gpd.GeoDataFrame | None = None, tiles: bool = True) -> folium.Map:
    """A base map of the region with the Ciudad Histórica outline; add the view's layers to it."""
    m = base_map(region, tiles=tiles)
    if zone is not None and len(zone):
        aprox = bool(zone["aproximada"].iloc[0]) if "aproximada" in zone.columns else True
        name = f"{region.ciudad_historica.nombre}{' (aproximada)' if aprox else ''}"
        style = {"color": "#d35400", "weight": 3, "dashArray": "6 4", "fillOpacity": 0.0}
        popup = f"<b>{html_escape(name)}</b><br>{html_escape(zone['fuente'].iloc[0]) if 'fuente' in zone.columns else ''}"
        _Polygons(_feature_collection(zone, [style], [popup], [html_escape(name)]), name=html_escape(name)).add_to(m)
    return m
