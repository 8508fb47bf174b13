"""Rates per inhabitant and location quotients (Harvard / U.S. Cluster Mapping method).

A location quotient compares an activity's share of all establishments in an area with its share
in a reference area (the country, or the whole city): ``LQ > 1`` means the area specialises in it.

Examples
--------
>>> round(location_quotient(3132, 84801, 0.0394), 3)
0.937
"""

from __future__ import annotations

import logging
import math
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import ConfigError, DataError
from .hexagons import hex_counts

__all__ = [
    "HEALTH_PREFIXES",
    "is_health",
    "rates_per_100k",
    "location_quotient",
    "national_lq",
    "class_lq",
    "hex_lq",
]

log = logging.getLogger(__name__)

#: SCIAN prefixes of health care proper (621 ambulatory, 622 hospitals, 623 residential care);
#: 624 (social assistance) completes sector 62
HEALTH_PREFIXES: tuple[str, ...] = ("621", "622", "623")


def is_health(clase: pd.Series, prefixes: Iterable[str] = HEALTH_PREFIXES) -> pd.Series:
    """Whether each SCIAN code starts with one of ``prefixes`` (blank codes are not health)."""
    prefixes = tuple(prefixes)
    if not prefixes:
        raise ConfigError("prefixes is empty; expected SCIAN prefixes such as ('621', '622', '623').")
    return clase.fillna("").astype(str).str.startswith(prefixes).rename("salud")


def rates_per_100k(
    points: gpd.GeoDataFrame,
    municipios: pd.DataFrame,
    *,
    codes: Iterable[str],
    by: str | None = None,
) -> pd.DataFrame:
    """Units per 100,000 inhabitants per municipio (2020 census population).

    Parameters
    ----------
    points
        Layer with a ``cvegeo`` column (the municipio each unit lies in).
    municipios
        Frame with ``CVEGEO``, ``NOMGEO`` and ``POBTOT`` (:func:`atlas.geo.municipalities_from_gpkg`).
    codes
        Five-digit CVEGEO of the municipios to report (e.g. ``region.municipios``).
    by
        Optional column whose values become categories (e.g. ``"sector"``); ``"total"`` is always
        reported.

    Returns
    -------
    DataFrame
        Long table ``cvegeo, municipio, categoria, unidades, poblacion, por_100k`` (rate per 100,000
        inhabitants).
    """
    codes = [str(c) for c in codes]
    for col in ("CVEGEO", "POBTOT"):
        if col not in municipios.columns:
            raise DataError(f"municipios lacks column {col}; expected the INEGI municipal layer.")
    if "cvegeo" not in points.columns:
        raise DataError("The layer lacks a cvegeo column; expected the atlas point schema.")
    if by is not None and by not in points.columns:
        raise DataError(f'by column "{by}" is not in the layer; columns are {", ".join(map(str, points.columns))}.')
    mun = municipios.set_index("CVEGEO")
    missing = sorted(set(codes) - set(mun.index))
    if missing:
        raise DataError(f"municipios {', '.join(missing)} are not in the municipal layer.")
    cats = ["total"] + ([] if by is None else sorted(points[by].dropna().astype(str).unique()))
    rows = []
    for code in codes:
        sub = points[points["cvegeo"].astype(str) == code]
        pop = int(mun.at[code, "POBTOT"])
        name = str(mun.at[code, "NOMGEO"]) if "NOMGEO" in mun.columns else code
        for cat in cats:
            n = len(sub) if cat == "total" else int((sub[by].astype(str) == cat).sum())
            rows.append(
                {
                    "cvegeo": code,
                    "municipio": name,
                    "categoria": cat,
                    "unidades": n,
                    "poblacion": pop,
                    "por_100k": n / pop * 1e5 if pop > 0 else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=["cvegeo", "municipio", "categoria", "unidades", "poblacion", "por_100k"])


def location_quotient(local, local_total, reference_share):
    """Location quotient ``(local / local_total) / reference_share``, elementwise.

    ``LQ > 1`` means the activity's share here is above the reference share. Zero totals give NaN.

    >>> round(location_quotient(43, 1000, 0.0394), 3)
    1.091
    """
    local = np.asarray(local, dtype=float)
    total = np.asarray(local_total, dtype=float)
    ref = np.asarray(reference_share, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((total > 0) & (ref > 0), (local / np.where(total > 0, total, 1)) / np.where(ref > 0, ref, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def national_lq(
    establishments: pd.DataFrame,
    *,
    national_share: float,
    prefixes: Iterable[str] = HEALTH_PREFIXES,
) -> dict:
    """The region's location quotient against a national share (Harvard Cluster Mapping method).

    Parameters
    ----------
    establishments
        All establishments of the region, every sector, with a ``clase`` column.
    national_share
        National share of the activity among all establishments (0.0394 for sector 62, Censo
        Económico 2019).
    prefixes
        SCIAN prefixes counted as the activity.

    Returns
    -------
    dict
        ``unidades`` (activity units), ``total`` (all units), ``participacion`` (share, 0–1),
        ``participacion_nacional``, ``lq`` and ``prefijos``.
    """
    if not 0 < national_share < 1:
        raise ConfigError(f"national_share was {national_share!r} but is expected to be a share between 0 and 1.")
    if "clase" not in establishments.columns:
        raise DataError("The establishments lack a clase column; expected the atlas point schema.")
    prefixes = tuple(prefixes)
    n = int(is_health(establishments["clase"], prefixes).sum())
    total = len(establishments)
    return {
        "prefijos": list(prefixes),
        "unidades": n,
        "total": total,
        "participacion": n / total if total else math.nan,
        "participacion_nacional": national_share,
        "lq": location_quotient(n, total, national_share),
    }


def class_lq(
    local: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    prefixes: Iterable[str] = HEALTH_PREFIXES,
    min_units: int = 0,
) -> pd.DataFrame:
    """LQ of every health class of a zone against a reference area (e.g. Ciudad Histórica vs city).

    Both frames hold *all* establishments (every sector) of their area with ``clase`` (and
    ``nombre_act`` when present); ``local`` is normally a subset of ``reference``.

    Returns
    -------
    DataFrame
        Indexed by ``clase``: ``nombre_act``, ``unidades_zona``, ``unidades_ref``,
        ``participacion_zona``, ``participacion_ref`` and ``lq`` (NaN where the zone has fewer than
        ``min_units`` units of the class), sorted by ``unidades_zona`` descending.
    """
    for name, df in (("local", local), ("reference", reference)):
        if "clase" not in df.columns:
            raise DataError(f"The {name} establishments lack a clase column; expected the atlas point schema.")
    hl = local[is_health(local["clase"], prefixes)]
    hr = reference[is_health(reference["clase"], prefixes)]
    table = pd.DataFrame(
        {"unidades_zona": hl["clase"].value_counts(), "unidades_ref": hr["clase"].value_counts()}
    ).fillna(0).astype("int64")
    table.index.name = "clase"
    if "nombre_act" in reference.columns:
        names = pd.concat([hr, hl]).drop_duplicates("clase").set_index("clase")["nombre_act"]
        table.insert(0, "nombre_act", names.reindex(table.index).fillna(""))
    table["participacion_zona"] = table["unidades_zona"] / len(local) if len(local) else math.nan
    table["participacion_ref"] = table["unidades_ref"] / len(reference) if len(reference) else math.nan
    lq = location_quotient(table["unidades_zona"], len(local), table["participacion_ref"])
    table["lq"] = np.where(table["unidades_zona"] >= min_units, lq, np.nan)
    return table.sort_values(["unidades_zona", "unidades_ref"], ascending=False)


def hex_lq(
    establishments: gpd.GeoDataFrame,
    resolution: int,
    *,
    min_establishments: int,
    prefixes: Iterable[str] = HEALTH_PREFIXES,
    percentile: float = 75.0,
    cells: Iterable[str] | None = None,
    point_cells: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Intra-urban location quotient of health units per H3 hexagon against the whole city.

    ``LQ_h = (health_h / all_h) / (health_city / all_city)``, computed only where the hexagon holds
    at least ``min_establishments`` establishments so that small counts do not shout. A hexagon is
    a *strong* cluster (U.S. Cluster Mapping rule) when its LQ is ≥ 1, at or above the
    ``percentile``-th percentile of the eligible hexagons' LQs, and it has enough establishments.

    Parameters
    ----------
    establishments
        All establishments of the city (every sector), with ``clase``.
    resolution
        H3 resolution.
    min_establishments
        Minimum establishments (all sectors) in a hexagon for its LQ to be reported.
    prefixes
        SCIAN prefixes counted as the activity (a single class works too: ``("621211",)``).
    percentile
        Percentile of eligible LQs a strong cluster must reach (75 in Cluster Mapping).
    cells
        Optional complete set of cells (zeros included); default the cells with establishments.
    point_cells
        :func:`atlas.hexagons.hex_cells` of ``establishments`` when already computed.

    Returns
    -------
    GeoDataFrame
        Indexed by ``h3``: ``total`` (all establishments), ``salud`` (activity units), ``lq`` (NaN
        where not eligible), ``fuerte`` (bool), ``area_km2`` and the hexagon.
    """
    if min_establishments < 1:
        raise ConfigError(f"min_establishments was {min_establishments} but is expected to be at least 1.")
    if not 0 <= percentile <= 100:
        raise ConfigError(f"percentile was {percentile} but is expected to be between 0 and 100.")
    if "clase" not in establishments.columns:
        raise DataError("The establishments lack a clase column; expected the atlas point schema.")
    flag = is_health(establishments["clase"], prefixes).map({True: "salud", False: "otros"})
    tagged = establishments[[establishments.geometry.name]].assign(_g=flag.to_numpy())
    counts = hex_counts(tagged, resolution, by="_g", cells=cells, point_cells=point_cells)
    for col in ("salud", "otros"):
        if col not in counts.columns:
            counts[col] = 0
    out = counts[["n", "salud"]].rename(columns={"n": "total"}).copy()
    city_share = out["salud"].sum() / out["total"].sum() if out["total"].sum() else math.nan
    eligible = out["total"] >= min_establishments
    lq = location_quotient(out["salud"], out["total"], city_share)
    out["lq"] = np.where(eligible, lq, np.nan)
    vals = out.loc[eligible, "lq"].dropna()
    cut = float(np.percentile(vals, percentile)) if len(vals) else math.inf
    out["fuerte"] = eligible & (out["lq"] >= 1.0) & (out["lq"] >= cut)
    out["area_km2"] = counts["area_km2"]
    gdf = gpd.GeoDataFrame(out, geometry=counts.geometry.values, crs=4326)
    gdf.attrs.update({"percentil_corte": cut, "participacion_ciudad": float(city_share), "min_establecimientos": min_establishments})
    return gdf
