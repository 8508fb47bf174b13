"""H3 hexagons: the cell of each point, counts per cell (zeros included) and the urban footprint.

Cells are H3 v4 string ids; polygons are EPSG:4326. Functions return new frames and never mutate
their inputs.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> pts = gpd.GeoDataFrame(geometry=[Point(-101.68, 21.12)] * 3, crs=4326)
>>> hex_counts(pts, 8)["n"].tolist()
[3]
"""

from __future__ import annotations

import logging
from typing import Iterable

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from ._errors import ConfigError, DataError
from .density import _located

__all__ = ["hex_cells", "hex_polygons", "cells_polygon", "footprint_cells", "hex_counts"]

log = logging.getLogger(__name__)


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer) or not 0 <= resolution <= 15:
        raise ConfigError(f"H3 resolution was {resolution!r} but is expected to be an integer from 0 to 15.")
    return int(resolution)


def hex_cells(points: gpd.GeoDataFrame, resolution: int) -> pd.Series:
    """H3 cell (v4 string id) of every point, on the same index; name ``"h3"``.

    Points without geometry get a missing value.
    """
    res = _check_resolution(resolution)
    if points.crs is None:
        raise DataError("The points have no CRS; set it (EPSG:4326 for DENUE) before indexing them in H3.")
    lonlat, ok = _located(points, "EPSG:4326")
    out = pd.Series(None, index=points.index, name="h3", dtype=object)
    out[ok] = [h3.latlng_to_cell(lat, lon, res) for lon, lat in lonlat.tolist()]
    return out


def hex_polygons(cells: Iterable[str]) -> gpd.GeoSeries:
    """Hexagon polygons (EPSG:4326) indexed by cell id."""
    cells = list(cells)
    rings = [h3.cell_to_boundary(c) for c in cells]
    if rings and all(len(r) == 6 for r in rings):
        # one vectorised call instead of a Polygon per cell (pentagons, 12 on Earth, take the slow path)
        coords = np.asarray(rings, dtype=float)[:, :, ::-1]
        geoms = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
    else:
        geoms = [Polygon([(lon, lat) for lat, lon in r]) for r in rings]
    return gpd.GeoSeries(geoms, index=pd.Index(cells, name="h3"), crs=4326)


def _cells_of(points: gpd.GeoDataFrame, resolution: int, point_cells: pd.Series | None) -> pd.Series:
    """The points' cells, reusing ``point_cells`` (from :func:`hex_cells`) when it matches."""
    if point_cells is None:
        return hex_cells(points, resolution)
    if not point_cells.index.equals(points.index):
        raise DataError("point_cells is not aligned with the points; compute it with hex_cells(points, resolution).")
    sample = point_cells.dropna()
    if len(sample) and h3.get_resolution(sample.iloc[0]) != resolution:
        raise DataError(f"point_cells are at resolution {h3.get_resolution(sample.iloc[0])}, expected {resolution}.")
    return point_cells


def cells_polygon(cells: Iterable[str]):
    """Union of cells as one shapely (Multi)Polygon in EPSG:4326 (empty Polygon for no cells)."""
    cells = list(cells)
    if not cells:
        return Polygon()
    shape = h3.cells_to_h3shape(cells)
    return shapely.geometry.shape(shape.__geo_interface__)


def footprint_cells(
    points: gpd.GeoDataFrame,
    resolution: int,
    *,
    min_points: int = 1,
    fill_holes: bool = True,
    point_cells: pd.Series | None = None,
) -> list[str]:
    """The cells that hold at least ``min_points`` points, with enclosed gaps filled.

    Built from *all* establishments, this is a proxy for the urbanised area: the study area over
    which hot spots are tested and city densities are measured, so that empty countryside does not
    make every urban hexagon look "hot". ``point_cells`` (:func:`hex_cells` of the same points)
    saves indexing a large layer twice.
    """
    if min_points < 1:
        raise ConfigError(f"min_points was {min_points} but is expected to be at least 1.")
    counts = _cells_of(points, resolution, point_cells).value_counts()
    cells = sorted(counts.index[counts >= min_points])
    if not fill_holes or not cells:
        return cells
    shape = h3.cells_to_h3shape(cells)
    polys = list(shape) if isinstance(shape, h3.LatLngMultiPoly) else [shape]
    filled: set[str] = set(cells)
    for p in polys:
        if p.holes:
            filled.update(h3.h3shape_to_cells(h3.LatLngPoly(p.outer), _check_resolution(resolution)))
    return sorted(filled)


def hex_counts(
    points: gpd.GeoDataFrame,
    resolution: int,
    *,
    by: str | None = None,
    cells: Iterable[str] | None = None,
    point_cells: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Points per H3 hexagon, optionally split by a column.

    Parameters
    ----------
    points
        Point layer with a CRS.
    resolution
        H3 resolution (8 ≈ 0.74 km² per hexagon, 9 ≈ 0.11 km²).
    by
        Optional column (e.g. ``"clase"`` or ``"sector"``): one count column per value.
    cells
        Complete set of cells to report, zeros included (e.g. :func:`footprint_cells`). Points in
        other cells are dropped. Default: only the cells that hold points.
    point_cells
        The points' cells when already computed (:func:`hex_cells`), to index a large layer once.

    Returns
    -------
    GeoDataFrame
        Indexed by cell id (``h3``), with ``n`` (points in the hexagon), one column per value of
        ``by``, ``area_km2`` and the hexagon polygon (EPSG:4326).
    """
    if by is not None and by not in points.columns:
        raise DataError(f'by column "{by}" is not in the layer; columns are {", ".join(map(str, points.columns))}.')
    cell = _cells_of(points, resolution, point_cells)
    keep = cell.notna()
    if by is None:
        table = cell[keep].value_counts().rename("n").to_frame()
    else:
        pairs = pd.DataFrame({"h3": cell[keep].to_numpy(), "v": points.loc[keep, by].fillna("").astype(str).to_numpy()})
        table = pairs.value_counts().unstack("v", fill_value=0)
        table.columns = [str(c) for c in table.columns]
        table.columns.name = None
        table.insert(0, "n", table.sum(axis=1))
    table.index.name = "h3"
    if cells is not None:
        idx = pd.Index(list(dict.fromkeys(cells)), name="h3")
        table = table.reindex(idx, fill_value=0)
    else:
        table = table.sort_index()
    table = table.astype("int64")
    table["area_km2"] = [h3.cell_area(c, unit="km^2") for c in table.index]
    return gpd.GeoDataFrame(table, geometry=hex_polygons(table.index).values, crs=4326)
