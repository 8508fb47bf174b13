"""Territory and population sources: municipios, census localities, CONAPO marginalisation.

All loaders return frames in EPSG:4326 (the storage CRS); measure after projecting with
:func:`to_metric`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ._errors import DataError

__all__ = [
    "EQUAL_AREA_CRS",
    "MEXICO_BOUNDS",
    "area_km2",
    "conapo_municipal",
    "conapo_ageb",
    "localities_from_iter",
    "municipalities_from_gpkg",
    "parse_dms",
    "region_polygon",
    "to_metric",
]

log = logging.getLogger(__name__)

#: (min_lon, min_lat, max_lon, max_lat) of Mexico's territory with a small margin
MEXICO_BOUNDS = (-118.6, 14.3, -86.5, 32.9)


#: Albers equal-area conic on INEGI's Lambert parameters (EPSG:6372's standard parallels and origin):
#: EPSG:6372 keeps shapes, not areas (its area factor is ~0.991 at León), so every km² is measured here.
EQUAL_AREA_CRS = (
    "+proj=aea +lat_0=12 +lon_0=-102 +lat_1=17.5 +lat_2=29.5 +x_0=2500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
)


def area_km2(geoms, crs=4326):
    """Areas in km² measured in :data:`EQUAL_AREA_CRS`: a float for one geometry, else a Series.

    ``geoms`` is a GeoSeries/GeoDataFrame (its own CRS is used) or a shapely geometry in ``crs``.
    """
    if isinstance(geoms, (gpd.GeoSeries, gpd.GeoDataFrame)):
        if geoms.crs is None:
            raise DataError("Cannot measure areas of geometries without a CRS.")
        return geoms.to_crs(EQUAL_AREA_CRS).area / 1e6
    return float(gpd.GeoSeries([geoms], crs=crs).to_crs(EQUAL_AREA_CRS).area.iloc[0] / 1e6)


def to_metric(gdf: gpd.GeoDataFrame, crs: str = "EPSG:6372") -> gpd.GeoDataFrame:
    """Project to a metric CRS, refusing frames without a CRS (never guess degrees)."""
    if gdf.crs is None:
        raise DataError("The frame has no CRS; set it (EPSG:4326 for DENUE) before measuring.")
    return gdf.to_crs(crs)


def _located(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Boolean mask of the rows whose point geometry is present, not empty and has finite x, y.

    ``points_from_xy`` turns blank coordinates into ``POINT (NaN NaN)``, which is neither missing nor
    empty, so ``notna() & ~is_empty`` alone lets it through to a KD-tree that refuses it.
    """
    arr = np.asarray(gdf.geometry.array, dtype=object)
    ok = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    idx = np.flatnonzero(ok)
    if len(idx):
        ok[idx] = np.isfinite(shapely.get_x(arr[idx])) & np.isfinite(shapely.get_y(arr[idx]))
    return ok


def _require(path: Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {what} not found. Set ATLAS_DATA_DIR or the region's [files] entry.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: {what} is an empty file.")
    return path


def municipalities_from_gpkg(path: Path | str, layer: str | None = None) -> gpd.GeoDataFrame:
    """INEGI municipios with 2020 population: ``CVEGEO, CVE_ENT, CVE_MUN, NOMGEO, NOM_ENT, POBTOT, …``.

    Accepts the project's GeoPackage and INEGI's ``AGEM_*.geojson`` (string attributes are
    converted).
    """
    path = _require(Path(path), "municipal polygons")
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataError(f"{path}: cannot read municipal polygons ({exc}).") from exc
    cols = {c.upper(): c for c in gdf.columns if c != "geometry"}
    gdf = gdf.rename(columns={v: k for k, v in cols.items()})
    if "CVEGEO" not in gdf.columns:
        if {"CVE_ENT", "CVE_MUN"} <= set(gdf.columns):
            gdf["CVEGEO"] = gdf["CVE_ENT"].astype(str).str.zfill(2) + gdf["CVE_MUN"].astype(str).str.zfill(3)
        else:
            raise DataError(f"{path}: expected a CVEGEO column (or CVE_ENT and CVE_MUN).")
    gdf["CVEGEO"] = gdf["CVEGEO"].astype(str).str.zfill(5)
    if "POBTOT" in gdf.columns:
        gdf["POBTOT"] = pd.to_numeric(gdf["POBTOT"], errors="coerce").fillna(0).astype("int64")
    if gdf.crs is None:
        raise DataError(f"{path}: the municipal polygons have no CRS.")
    return gdf.to_crs(4326)


def region_polygon(municipios: gpd.GeoDataFrame, cvegeo: tuple[str, ...] | list[str]):
    """Union of the given municipios (EPSG:4326). Raises if any code is not in the frame."""
    missing = sorted(set(cvegeo) - set(municipios["CVEGEO"]))
    if missing:
        raise DataError(f"Municipios {', '.join(missing)} are not in the municipal polygons.")
    return municipios.loc[municipios["CVEGEO"].isin(cvegeo)].union_all()


_DMS = re.compile(r"""^\s*(\d+)\s*°\s*(\d+)\s*'\s*([\d.]+)\s*"?\s*([NSEWO])?\s*$""", re.I)


def parse_dms(value: object) -> float:
    """Decimal degrees from a number or INEGI's DMS text (``101°40'59.520" W`` → -101.6832)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, (int, float, np.number)):
        return float(value)
    text = str(value).strip()
    if not text:
        return np.nan
    try:
        return float(text)
    except ValueError:
        pass
    m = _DMS.match(text)
    if not m:
        return np.nan
    deg, minutes, sec, hemi = m.groups()
    out = int(deg) + int(minutes) / 60 + float(sec) / 3600
    return -out if (hemi or "").upper() in ("W", "O", "S") else out


def localities_from_iter(path: Path | str) -> gpd.GeoDataFrame:
    """All census localities (INEGI ITER 2020) as points with ``POBTOT``.

    Adds ``CVEGEO_MUN`` (5 digits) and ``CVEGEO_LOC`` (9 digits). Coordinates may be decimal or DMS
    text. Localities without coordinates are kept (as ``POINT (NaN NaN)``; filter them with
    ``_located``) so population totals still reconcile with the table.
    """
    path = _require(Path(path), "census localities (ITER)")
    df = pd.read_csv(path, dtype=str, encoding_errors="replace")
    df.columns = [c.strip().upper() for c in df.columns]
    need = {"ENTIDAD", "MUN", "LOC", "LONGITUD", "LATITUD", "POBTOT"}
    if not need <= set(df.columns):
        raise DataError(f"{path}: expected ITER columns {sorted(need)}; missing {sorted(need - set(df.columns))}.")
    # ITER carries state and national total rows (MUN 000 / LOC 0000): keep localities only
    df = df[(df["MUN"] != "000") & (df["LOC"] != "0000") & (df["LOC"] != "9998") & (df["LOC"] != "9999")]
    lon = df["LONGITUD"].map(parse_dms)
    lat = df["LATITUD"].map(parse_dms)
    lon = np.where(lon > 0, -lon, lon)  # DMS without hemisphere: Mexico is west
    out = pd.DataFrame(
        {
            "CVEGEO_MUN": df["ENTIDAD"].str.zfill(2) + df["MUN"].str.zfill(3),
            "CVEGEO_LOC": df["ENTIDAD"].str.zfill(2) + df["MUN"].str.zfill(3) + df["LOC"].str.zfill(4),
            "NOM_ENT": df.get("NOM_ENT"),
            "NOM_MUN": df.get("NOM_MUN"),
            "NOM_LOC": df.get("NOM_LOC"),
            "POBTOT": pd.to_numeric(df["POBTOT"], errors="coerce").fillna(0).astype("int64"),
        }
    ).reset_index(drop=True)
    geom = gpd.points_from_xy(lon, lat)
    return gpd.GeoDataFrame(out, geometry=geom, crs=4326)


def conapo_municipal(path: Path | str) -> pd.DataFrame:
    """CONAPO 2020 municipal marginalisation: ``CVEGEO, GM_2020, IM_2020, IMN_2020``."""
    path = _require(Path(path), "CONAPO municipal marginalisation")
    df = pd.read_csv(path, dtype={"CVE_ENT": str, "CVE_MUN": str})
    if not {"CVE_MUN", "GM_2020"} <= set(df.columns):
        raise DataError(f"{path}: expected CONAPO columns CVE_MUN and GM_2020.")
    df["CVEGEO"] = df["CVE_MUN"].str.zfill(5)
    return df[["CVEGEO", "GM_2020", "IM_2020", "IMN_2020"]]


def conapo_ageb(path: Path | str) -> pd.DataFrame:
    """CONAPO 2020 urban AGEB marginalisation: ``CVE_AGEB`` (13 chars), ``POB_TOTAL``, ``GM_2020``."""
    path = _require(Path(path), "CONAPO urban AGEB marginalisation")
    df = pd.read_csv(path, dtype={"CVE_AGEB": str, "ENT": str, "MUN": str, "LOC": str, "AGEB": str})
    if not {"CVE_AGEB", "POB_TOTAL", "GM_2020"} <= set(df.columns):
        raise DataError(f"{path}: expected CONAPO columns CVE_AGEB, POB_TOTAL and GM_2020.")
    df["CVEGEO_MUN"] = df["CVE_AGEB"].str[:5]
    return df
