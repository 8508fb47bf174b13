"""The historic-centre zone ("Ciudad Histórica").

No official boundary is available for León or Torreón here, so the default is a documented
approximation: the convex hull of named landmarks found in DENUE itself (fallback positions from the
region config), buffered in metres. A region can point ``files.ciudad_historica`` at an official polygon.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import pandas as pd
import shapely

from ._errors import DataError
from .settings import Region

__all__ = ["historic_zone", "inside", "landmarks_from_denue"]

log = logging.getLogger(__name__)


def landmarks_from_denue(region: Region, establishments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One point per configured landmark: the first DENUE match of its pattern, else the fallback."""
    rows = []
    names = establishments["nom_estab"].fillna("").str.upper()
    for lm in region.ciudad_historica.landmarks:
        hit = establishments[names.str.contains(lm.patron, regex=True, flags=re.I)]
        if len(hit):
            rows.append({"nombre": lm.nombre, "origen": f"DENUE: {hit.iloc[0]['nom_estab']}", "geometry": hit.geometry.iloc[0]})
        else:
            rows.append({"nombre": lm.nombre, "origen": "posición de respaldo (config)", "geometry": shapely.Point(lm.lon, lm.lat)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326) if rows else gpd.GeoDataFrame(
        {"nombre": [], "origen": []}, geometry=[], crs=4326
    )


def historic_zone(region: Region, establishments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A one-row frame (EPSG:4326) with the zone's polygon, ``nombre``, ``fuente`` and ``aproximada``."""
    hc = region.ciudad_historica
    if region.files.ciudad_historica:
        path = region.path(region.files.ciudad_historica)
        if not path.is_file():
            raise DataError(f"{path}: configured historic-centre polygon not found.")
        gdf = gpd.read_file(path)
        if gdf.crs is None:
            raise DataError(f"{path}: the historic-centre polygon has no CRS.")
        geom = gdf.to_crs(4326).union_all()
        return gpd.GeoDataFrame(
            {"nombre": [hc.nombre], "fuente": [f"Polígono oficial: {path.name}"], "aproximada": [False]},
            geometry=[geom], crs=4326,
        )
    pts = landmarks_from_denue(region, establishments)
    if len(pts) < 3:
        raise DataError(f"Region {region.id}: at least three [ciudad_historica] landmarks are needed to draw the zone.")
    metric = pts.to_crs(region.crs_metric)
    poly = shapely.convex_hull(shapely.MultiPoint(list(metric.geometry))).buffer(hc.buffer_m)
    geom = gpd.GeoSeries([poly], crs=region.crs_metric).to_crs(4326).iloc[0]
    found = int(pts["origen"].str.startswith("DENUE").sum())
    fuente = (
        f"Aproximada: envolvente de {len(pts)} hitos ({found} ubicados en el DENUE) con {hc.buffer_m:.0f} m de margen. "
        + "Hitos: " + "; ".join(pts["nombre"])
    )
    return gpd.GeoDataFrame(
        {"nombre": [hc.nombre], "fuente": [fuente], "aproximada": [True]}, geometry=[geom], crs=4326
    )


def inside(points: gpd.GeoDataFrame, zone: gpd.GeoDataFrame) -> pd.Series:
    """Boolean Series: which points fall inside the zone."""
    poly = zone.geometry.union_all()
    shapely.prepare(poly)
    return pd.Series(shapely.contains_xy(poly, points.geometry.x.to_numpy(), points.geometry.y.to_numpy()), index=points.index, name="en_ciudad_historica")
