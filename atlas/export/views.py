"""What an export shows, declared once and drawn by every format.

A :class:`MapView` is a title, a subtitle (region and filters), styled layers (points, polygons,
lines; one colour and one legend label each), key figures, tables, notes and the analysis results
behind it. The builders take the built :class:`~atlas.build.Atlas` and the current
:class:`~atlas.filters.Filters` and call the analyses' pure functions:

- ``hospitales``: the main map (:mod:`atlas.filters`, :mod:`atlas.figures`);
- ``densidad``: kernel density, DBSCAN clusters and Gi* hot spots (:mod:`atlas.density`,
  :mod:`atlas.clusters`, :mod:`atlas.hexagons`, :mod:`atlas.quotients`);
- ``influencia``: road travel bands and population (:mod:`atlas.catchment`);
- ``sitios``: site screening (``atlas.siting`` when that module is present; otherwise the view says
  plainly that the analysis is not available and shows the hospitals only).

Analyses that are slow or configured elsewhere (a :class:`~atlas.catchment.CatchmentResult`, a
siting result) can be passed in through ``results`` so the app reuses what it already computed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import ConfigError
from ..build import Atlas
from ..figures import class_counts, plan_comparison
from ..filters import Filters, filter_layers
from ..geo import area_km2
from ..layers import ALL_LAYER
from ..maps.base import ATTRIBUTION

__all__ = [
    "VIEWS",
    "Progress",
    "KeyFigure",
    "MapLayer",
    "MapView",
    "Table",
    "catchment_view",
    "density_view",
    "describe_filters",
    "hospitals_view",
    "sites_view",
    "views_from_atlas",
]

log = logging.getLogger(__name__)

#: view id → title; ``"todo"`` on the CLI means all of them, in this order
VIEWS = {
    "hospitales": "Hospitales y unidades de salud",
    "densidad": "Densidad y clústeres de unidades de salud",
    "influencia": "Área de influencia por carretera",
    "sitios": "Sitios candidatos para nuevos hospitales",
}

#: ``progress(fraction 0–1, message)``; exports call it between steps
Progress = Callable[[float, str], None]

#: lower to higher density (ColorBrewer YlOrRd)
KDE_COLORS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
#: hot-spot outlines, darker than the density bands they are drawn over
HOT_COLORS = {"caliente 99%": "#67001f", "caliente 95%": "#b2182b"}
CLUSTER_COLOR = "#6a3d9a"
#: nearest band darkest (ColorBrewer Blues)
BAND_COLORS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
CIRCLE_COLOR = "#d94801"
#: score quintiles, low to high (ColorBrewer YlGnBu)
SCORE_COLORS = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#2c7fb8", "#253494")
OPTIMAL_COLOR = "#ff7f00"


@dataclass(frozen=True, eq=False)
class MapLayer:
    """One styled layer: every feature has the same colour and one legend entry.

    ``kind`` is ``"puntos"``, ``"poligonos"`` or ``"lineas"``; ``data`` is EPSG:4326. ``size`` is the
    point radius in screen pixels (as in the layer TOML files) or the line width. ``popup`` lists
    the columns shown in the HTML popups; ``marker`` is a matplotlib marker for points.
    """

    id: str
    label: str
    data: gpd.GeoDataFrame
    kind: str
    color: str
    size: float = 4.0
    fill_opacity: float = 0.25
    outline_only: bool = False
    dashed: bool = False
    legend: bool = True
    show_count: bool = False
    popup: tuple[str, ...] = ()
    marker: str = "o"
    cluster: bool = False

    def __post_init__(self):
        if self.kind not in ("puntos", "poligonos", "lineas"):
            raise ConfigError(f'MapLayer kind was "{self.kind}" but is expected to be "puntos", "poligonos" or "lineas".')
        if self.data.crs is None:
            raise ConfigError(f'MapLayer "{self.id}" has no CRS; expected EPSG:4326.')

    @property
    def legend_label(self) -> str:
        return f"{self.label} ({len(self.data):,})" if self.show_count else self.label


@dataclass(frozen=True, eq=False)
class Table:
    """A titled table; ``nota`` is printed under it."""

    title: str
    frame: pd.DataFrame
    nota: str = ""


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str


@dataclass(frozen=True, eq=False)
class MapView:
    """Everything one exported map shows. Build with the ``*_view`` functions."""

    id: str
    title: str
    subtitle: str
    region: Any
    layers: tuple[MapLayer, ...]
    #: (min_lon, min_lat, max_lon, max_lat) to frame; None = the layers' extent
    extent: tuple[float, float, float, float] | None = None
    tables: tuple[Table, ...] = ()
    figures: tuple[KeyFigure, ...] = ()
    notes: tuple[str, ...] = ()
    #: False when the view's analysis could not run; ``notes[0]`` says why
    available: bool = True
    #: analysis outputs written by the data export (name → frame)
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: parameters used, for the metadata sheet
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ATTRIBUTION
    date: dt.date = field(default_factory=dt.date.today)
    #: when the atlas layers were built (ISO text from the build summary)
    built: str = ""

    def bounds(self) -> tuple[float, float, float, float]:
        """The extent to draw, in degrees."""
        if self.extent is not None:
            return self.extent
        return _extent([lyr.data for lyr in self.layers]) or _around(self.region.center, 0.08)


# --------------------------------------------------------------------------- helpers


def _around(center, half_deg: float) -> tuple[float, float, float, float]:
    lat, lon = center
    return (lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)


def _extent(frames, *, trim: float = 0.0, pad: float = 0.06, min_span: float = 0.03) -> tuple[float, float, float, float] | None:
    """Bounds of the frames' geometries (points trimmed to the ``trim``–``1-trim`` quantiles)."""
    xs, ys = [], []
    for gdf in frames:
        if gdf is None or gdf.empty:
            continue
        g = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
        if g.empty:
            continue
        if (g.geom_type == "Point").all() and trim > 0:
            xs += list(np.quantile(g.x, [trim, 1 - trim]))
            ys += list(np.quantile(g.y, [trim, 1 - trim]))
        else:
            b = g.total_bounds
            xs += [b[0], b[2]]
            ys += [b[1], b[3]]
    if not xs:
        return None
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # one hospital, or a tight group, still gets a readable neighbourhood (about 3 km) around it
    if x1 - x0 < min_span:
        x0, x1 = (x0 + x1 - min_span) / 2, (x0 + x1 + min_span) / 2
    if y1 - y0 < min_span:
        y0, y1 = (y0 + y1 - min_span) / 2, (y0 + y1 + min_span) / 2
    dx, dy = x1 - x0, y1 - y0
    return (x0 - pad * dx, y0 - pad * dy, x1 + pad * dx, y1 + pad * dy)


def _built(atlas: Atlas) -> str:
    return str((atlas.summary or {}).get("construido", ""))


def _fmt(n: float, decimals: int = 0) -> str:
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return "n/d"
    return f"{n:,.{decimals}f}"


def _point_ids(atlas: Atlas) -> list[str]:
    """Every point layer the filters apply to, ``establecimientos`` included."""
    return [s.id for s in atlas.specs.values() if s.is_points] + [ALL_LAYER]


def _filtered(atlas: Atlas, filters: Filters) -> dict[str, gpd.GeoDataFrame]:
    return filter_layers(atlas.layers, filters, _point_ids(atlas))


def describe_filters(filters: Filters, atlas: Atlas | None = None) -> str:
    """The filters in one Spanish line, e.g. ``"Sector: privado · Municipio: León"``."""
    parts = []
    specs = atlas.specs if atlas is not None else {}
    if filters.capas:
        parts.append("Capas: " + ", ".join(specs[c].etiqueta if c in specs else c for c in filters.capas))
    if filters.clases:
        parts.append("Clases SCIAN: " + ", ".join(filters.clases))
    if filters.sectores:
        parts.append("Sector: " + ", ".join(filters.sectores))
    if filters.municipios:
        names = {}
        if atlas is not None and ALL_LAYER in atlas.layers:
            est = atlas.layers[ALL_LAYER]
            names = dict(zip(est["cvegeo"], est["municipio"]))
        parts.append("Municipio: " + ", ".join(names.get(m, m) for m in filters.municipios))
    if filters.nombre.strip():
        parts.append(f"Nombre contiene «{filters.nombre.strip()}»")
    return " · ".join(parts) if parts else "Sin filtros"


def _subtitle(atlas: Atlas, filters: Filters, extra: str = "") -> str:
    s = atlas.summary or {}
    fuente = s.get("fuente") or atlas.region.fuente or "INEGI, DENUE"
    text = f"{atlas.region.nombre} · {fuente} · {describe_filters(filters, atlas)}"
    return f"{text} · {extra}" if extra else text


def _spec_layer(atlas: Atlas, key: str, gdf: gpd.GeoDataFrame, **overrides) -> MapLayer:
    spec = atlas.specs[key]
    if spec.is_points:
        kw = dict(kind="puntos", size=spec.radio, fill_opacity=0.85, show_count=True, popup=spec.popup or ("nom_estab",),
                  cluster=spec.agrupar)
    else:
        aprox = bool(gdf["aproximada"].iloc[0]) if "aproximada" in gdf.columns and len(gdf) else False
        kw = dict(kind="poligonos", fill_opacity=0.08, dashed=True, outline_only=True, size=2.2, popup=("nombre", "fuente"),
                  label=spec.etiqueta + (" (aproximada)" if aprox else ""))
    kw = {"label": spec.etiqueta, **kw, **overrides}
    return MapLayer(id=key, data=gdf.to_crs(4326), color=spec.color, **kw)


def _zone_layer(atlas: Atlas) -> list[MapLayer]:
    zone = atlas.layers.get("ciudad_historica")
    if zone is None or zone.empty or "ciudad_historica" not in atlas.specs:
        return []
    return [_spec_layer(atlas, "ciudad_historica", zone)]


def _visible(atlas: Atlas, filters: Filters) -> list[str]:
    wanted = filters.capas or tuple(s.id for s in atlas.specs.values() if s.visible)
    unknown = [c for c in wanted if c not in atlas.specs]
    if unknown:
        raise ConfigError(f'capas {", ".join(unknown)} are unknown; expected some of {", ".join(atlas.specs)}.')
    return [c for c in wanted if c in atlas.layers]


def _data_notes(atlas: Atlas) -> list[str]:
    s = atlas.summary or {}
    notes = []
    f = s.get("filas")
    if f:
        notes.append(f"DENUE: {f.get('leidas', 0):,} filas leídas, {f.get('aceptadas', 0):,} aceptadas y "
                     f"{f.get('en_cuarentena', 0):,} en cuarentena (con su motivo).")
    notes.append("El DENUE registra establecimientos, no camas ni personal; su cobertura no es completa.")
    if s.get("cobertura_parcial") or atlas.region.cobertura_parcial:
        notes.append(f"Cobertura parcial: {s.get('cobertura_parcial') or atlas.region.cobertura_parcial}")
    ch = s.get("ciudad_historica") or {}
    if ch.get("aproximada", False):
        notes.append("La Ciudad Histórica es una delimitación aproximada, no un límite oficial.")
    return notes


# --------------------------------------------------------------------------- hospitales


def hospitals_view(atlas: Atlas, filters: Filters = Filters()) -> MapView:
    """The main map: the visible layers after the filters, the Ciudad Histórica and key counts."""
    layers = _filtered(atlas, filters)
    visible = _visible(atlas, filters)
    draw = []
    for key in sorted(visible, key=lambda k: -atlas.specs[k].orden):  # hospitals (orden 1) drawn last
        if atlas.specs[key].is_points and key != ALL_LAYER:
            draw.append(_spec_layer(atlas, key, layers[key]))
    if "ciudad_historica" in visible:
        draw = draw + _zone_layer(atlas)  # a dashed outline on top of the points
    pts = [lyr.data[["geometry"]] for lyr in draw if lyr.kind == "puntos"]
    extent = _extent([pd.concat(pts, ignore_index=True)] if pts else [], trim=0.02, pad=0.08) or _extent([lyr.data for lyr in draw])
    hosp = layers.get("hospitales", atlas.layers["hospitales"].iloc[:0])
    point_ids = [k for k in _point_ids(atlas) if k != ALL_LAYER]
    by_layer = pd.DataFrame([
        {"Capa": atlas.specs[k].etiqueta, "En el mapa": len(layers[k]), "Construidas": len(atlas.layers[k]),
         "En la Ciudad Histórica": int(layers[k]["en_ciudad_historica"].astype(bool).sum())}
        for k in point_ids if k in layers
    ])
    by_type = (hosp.groupby(["tipo", "sector"]).size().rename("Hospitales").reset_index()
               .rename(columns={"tipo": "Tipo", "sector": "Sector"}) if len(hosp) else
               pd.DataFrame(columns=["Tipo", "Sector", "Hospitales"]))
    health = pd.concat([layers[k] for k in ("hospitales", "unidades_auxiliares") if k in layers], ignore_index=True)
    top = class_counts(health).head(12).rename(columns={"clase": "Clase", "nombre": "Nombre", "sector": "Sector", "n": "Unidades"})
    tables = [
        Table("Unidades por capa", by_layer, "«Construidas»: todas las de la capa antes de los filtros."),
        Table("Hospitales por tipo y sector", by_type),
        Table("Clases SCIAN con más unidades (hospitales y auxiliares)", top),
    ]
    plan = atlas.region.plan or {}
    if plan.get("clases"):
        tables.append(Table("DENUE actual frente a las cifras del plan", plan_comparison(plan, health), str(plan.get("fuente", ""))))
    shown = sum(len(lyr.data) for lyr in draw if lyr.kind == "puntos")
    if (atlas.summary or {}).get("sector_distinguible") is False:
        # subrama-level data cannot tell public from private: say so instead of printing zeros
        by_sector = (KeyFigure("Hospitales privados / públicos", "sin distinguir (SCIAN por subrama)"),)
    else:
        by_sector = (
            KeyFigure("Hospitales privados", _fmt(int((hosp["sector"] == "privado").sum()))),
            KeyFigure("Hospitales públicos", _fmt(int((hosp["sector"] == "público").sum()))),
        )
    figures = (
        KeyFigure("Hospitales en el mapa", _fmt(len(hosp))),
        *by_sector,
        KeyFigure("Establecimientos en el mapa", _fmt(shown)),
        KeyFigure("Unidades de salud 621–623 (todas)", _fmt((atlas.summary or {}).get("unidades_salud", {}).get("621_623", float("nan")))),
    )
    return MapView(
        id="hospitales", title=f"{VIEWS['hospitales']} · {atlas.region.nombre}", subtitle=_subtitle(atlas, filters),
        region=atlas.region, built=_built(atlas), layers=tuple(draw), extent=extent, tables=tuple(tables), figures=figures,
        notes=tuple(_data_notes(atlas)), params={"filtros": _filters_dict(filters), "capas_visibles": visible},
    )


def _filters_dict(filters: Filters) -> dict:
    return {"capas": list(filters.capas), "clases": list(filters.clases), "sectores": list(filters.sectores),
            "municipios": list(filters.municipios), "nombre": filters.nombre}


def _unavailable(view_id: str, atlas: Atlas, filters: Filters, reason: str, *, params=None) -> MapView:
    """A view whose analysis could not run: the hospitals and the zone, and the reason, plainly."""
    layers = _filtered(atlas, filters)
    draw = [_spec_layer(atlas, "hospitales", layers["hospitales"]), *_zone_layer(atlas)]
    return MapView(
        id=view_id, title=f"{VIEWS[view_id]} · {atlas.region.nombre}", subtitle=_subtitle(atlas, filters),
        region=atlas.region, built=_built(atlas), layers=tuple(draw), extent=_extent([layers["hospitales"]], trim=0.01, pad=0.1),
        notes=(f"Análisis no disponible: {reason}", *_data_notes(atlas)), available=False,
        params={"filtros": _filters_dict(filters), **(params or {})},
    )


# --------------------------------------------------------------------------- densidad


def density_view(atlas: Atlas, filters: Filters = Filters(), *, params=None) -> MapView:
    """Kernel density bands, DBSCAN clusters and Gi* hot spots of the health units left by the filters.

    The units are the establishments whose SCIAN class starts with ``region.density.health_prefixes``
    (621–623), after the filters (class, sector, municipio, name).
    """
    from ..clusters import cluster_polygons, dbscan_labels, getis_ord_hotspots
    from ..density import kde_contours, kde_grid
    from ..hexagons import footprint_cells, hex_counts
    from ..quotients import is_health, national_lq

    region = atlas.region
    p = params or region.density
    crs = region.crs_metric
    layers = _filtered(atlas, filters)
    est = layers[ALL_LAYER]
    units = est[is_health(est["clase"], p.health_prefixes)]
    prm = {"filtros": _filters_dict(filters), "prefijos_salud": list(p.health_prefixes), "ancho_banda_m": p.bandwidth_m,
           "celda_m": p.cell_m, "dbscan_eps_m": p.dbscan_eps_m, "dbscan_min_puntos": p.dbscan_min_points,
           "h3_resolucion": p.h3_resolution, "gi_permutaciones": p.hotspot_permutations, "gi_semilla": p.hotspot_seed}
    if len(units) < max(3, p.dbscan_min_points):
        return _unavailable("densidad", atlas, filters, f"con los filtros actuales quedan {len(units)} unidades de salud "
                            f"(SCIAN {', '.join(p.health_prefixes)}); se necesitan al menos {max(3, p.dbscan_min_points)}.", params=prm)
    grid = kde_grid(units, crs=crs, bandwidth_m=p.bandwidth_m, cell_m=p.cell_m)
    bands = kde_contours(grid, list(p.contour_levels) or None)
    labels = dbscan_labels(units, crs=crs, eps_m=p.dbscan_eps_m, min_points=p.dbscan_min_points)
    zone_gdf = atlas.layers.get("ciudad_historica")
    zone = zone_gdf.geometry.union_all() if zone_gdf is not None and len(zone_gdf) else None
    hosp = layers["hospitales"]
    clusters = cluster_polygons(units, labels, crs=crs, hospitals=hosp, zone=zone, ratio=p.concave_ratio, buffer_m=p.cluster_buffer_m)
    cells = footprint_cells(atlas.layers[ALL_LAYER], p.h3_resolution, min_points=p.footprint_min_establishments)
    hexes = hex_counts(units, p.h3_resolution, cells=cells)
    hs = getis_ord_hotspots(hexes[["n", "geometry"]], "n", ring=p.hotspot_ring, permutations=p.hotspot_permutations,
                            seed=p.hotspot_seed) if len(hexes) >= 3 and hexes["n"].nunique() > 1 else None

    draw: list[MapLayer] = []
    colors = KDE_COLORS[-len(bands):] if len(bands) else ()
    for color, row in zip(colors, bands.itertuples()):
        draw.append(MapLayer(id=f"kde_{row.desde:g}", label=f"Densidad {row.etiqueta}", kind="poligonos", color=color,
                             fill_opacity=0.55, data=gpd.GeoDataFrame(
                                 {"etiqueta": [row.etiqueta]}, geometry=[row.geometry], crs=4326), popup=("etiqueta",)))
    if hs is not None:
        for cls, color in HOT_COLORS.items():
            sel = hs[hs["clase"] == cls]
            if len(sel):
                data = sel.reset_index()[["h3", "n", "gi_z", "p_valor", "clase", "geometry"]]
                draw.append(MapLayer(id=f"gi_{cls[-3:-1]}", label=f"Punto caliente Gi* {cls[-3:]}", kind="poligonos", color=color,
                                     data=data, outline_only=True, size=1.6, show_count=True, popup=("h3", "n", "clase")))
    if len(clusters):
        data = clusters.drop(columns=["en_ciudad_historica"]).assign(
            en_ciudad_historica_pct=(100 * clusters["en_ciudad_historica"]).round(1))
        draw.append(MapLayer(id="clusters", label=f"Clúster DBSCAN ({p.dbscan_eps_m:g} m, ≥ {p.dbscan_min_points} unidades)",
                             kind="poligonos", color=CLUSTER_COLOR, data=data, outline_only=True, size=2.0, show_count=True,
                             popup=("cluster", "unidades", "area_km2", "hospitales")))
    draw += [_spec_layer(atlas, "hospitales", hosp, label="Hospitales", cluster=False), *_zone_layer(atlas)]


    level = round(100 * (1 - p.hotspot_fdr))
    hot = hs[(hs["confianza"] >= level) & (hs["gi_z"] > 0)] if hs is not None else hexes.iloc[:0]
    lq = national_lq(atlas.layers[ALL_LAYER], national_share=p.national_share_units, prefixes=p.health_prefixes)
    top = clusters.head(8)
    cl_table = pd.DataFrame({
        "Clúster": top["cluster"].astype(int), "Unidades": top["unidades"].astype(int),
        "Área km²": top["area_km2"].round(2), "Hospitales": top["n_hospitales"].astype(int),
        "% en Ciudad Histórica": (100 * top["en_ciudad_historica"]).round(1),
        "Clases principales": top["clases"].str.slice(0, 70),
    })
    hs_table = (hs["clase"].value_counts().rename_axis("Clase Gi*").rename("Hexágonos").reset_index()
                if hs is not None else pd.DataFrame(columns=["Clase Gi*", "Hexágonos"]))
    band_table = pd.DataFrame({"Banda": bands["etiqueta"],
                               "Área km²": area_km2(bands).round(2)}) if len(bands) else pd.DataFrame()
    tables = [Table("Clústeres DBSCAN mayores", cl_table, f"Envolvente cóncava de cada clúster con {p.cluster_buffer_m:g} m de margen."),
              Table("Puntos calientes y fríos (Gi*, hexágonos H3)", hs_table,
                    "FDR de Benjamini–Hochberg por nivel de confianza; huella urbana = hexágonos con establecimientos.")]
    if len(band_table):
        tables.append(Table("Bandas de densidad kernel", band_table))
    figures = (
        KeyFigure("Unidades de salud analizadas", _fmt(len(units))),
        KeyFigure("Densidad máxima", f"{grid.max():,.0f} unidades/km²"),
        KeyFigure("Clústeres DBSCAN", _fmt(len(clusters))),
        KeyFigure("Unidades en clústeres", _fmt(int((labels >= 0).sum()))),
        KeyFigure(f"Hexágonos calientes (≥ {level} %)", _fmt(len(hot))),
        KeyFigure("Cociente de localización nacional", _fmt(lq.get("lq"), 2)),
    )
    notes = [
        f"Unidades de salud: SCIAN {', '.join(p.health_prefixes)} del DENUE tras los filtros.",
        f"Densidad kernel gaussiana, ancho de banda {grid.bandwidth_m:,.0f} m, celda {grid.cell_m:g} m (unidades por km²).",
        f"Gi* con {p.hotspot_permutations} permutaciones (semilla {p.hotspot_seed}) sobre hexágonos H3 de resolución {p.h3_resolution}.",
        "LQ nacional con todas las unidades de salud de la región (sin filtros) frente a "
        f"{100 * p.national_share_units:.2f} % ({p.national_share_source}).",
        *_data_notes(atlas),
    ]
    results = {"densidad_kde_bandas": bands, "densidad_clusteres": clusters}
    if hs is not None:
        results["densidad_hexagonos_gi"] = hs.reset_index()
    return MapView(
        id="densidad", title=f"{VIEWS['densidad']} · {region.nombre}", subtitle=_subtitle(atlas, filters),
        region=region, built=_built(atlas), layers=tuple(draw), extent=_extent([bands], pad=0.04) or _extent([units], trim=0.01),
        tables=tuple(tables), figures=figures, notes=tuple(notes), results=results, params=prm,
    )


# --------------------------------------------------------------------------- influencia


def catchment_view(atlas: Atlas, filters: Filters = Filters(), *, result=None) -> MapView:
    """Road travel bands from the hospitals left by the filters, with the population inside them.

    ``result`` is a :class:`~atlas.catchment.CatchmentResult` already computed (the app's); without
    it the catchment is computed with the region's settings and the filtered hospitals as origins.
    """
    region = atlas.region
    layers = _filtered(atlas, filters)
    hosp = layers["hospitales"]
    notes: list[str] = []
    if result is None:
        from ..catchment import catchment_for_region, origins_for_region

        if len(hosp):
            origins = gpd.GeoDataFrame(hosp[["nom_estab", "geometry"]].rename(columns={"nom_estab": "nombre"}),
                                       geometry="geometry", crs=hosp.crs).to_crs(4326)
            result = catchment_for_region(region, origin="hospitales", origins=origins, atlas=atlas)
        else:
            notes.append("Con los filtros actuales no queda ningún hospital: el origen es el centro de la región.")
            result = catchment_for_region(region, origin="centro", origins=origins_for_region(region, "centro"))
    bands = result.bands.sort_values("minutos")
    draw: list[MapLayer] = []
    n = len(bands)
    for i, row in enumerate(bands[::-1].itertuples()):  # largest first, nearest on top
        color = BAND_COLORS[min(n - 1 - i, len(BAND_COLORS) - 1)]
        draw.append(MapLayer(id=f"banda_{int(row.minutos)}", label=f"Hasta {int(row.minutos)} min: {_fmt(row.poblacion)} hab.",
                             kind="poligonos", color=color, fill_opacity=0.28,
                             data=gpd.GeoDataFrame({"minutos": [int(row.minutos)], "poblacion": [int(row.poblacion)]},
                                                   geometry=[row.geometry], crs=4326), popup=("minutos", "poblacion")))
    for row in result.circle.itertuples():
        draw.append(MapLayer(id="circulo", label=f"{row.radio_km:g} km en línea recta: {_fmt(row.poblacion)} hab.",
                             kind="poligonos", color=CIRCLE_COLOR, outline_only=True, dashed=True, size=2.0,
                             data=gpd.GeoDataFrame({"radio_km": [row.radio_km], "poblacion": [int(row.poblacion)]},
                                                   geometry=[row.geometry], crs=4326), popup=("radio_km", "poblacion")))
    origins = result.origins.to_crs(4326)
    color = atlas.specs["hospitales"].color if "hospitales" in atlas.specs else "#c0392b"
    draw.append(MapLayer(id="origenes", label="Origen (hospital)" if len(hosp) else "Origen", kind="puntos", color=color,
                         size=5, fill_opacity=0.95, data=origins, show_count=True, popup=("nombre",)))
    summary = result.summary.copy()
    cols = {"minutos": "Minutos", "poblacion": "Población", "metropolitana": "Metropolitana", "regional": "Regional",
            "mercado_potencial": "Mercado potencial", "localidades": "Localidades", "municipios": "Municipios"}
    band_table = summary[[c for c in cols if c in summary.columns]].rename(columns=cols)
    last = int(bands["minutos"].max())
    col = f"hasta_{last}"
    bm = result.by_municipio
    top = bm[bm[col] > 0].sort_values(col, ascending=False).head(10) if col in bm.columns else bm.iloc[:0]
    mun_table = pd.DataFrame({"Municipio": top.get("NOM_MUN", pd.Series(dtype=str)), "Estado": top.get("NOM_ENT", pd.Series(dtype=str)),
                              "Marginación": top.get("GM_2020", pd.Series(dtype=str)), f"Población ≤ {last} min": top.get(col, pd.Series(dtype=int))})
    bs = result.by_state
    states = bs[bs[col] > 0].sort_values(col, ascending=False) if col in bs.columns else bs.iloc[:0]
    state_table = pd.DataFrame({"Estado": states.get("NOM_ENT", pd.Series(dtype=str)), f"Población ≤ {last} min": states.get(col, pd.Series(dtype=int))})
    tables = (Table("Población por banda de tiempo (Censo 2020)", band_table,
                    "Mercado potencial: municipios de marginación " + " o ".join(region.catchment.mercado_grados).lower()
                    + " (CONAPO 2020), aproximación a la capacidad de pago."),
              Table(f"Municipios con más población a ≤ {last} min", mun_table),
              Table(f"Población por estado a ≤ {last} min", state_table))
    figures = tuple(KeyFigure(f"Población a ≤ {int(r.minutos)} min", _fmt(r.poblacion)) for r in bands.itertuples())
    if len(result.circle):
        figures += (KeyFigure(f"Población a ≤ {result.circle['radio_km'].iloc[0]:g} km (línea recta)", _fmt(int(result.circle["poblacion"].sum()))),)
    figures += (KeyFigure("Orígenes distintos", _fmt(len(origins))),)
    p = result.params or {}
    net = result.network_info or {}
    source = net.get("fuente", "")
    if source in ("", "líneas"):  # network_from_lines names no source; the file says which lines
        name = Path(str(net.get("archivo", ""))).name
        source = f"carreteras de {name}" if name else "carreteras (líneas)"
    notes += [
        f"Red: {source}, {net.get('nodos', 0):,} nodos; acceso fuera de la red a "
        f"{p.get('velocidad_acceso_kmh', region.catchment.access_speed_kmh):g} km/h con circuidad {p.get('circuidad', region.catchment.circuity):g}.",
        "Población de las localidades del Censo 2020 (ITER) según su tiempo al origen más cercano.",
        *result.notes,
        *_data_notes(atlas)[:2],
    ]
    extent = _extent([result.circle]) if len(result.circle) else _extent([bands])
    results = {"influencia_bandas": result.bands, "influencia_circulo": result.circle, "influencia_origenes": origins,
               "influencia_discrepancias": result.disagreement, "influencia_por_municipio": result.by_municipio,
               "influencia_por_estado": result.by_state}
    return MapView(
        id="influencia", title=f"{VIEWS['influencia']} · {region.nombre}", subtitle=_subtitle(atlas, filters),
        region=region, built=_built(atlas), layers=tuple(draw), extent=extent, tables=tables, figures=figures, notes=tuple(notes),
        results=results, params={"filtros": _filters_dict(filters), **{k: v for k, v in p.items() if not isinstance(v, dict)}},
    )


# --------------------------------------------------------------------------- sitios


def sites_result(atlas: Atlas):
    """The site screening of the region, or ``(None, reason)`` when ``atlas.siting`` is not installed."""
    try:
        siting = importlib.import_module("atlas.siting")
    except ModuleNotFoundError as exc:
        if exc.name not in ("atlas.siting",):
            raise
        return None, "el cribado de sitios (atlas.siting) no está en esta versión del atlas."
    return siting.siting_for_region(atlas.region, atlas), ""


def sites_view(atlas: Atlas, filters: Filters = Filters(), *, result=None, reason: str = "") -> MapView:
    """Candidate sites coloured by score quintile, the optimal new sites and the existing hospitals.

    ``result`` is a siting result with ``table`` (candidates with ``sitio``, ``puntaje``, ``rango``,
    point geometry) and ``optimal_sites()`` (``orden``, ``ganancia``). Without it the view says that
    the analysis is not available and why (``reason``).
    """
    if result is None:
        return _unavailable("sitios", atlas, filters, reason or "no se calculó el cribado de sitios.")
    from ..hexagons import hex_polygons

    region = atlas.region
    layers = _filtered(atlas, filters)
    table = result.table.to_crs(4326)
    geoms = table.geometry
    if table["sitio"].astype(str).str.startswith("h3:").all():
        geoms = gpd.GeoSeries(hex_polygons(table["sitio"].str.slice(3)).values, index=table.index, crs=4326)
    cand = gpd.GeoDataFrame(table[["sitio", "puntaje", "rango"]].copy(), geometry=geoms, crs=4326)
    kind = "poligonos" if (cand.geom_type != "Point").any() else "puntos"
    q = np.unique(np.quantile(cand["puntaje"], [0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    draw: list[MapLayer] = []
    bins = pd.cut(cand["puntaje"], q, include_lowest=True, labels=False) if len(q) > 1 else pd.Series(0, index=cand.index)
    for b in sorted(bins.dropna().unique()):
        sel = cand[bins == b]
        lo, hi = (q[int(b)], q[int(b) + 1]) if len(q) > 1 else (q[0], q[0])
        draw.append(MapLayer(id=f"puntaje_{int(b)}", label=f"Puntaje {lo:.0f}–{hi:.0f}", kind=kind,
                             color=SCORE_COLORS[int(round(b * (len(SCORE_COLORS) - 1) / max(1, len(q) - 2)))],
                             data=sel, fill_opacity=0.6, size=3, show_count=True, popup=("sitio", "puntaje", "rango")))
    draw += [_spec_layer(atlas, "hospitales", layers["hospitales"], label="Hospitales existentes", cluster=False), *_zone_layer(atlas)]
    best = result.optimal_sites().to_crs(4326)
    if len(best):
        best = best[["sitio", "orden", "ganancia", "puntaje", "geometry"]]
        draw.append(MapLayer(id="sitios_optimos", label="Sitio óptimo (MCLP)", kind="puntos", color=OPTIMAL_COLOR, size=14,
                             marker="*", fill_opacity=1.0, data=best, show_count=True, popup=("orden", "sitio", "ganancia", "puntaje")))
    rank = cand.sort_values(["puntaje", "sitio"], ascending=[False, True]).head(10)
    centre = table.loc[rank.index].geometry
    rank_table = pd.DataFrame({"Rango": rank["rango"], "Sitio": rank["sitio"], "Puntaje": rank["puntaje"].round(1),
                               "Lat": centre.y.round(5), "Lon": centre.x.round(5)})
    opt_table = pd.DataFrame({"Orden": best["orden"], "Sitio": best["sitio"], "Demanda nueva cubierta": best["ganancia"].round(0),
                              "Puntaje": best["puntaje"].round(1)}) if len(best) else pd.DataFrame()
    tables = [Table("Sitios mejor puntuados", rank_table, "Puntaje 0–100: suma ponderada de criterios normalizados.")]
    if len(opt_table):
        tables.append(Table("Sitios óptimos (cobertura máxima, MCLP)", opt_table, "En el orden de su ganancia marginal."))
    mclp = getattr(result, "mclp", None)
    figures = [KeyFigure("Sitios candidatos", _fmt(len(cand))), KeyFigure("Sitios óptimos", _fmt(len(best)))]
    if mclp is not None and getattr(mclp, "demand_total", 0):
        figures += [KeyFigure("Demanda cubierta hoy", f"{100 * mclp.covered_before / mclp.demand_total:.1f} %"),
                    KeyFigure("Con los sitios nuevos", f"{100 * mclp.covered_after / mclp.demand_total:.1f} %")]
    service = getattr(result, "service", {}) or {}
    demand = getattr(result, "demand", None)
    notes = []
    if service.get("nota"):
        notes.append(f"Estándar de servicio: {service['nota']}")
    if demand is not None and getattr(demand, "label", ""):
        notes.append(f"Demanda: {demand.label}")
    notes += list(getattr(getattr(result, "screening", None), "notes", []) or [])
    notes.append("El cribado usa todas las capas del atlas; los filtros solo cambian los hospitales dibujados.")
    notes += _data_notes(atlas)[:2]
    return MapView(
        id="sitios", title=f"{VIEWS['sitios']} · {region.nombre}", subtitle=_subtitle(atlas, filters),
        region=region, built=_built(atlas), layers=tuple(draw), extent=_extent([cand], pad=0.05), tables=tuple(tables), figures=tuple(figures),
        notes=tuple(notes), results={"sitios_candidatos": table, "sitios_optimos": best},
        params={"filtros": _filters_dict(filters), "servicio": {k: v for k, v in service.items() if k != "nota"}},
    )


# --------------------------------------------------------------------------- all of them


def views_from_atlas(
    atlas: Atlas,
    filters: Filters = Filters(),
    names=("hospitales",),
    *,
    results: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> list[MapView]:
    """Build the named views (``"todo"`` = all) in order.

    ``results`` may hold ``"influencia"`` (a CatchmentResult) and ``"sitios"`` (a siting result) to
    reuse; missing ones are computed.
    """
    names = list(VIEWS) if "todo" in names else list(names)
    unknown = [n for n in names if n not in VIEWS]
    if unknown:
        raise ConfigError(f'view was "{unknown[0]}" but is expected to be one of {", ".join([*VIEWS, "todo"])}.')
    results = results or {}
    out = []
    for i, name in enumerate(names):
        if progress:
            progress(i / len(names), f"Calculando la vista «{VIEWS[name]}»…")
        if name == "hospitales":
            out.append(hospitals_view(atlas, filters))
        elif name == "densidad":
            out.append(density_view(atlas, filters))
        elif name == "influencia":
            out.append(catchment_view(atlas, filters, result=results.get("influencia")))
        else:
            res, why = (results["sitios"], "") if results.get("sitios") is not None else sites_result(atlas)
            out.append(sites_view(atlas, filters, result=res, reason=why))
    if progress:
        progress(1.0, "Vistas listas.")
    return out
