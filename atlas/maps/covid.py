"""COVID-19 cases per 100,000 inhabitants by municipio: the rate table and its choropleth layer.

The cases are published figures (La Laguna: the June 2020 «Metrópoli Laguna» health round table,
kept in the region's ``[plan.covid]``); the population is the 2020 census in the municipal layer.
:func:`cases_per_100k` is a pure table function; :func:`add_cases_choropleth` draws it with its date
and source on the map. Strings from data are escaped before they reach HTML.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from .._errors import ConfigError, DataError
from .base import BindPopup, html_escape

__all__ = ["BREAKS", "COLORS", "cases_per_100k", "covid_from_plan", "add_cases_choropleth", "rate_color"]

#: class limits of the choropleth (cases per 100,000); the last class is open-ended
BREAKS = (50.0, 100.0, 150.0, 200.0)
#: ColorBrewer YlOrRd, one colour per class (len(BREAKS) + 1)
COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


def cases_per_100k(
    cases: Mapping[str, int | float],
    municipios: gpd.GeoDataFrame,
    *,
    reference: Mapping[str, int | float] | None = None,
    per: float = 100_000.0,
) -> gpd.GeoDataFrame:
    """Cases per ``per`` inhabitants for each municipio in ``cases`` (and ``reference``).

    Parameters
    ----------
    cases
        Five-digit CVEGEO -> confirmed cases (the region's municipios).
    municipios
        Municipal polygons with ``CVEGEO``, ``NOMGEO`` and ``POBTOT`` (census population).
    reference
        CVEGEO -> cases of municipios shown for comparison only (``referencia`` = True).

    Returns
    -------
    GeoDataFrame (EPSG:4326) with ``cvegeo, municipio, estado, casos, poblacion, tasa, referencia``, in
    the order given. The input is not modified.

    Raises
    ------
    DataError
        A code is not in the municipal layer or its population is missing or zero.

    Examples
    --------
    >>> import shapely
    >>> mun = gpd.GeoDataFrame({"CVEGEO": ["05035"], "NOMGEO": ["Torreón"], "POBTOT": [720848]},
    ...                        geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> round(float(cases_per_100k({"05035": 843}, mun)["tasa"].iloc[0]), 2)
    116.95
    """
    need = {"CVEGEO", "NOMGEO", "POBTOT"}
    if not need <= set(municipios.columns):
        raise DataError(f"The municipal layer needs columns {sorted(need)}; it has {sorted(municipios.columns)}.")
    if municipios.crs is None:
        raise DataError("The municipal layer has no CRS.")
    rows = [(str(k), v, False) for k, v in cases.items()] + [(str(k), v, True) for k, v in (reference or {}).items()]
    if not rows:
        raise ConfigError("No cases given: expected at least one municipio (CVEGEO -> cases).")
    m = municipios.drop_duplicates("CVEGEO").set_index("CVEGEO")
    missing = sorted(c for c, _, _ in rows if c not in m.index)
    if missing:
        raise DataError(f"Municipios {', '.join(missing)} are not in the municipal layer (expected five-digit CVEGEO).")
    out = []
    for code, n, ref in rows:
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 0 or (isinstance(n, float) and math.isnan(n)):
            raise ConfigError(f"cases for {code} was {n!r} but is expected to be a number >= 0.")
        pop = m.at[code, "POBTOT"]
        if pd.isna(pop) or int(pop) <= 0:
            raise DataError(f"Municipio {code} has no population in the municipal layer; a rate cannot be computed.")
        out.append({
            "cvegeo": code, "municipio": str(m.at[code, "NOMGEO"]),
            "estado": str(m.at[code, "NOM_ENT"]) if "NOM_ENT" in m.columns else "",
            "casos": n, "poblacion": int(pop), "tasa": per * n / int(pop), "referencia": ref,
            "geometry": m.at[code, "geometry"],
        })
    return gpd.GeoDataFrame(out, geometry="geometry", crs=municipios.crs).to_crs(4326)


def covid_from_plan(plan: Mapping, municipios: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict] | None:
    """The rate table and its labels (``titulo``, ``fecha``, ``fuente``) from a region's ``[plan.covid]``;
    ``None`` when the region publishes no such figures."""
    cfg = plan.get("covid") if plan else None
    if not cfg:
        return None
    for key in ("casos", "fecha", "fuente"):
        if not cfg.get(key):
            raise ConfigError(f"[plan.covid] needs {key} (cases by CVEGEO, their date and their source).")
    rates = cases_per_100k(cfg["casos"], municipios, reference=cfg.get("referencia"))
    labels = {"titulo": cfg.get("titulo", "Casos de COVID-19 por 100 000 habitantes"), "fecha": cfg["fecha"], "fuente": cfg["fuente"]}
    return rates, labels


def rate_color(rate: float, breaks=BREAKS, colors=COLORS) -> str:
    """The class colour of a rate: the first class whose upper limit exceeds it."""
    for limit, color in zip(breaks, colors):
        if rate < limit:
            return color
    return colors[len(breaks)]


class _CasesLegend(MacroElement):
    _template = Template(
        """{% macro html(this, kwargs) %}
        <div class="map-legend-covid" style="position: absolute; z-index: 1000; bottom: 40px; right: 12px; background: rgba(255,255,255,0.92);
             padding: 8px 10px; border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; max-width: 260px;">
          <div style="font-weight: 600;">{{ this.title }}</div>
          <div style="margin-bottom: 4px;">{{ this.date }}</div>
          {% for color, label in this.items %}
          <div><span style="display:inline-block; width: 14px; height: 12px; margin-right: 6px; vertical-align: -1px; background: {{ color }}; opacity: .8;"></span>{{ label }}</div>
          {% endfor %}
          <div style="margin-top: 4px; color: #555; font-size: 11px;">{{ this.source }}</div>
        </div>
        {% endmacro %}"""
    )

    def __init__(self, title: str, date: str, source: str, items):
        super().__init__()
        self.title, self.date, self.source = html_escape(title), html_escape(date), html_escape(source)
        self.items = [(c, html_escape(lbl)) for c, lbl in items]


def _class_labels(breaks=BREAKS) -> list[str]:
    lo = [0.0, *breaks]
    labels = [f"{a:g} a < {b:g}" for a, b in zip(lo, breaks)]
    return labels + [f"{breaks[-1]:g} o más"]


def add_cases_choropleth(
    m: folium.Map, rates: gpd.GeoDataFrame, *, titulo: str, fecha: str, fuente: str,
    show: bool = True, include_reference: bool = False, opacity: float = 0.55, fit: bool = False,
) -> folium.FeatureGroup:
    """Draw the municipios coloured by ``tasa`` with a popup each and a legend (title, date, source).

    Reference municipios are left out unless ``include_reference`` (they are usually far away);
    ``fit`` zooms the map out to the drawn municipios.
    """
    draw = rates if include_reference else rates[~rates["referencia"]]
    name = f"{titulo} ({fecha})"
    group = folium.FeatureGroup(name=html_escape(name), show=show)
    for row in draw.itertuples():
        color = rate_color(row.tasa)
        gj = folium.GeoJson(
            gpd.GeoSeries([row.geometry], crs=4326).__geo_interface__,
            style_function=lambda _f, c=color, o=opacity: {"color": "#7f2704", "weight": 1.5, "fillColor": c, "fillOpacity": o},
        )
        popup = (
            f"<b>{html_escape(row.municipio)}</b> ({html_escape(row.estado)})<br>"
            f"{html_escape(f'{row.tasa:,.1f}')} casos por 100 000 hab.<br>"
            f"{html_escape(f'{row.casos:,.0f}')} casos confirmados · población 2020 {html_escape(f'{row.poblacion:,}')}<br>"
            f"<small>{html_escape(fecha)}. {html_escape(fuente)}</small>"
        )
        gj.add_child(BindPopup(popup))
        gj.add_to(group)
    group.add_to(m)
    # a LayerControl added before this group lists it by a variable not yet defined when the
    # control's script runs (Leaflet then fails on setZIndex): render the control last
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            m._children.move_to_end(key)
    if fit and len(draw):
        minx, miny, maxx, maxy = draw.total_bounds
        m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    m.add_child(_CasesLegend(titulo, fecha, fuente, list(zip(COLORS, _class_labels()))))
    return group
