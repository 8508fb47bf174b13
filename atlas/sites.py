"""Site screening for new hospitals: candidate sites, one function per criterion, and the score.

Every criterion is a function of the candidates (and one input layer) that returns a named Series on
the candidates' index, so each works alone; a criterion whose input is missing is *absent* — left
out of the score and listed with the reason — never silently zero. The score is a weighted mean of
normalised criteria (0–100) with its per-criterion breakdown, so an analyst can see why a site
ranks where it does and change the weights.

Distances are metres in the region's metric CRS (EPSG:6372 for Mexico), never degrees.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ._errors import ConfigError, DataError
from .geo import _located, to_metric

__all__ = [
    "CRITERIA",
    "NORMALISATIONS",
    "Criterion",
    "Screening",
    "candidates_from_h3",
    "candidates_from_points",
    "criterion_auxiliary_units",
    "criterion_cluster",
    "criterion_competition",
    "criterion_historic",
    "criterion_info",
    "criterion_local_demand",
    "criterion_marginalisation",
    "criterion_nearest_hospital",
    "criterion_regional_reach",
    "normalise",
    "parse_weights",
    "resolve_weights",
    "score_sites",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Criterion:
    """What a criterion means: label, unit, direction (+1 more is better, -1 less is better)."""

    nombre: str
    unidad: str
    sentido: int
    peso: float
    descripcion: str


#: every criterion the screening knows, with its default weight
CRITERIA: dict[str, Criterion] = {
    "dist_hospital": Criterion(
        "Distancia al hospital más cercano", "m", +1, 1.0,
        "Lejos de cualquier hospital existente = cobertura no atendida."),
    "dist_hospital_publico": Criterion(
        "Distancia al hospital público más cercano", "m", +1, 0.5,
        "Lejos de hospitales públicos (IMSS, ISSSTE, SSG…)."),
    "dist_hospital_privado": Criterion(
        "Distancia al hospital privado más cercano", "m", +1, 0.5,
        "Lejos de hospitales privados."),
    "auxiliares": Criterion(
        "Unidades auxiliares cercanas", "unidades", +1, 1.0,
        "Consultorios, laboratorios y farmacias en el radio de sinergia."),
    "dist_centro_historico": Criterion(
        "Distancia a la Ciudad Histórica", "m", -1, 0.25,
        "0 dentro del polígono; más cerca = más sinergia con el clúster médico del centro."),
    "cluster": Criterion(
        "Dentro de un clúster o punto caliente", "sí/no", +1, 0.5,
        "Clúster DBSCAN o hexágono caliente (Gi*) de unidades de salud."),
    "competencia_privada": Criterion(
        "Hospitales privados cercanos", "hospitales", -1, 1.0,
        "Competencia directa en el radio de competencia."),
    "demanda_local": Criterion(
        "Demanda local", "personas", +1, 1.5,
        "Población (o su proxy) dentro del estándar de servicio."),
    "marginacion": Criterion(
        "Marginación urbana (AGEB)", "índice CONAPO", -1, 0.5,
        "Índice medio ponderado de las AGEB cercanas; menor = mayor capacidad de pago (proxy)."),
}


def _reach_key(minutes: int) -> str:
    return f"alcance_{int(minutes)}"


def criterion_info(name: str) -> Criterion:
    """Metadata of a criterion, including ``alcance_<T>`` for any threshold ``T``."""
    if name in CRITERIA:
        return CRITERIA[name]
    if name.startswith("alcance_") and name[8:].isdigit():
        t = int(name[8:])
        return Criterion(f"Población a ≤ {t} min", "personas", +1, 0.5 if t <= 60 else 0.25,
                         f"Población de las localidades a ≤ {t} minutos por carretera (alcance regional).")
    raise ConfigError(f'criterion "{name}" is unknown; expected one of {", ".join(CRITERIA)} or alcance_<minutos>.')


# --------------------------------------------------------------------------- candidates


def candidates_from_h3(area, resolution: int, *, origen: str = "h3") -> gpd.GeoDataFrame:
    """The centres of the H3 cells whose centre falls inside ``area`` (a shapely polygon, EPSG:4326).

    Returns a frame with ``sitio`` (``h3:<cell>``), ``origen``, ``etiqueta`` and point geometry.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= 15:
        raise ConfigError(f"H3 resolution was {resolution!r} but is expected to be an integer from 0 to 15.")
    if area is None or area.is_empty:
        raise DataError("The candidate area is empty: no municipio or urban mask to place candidates in.")
    cells: set[str] = set()
    polys = getattr(area, "geoms", [area])
    for p in polys:
        if p.geom_type != "Polygon":
            continue
        shape = h3.geo_to_h3shape(shapely.geometry.mapping(p))
        cells.update(h3.h3shape_to_cells(shape, int(resolution)))
    cells_sorted = sorted(cells)
    if not cells_sorted:
        raise DataError(f"No H3 cell of resolution {resolution} has its centre inside the candidate area.")
    lat, lon = np.array([h3.cell_to_latlng(c) for c in cells_sorted]).T
    return gpd.GeoDataFrame(
        {"sitio": [f"h3:{c}" for c in cells_sorted], "origen": origen, "etiqueta": ""},
        geometry=gpd.points_from_xy(lon, lat), crs=4326,
    )


def candidates_from_points(lat, lon, *, origen: str = "clic", etiquetas=None, prefix: str | None = None) -> gpd.GeoDataFrame:
    """Candidates from coordinates (clicked on the map or uploaded). Validation is the caller's
    (see :mod:`atlas.uploads`); here non-finite coordinates are refused."""
    lat = np.asarray(lat, dtype=float).reshape(-1)
    lon = np.asarray(lon, dtype=float).reshape(-1)
    if lat.shape != lon.shape or not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        raise DataError("candidate coordinates must be finite lat/lon pairs of equal length.")
    prefix = prefix or origen
    labels = list(etiquetas) if etiquetas is not None else [""] * len(lat)
    return gpd.GeoDataFrame(
        {"sitio": [f"{prefix}-{i + 1}" for i in range(len(lat))], "origen": origen, "etiqueta": labels},
        geometry=gpd.points_from_xy(lon, lat), crs=4326,
    )


# --------------------------------------------------------------------------- criteria


def _xy(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Metric coordinates of the located rows only (see :func:`atlas.geo._located`)."""
    g = to_metric(gdf[_located(gdf)], crs).geometry
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def criterion_nearest_hospital(
    candidates: gpd.GeoDataFrame, hospitals: gpd.GeoDataFrame, *, crs: str, sector: str | None = None
) -> pd.Series:
    """Straight-line metres from each candidate to the nearest hospital (optionally of one sector).

    All-NaN when there is no hospital of that sector (the criterion is then absent).
    """
    name = {None: "dist_hospital", "público": "dist_hospital_publico", "privado": "dist_hospital_privado"}.get(sector)
    if name is None:
        raise ConfigError(f'sector was "{sector}" but is expected to be None, "público" or "privado".')
    h = hospitals if sector is None else hospitals[hospitals["sector"] == sector]
    out = pd.Series(np.nan, index=candidates.index, name=name)
    if h.empty or candidates.empty:
        return out
    d, _ = cKDTree(_xy(h, crs)).query(_xy(candidates, crs))
    out[:] = d
    return out


def _count_within(candidates, points, radius_m: float, crs: str, name: str) -> pd.Series:
    if not radius_m > 0:
        raise ConfigError(f"{name}: radius was {radius_m!r} but is expected to be > 0 metres.")
    out = pd.Series(0, index=candidates.index, name=name, dtype="int64")
    if points.empty or candidates.empty:
        return out
    tree = cKDTree(_xy(points, crs))
    out[:] = tree.query_ball_point(_xy(candidates, crs), r=radius_m, return_length=True)
    return out


def criterion_auxiliary_units(candidates, units: gpd.GeoDataFrame, *, radius_m: float, crs: str) -> pd.Series:
    """Auxiliary health units (consultorios, laboratorios, farmacias…) within ``radius_m``."""
    return _count_within(candidates, units, radius_m, crs, "auxiliares")


def criterion_competition(candidates, hospitals: gpd.GeoDataFrame, *, radius_m: float, crs: str) -> pd.Series:
    """Private hospitals within ``radius_m`` (direct competition for a private group)."""
    private = hospitals[hospitals["sector"] == "privado"] if "sector" in hospitals.columns else hospitals.iloc[:0]
    return _count_within(candidates, private, radius_m, crs, "competencia_privada")


def criterion_historic(candidates, zone: gpd.GeoDataFrame | None, *, crs: str) -> pd.Series:
    """Metres to the Ciudad Histórica polygon (0 inside). All-NaN without a polygon."""
    out = pd.Series(np.nan, index=candidates.index, name="dist_centro_historico")
    if zone is None or zone.empty or candidates.empty:
        return out
    poly = to_metric(zone, crs).geometry.union_all()
    out[:] = to_metric(candidates, crs).geometry.distance(poly).to_numpy()
    return out


def criterion_cluster(candidates, areas: gpd.GeoDataFrame | None) -> pd.Series:
    """1.0 inside a density cluster or hot-spot polygon, else 0.0; all-NaN when none were computed."""
    out = pd.Series(np.nan, index=candidates.index, name="cluster")
    if areas is None or candidates.empty:
        return out
    if areas.empty:
        out[:] = 0.0
        return out
    union = areas.to_crs(4326).geometry.union_all()
    out[:] = candidates.to_crs(4326).geometry.within(union).astype(float).to_numpy()
    return out


def criterion_local_demand(candidates, demand: gpd.GeoDataFrame, *, radius_m: float, crs: str) -> pd.Series:
    """Demand (column ``demanda``) within ``radius_m`` of each candidate."""
    out = pd.Series(0.0, index=candidates.index, name="demanda_local")
    if demand.empty or candidates.empty:
        return out
    demand = demand[_located(demand)]  # the tree's rows and the weights must be the same rows
    if demand.empty:
        return out
    tree = cKDTree(_xy(demand, crs))
    w = demand["demanda"].to_numpy(dtype=float)
    hits = tree.query_ball_point(_xy(candidates, crs), r=radius_m)
    out[:] = [float(w[h].sum()) for h in hits]
    return out


def criterion_marginalisation(candidates, demand: gpd.GeoDataFrame, *, radius_m: float, crs: str) -> pd.Series:
    """Population-weighted mean CONAPO urban marginalisation index of the AGEBs within ``radius_m``.

    All-NaN without AGEB demand (column ``marginacion``); NaN for a site with no AGEB near it.
    """
    out = pd.Series(np.nan, index=candidates.index, name="marginacion")
    if "marginacion" not in demand.columns or candidates.empty:
        return out
    ag = demand[demand["marginacion"].notna().to_numpy() & _located(demand)]
    if ag.empty:
        return out
    tree = cKDTree(_xy(ag, crs))
    w = ag["demanda"].to_numpy(dtype=float)
    im = ag["marginacion"].to_numpy(dtype=float)
    for pos, h in enumerate(tree.query_ball_point(_xy(candidates, crs), r=radius_m)):
        if h and w[h].sum() > 0:
            out.iloc[pos] = float((w[h] * im[h]).sum() / w[h].sum())
    return out


def criterion_regional_reach(candidates, table: pd.DataFrame | None, minutes: int) -> pd.Series:
    """Population within ``minutes`` by road, from a table computed by the catchment model
    (:func:`atlas.reach.regional_reach`); all-NaN when no table is given."""
    name = _reach_key(minutes)
    out = pd.Series(np.nan, index=candidates.index, name=name)
    if table is None or name not in table.columns:
        return out
    return table[name].reindex(candidates.index).rename(name).astype(float)


# --------------------------------------------------------------------------- scoring

NORMALISATIONS = ("minmax", "rango")


def normalise(values: pd.Series, sentido: int, method: str = "minmax") -> pd.Series:
    """Map a criterion to 0–1, where 1 is best. ``minmax`` keeps proportions; ``rango`` uses the
    percentile rank (ties share the average rank), robust to outliers.

    A constant criterion carries no information: every site gets 0. Missing values get 0 (the
    worst) — the score table reports how many there were.

    Examples
    --------
    >>> normalise(pd.Series([0.0, 5.0, 10.0]), -1).tolist()
    [1.0, 0.5, 0.0]
    """
    if method not in NORMALISATIONS:
        raise ConfigError(f'normalisation was "{method}" but is expected to be one of {", ".join(NORMALISATIONS)}.')
    if sentido not in (1, -1):
        raise ConfigError(f"sentido was {sentido!r} but is expected to be +1 or -1.")
    v = values.astype(float) * sentido
    ok = v.notna()
    out = pd.Series(0.0, index=values.index, name=values.name)
    if ok.sum() == 0:
        return out
    lo, hi = v[ok].min(), v[ok].max()
    if hi == lo:
        return out
    if method == "minmax":
        out[ok] = (v[ok] - lo) / (hi - lo)
    else:
        r = v[ok].rank(method="average")
        out[ok] = (r - 1) / (ok.sum() - 1)
    return out


def parse_weights(text: str) -> dict[str, float]:
    """``"demanda_local=2,competencia_privada=0"`` → dict; names are checked by :func:`resolve_weights`."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f'weight "{part}" is expected to look like name=number (e.g. demanda_local=2).') from None
    return out


def resolve_weights(names, configured: dict[str, float] | None = None, override: dict[str, float] | None = None) -> dict[str, float]:
    """Weights for ``names``: defaults, then the config's, then the user's. Each must be finite ≥ 0."""
    names = list(names)
    w = {n: criterion_info(n).peso for n in names}
    for source in (configured or {}), (override or {}):
        for k, v in source.items():
            criterion_info(k)  # raises on an unknown name
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ConfigError(f'weight of "{k}" was {v!r} but is expected to be a number ≥ 0.')
            if k in w:
                w[k] = float(v)
    return w


@dataclass
class Screening:
    """Scored candidates and what went into the score.

    ``table`` has the candidates' columns, each raw criterion, ``n_<c>`` (normalised 0–1),
    ``aporte_<c>`` (points of the 0–100 score it contributes), ``puntaje``, ``rango`` (ties share the
    lowest rank) and ``empate`` (True when another site has the same score).
    """

    table: gpd.GeoDataFrame
    weights: dict[str, float]
    used: list[str]
    absent: dict[str, str]
    missing: dict[str, int]
    constant: list[str]
    normalisation: str
    notes: list[str] = field(default_factory=list)

    def ranking(self, top: int | None = None) -> pd.DataFrame:
        cols = ["rango", "sitio", "origen", "etiqueta", "puntaje", "lat", "lon"]
        cols += [c for u in self.used for c in (u, f"aporte_{u}")]
        t = self.table.sort_values(["puntaje", "sitio"], ascending=[False, True])
        t = t.assign(lat=t.geometry.y.round(6), lon=t.geometry.x.round(6))
        return pd.DataFrame(t[cols].head(top) if top else t[cols])


def score_sites(
    candidates: gpd.GeoDataFrame,
    criteria: pd.DataFrame,
    weights: dict[str, float],
    *,
    normalisation: str = "minmax",
    absent_reasons: dict[str, str] | None = None,
) -> Screening:
    """Weighted score (0–100) of every candidate with its per-criterion breakdown.

    Parameters
    ----------
    candidates
        The sites (index shared with ``criteria``).
    criteria
        One column per criterion (raw values, as the ``criterion_*`` functions return them).
    weights
        Weight per criterion (≥ 0). A criterion with weight 0 is reported but adds nothing;
        one whose values are all missing is *absent*: left out, with the reason.
    normalisation
        ``"minmax"`` or ``"rango"`` (see :func:`normalise`).
    absent_reasons
        Why a criterion's input is missing (shown to the user).

    Raises
    ------
    ConfigError
        When every present criterion has weight 0 (nothing to rank by).
    """
    if not criteria.index.equals(candidates.index):
        raise DataError("criteria and candidates must share the same index.")
    reasons = dict(absent_reasons or {})
    used, constant, missing = [], [], {}
    table = candidates.copy()
    for name in criteria.columns:
        info = criterion_info(name)
        col = criteria[name]
        if col.isna().all():
            reasons.setdefault(name, "sin dato de entrada")
            continue
        table[name] = col
        if weights.get(name, 0.0) <= 0:
            continue
        used.append(name)
        table[f"n_{name}"] = normalise(col, info.sentido, normalisation)
        if col.notna().sum() and col.dropna().nunique() == 1:
            constant.append(name)
        if col.isna().any():
            missing[name] = int(col.isna().sum())
    total_w = sum(weights[n] for n in used)
    if not used or total_w <= 0:
        raise ConfigError("Every available criterion has weight 0: give at least one a weight > 0.")
    score = pd.Series(0.0, index=table.index)
    for n in used:
        contrib = 100.0 * weights[n] * table[f"n_{n}"] / total_w
        table[f"aporte_{n}"] = contrib
        score += contrib
    table["puntaje"] = score.round(6)  # rounding makes equal sums compare equal (explicit ties)
    table["rango"] = table["puntaje"].rank(method="min", ascending=False).astype(int)
    table["empate"] = table["puntaje"].duplicated(keep=False)
    absent = {n: r for n, r in reasons.items() if n not in used}
    absent = {n: r for n, r in absent.items() if n not in criteria.columns or criteria[n].isna().all()}
    notes = []
    if constant:
        notes.append("Sin variación entre sitios (no cambian el orden): " + ", ".join(constant) + ".")
    if missing:
        notes.append("Valores faltantes puntuados como el peor: " + ", ".join(f"{k} ({v})" for k, v in missing.items()) + ".")
    return Screening(table, {n: weights.get(n, 0.0) for n in criteria.columns}, used, absent, missing,
                     constant, normalisation, notes)
