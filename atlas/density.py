"""Kernel density of establishments in units per km², binned and convolved by FFT, and its contours.

Distances are metres in the region's metric CRS (EPSG:6372 for Mexico); densities are units per
km², which do not change with the map's zoom (unlike the pixel-radius blur of a Leaflet heat map).
Functions take frames plus explicit parameters and return new objects; inputs are never mutated,
so the app can cache results keyed on small arguments. H3 counts live in :mod:`atlas.hexagons`,
rates and location quotients in :mod:`atlas.quotients`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> pts = gpd.GeoDataFrame(geometry=[Point(-101.68, 21.12)] * 10, crs=4326)
>>> grid = kde_grid(pts, crs="EPSG:6372", bandwidth_m=200.0, cell_m=50.0)
>>> round(grid.total(), 3)   # the surface integrates to the number of points
10.0
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from contourpy import FillType, contour_generator
from pyproj import Transformer
from scipy.signal import fftconvolve
from shapely.geometry import MultiPolygon, Polygon

from ._errors import ConfigError, DataError

__all__ = [
    "BANDWIDTH_RULES",
    "DensityGrid",
    "points_xy",
    "select_bandwidth",
    "kde_grid",
    "nice_levels",
    "kde_contours",
]

log = logging.getLogger(__name__)

#: bandwidth rules accepted by :func:`select_bandwidth`
BANDWIDTH_RULES = ("scott", "silverman")

#: a Gaussian kernel is cut at this many bandwidths (mass beyond 4 sigma is 0.03 %)
_KERNEL_SIGMAS = 4.0


@dataclass(frozen=True)
class DensityGrid:
    """A kernel density surface on a regular grid in a metric CRS.

    ``values[i, j]`` is the density in units per km² at the centre of the cell in row ``i`` (south
    to north) and column ``j`` (west to east): ``x = x0 + j * cell_m``, ``y = y0 + i * cell_m``.
    """

    values: np.ndarray
    x0: float
    y0: float
    cell_m: float
    crs: str
    bandwidth_m: float
    #: "fijo" when the bandwidth was given in metres, else the rule's name
    bandwidth_rule: str
    n_points: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates (metres)."""
        return self.x0 + self.cell_m * np.arange(self.values.shape[1])

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates (metres)."""
        return self.y0 + self.cell_m * np.arange(self.values.shape[0])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Outer edges of the grid (xmin, ymin, xmax, ymax) in metres."""
        h = self.cell_m / 2
        ny, nx = self.values.shape
        return (self.x0 - h, self.y0 - h, self.x0 + (nx - 1) * self.cell_m + h, self.y0 + (ny - 1) * self.cell_m + h)

    def total(self) -> float:
        """Integral of the surface: the (weighted) number of points it holds."""
        return float(self.values.sum() * (self.cell_m / 1000.0) ** 2)

    def max(self) -> float:
        """Highest density, units per km²."""
        return float(self.values.max()) if self.values.size else 0.0


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _located(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """(metric xy of the located points, boolean mask of which rows have a geometry)."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise DataError(f"Expected a GeoDataFrame of points, got {type(points).__name__}.")
    if points.crs is None:
        raise DataError("The points have no CRS; set it (EPSG:4326 for DENUE) before measuring density.")
    geoms = np.asarray(points.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    located = geoms[ok]
    types = shapely.get_type_id(located)
    if (types != shapely.GeometryType.POINT).any():
        bad = sorted({shapely.GeometryType(t).name.title() for t in types if t != shapely.GeometryType.POINT})
        raise DataError(f"Expected point geometries, got {', '.join(bad)}.")
    xy = shapely.get_coordinates(located)
    if len(xy) and points.crs != crs:
        # pyproj on the coordinate arrays: GeoSeries.to_crs would rebuild every geometry first
        x, y = _transformer(points.crs.to_wkt(), str(crs)).transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([x, y])
    return xy.reshape(-1, 2), ok


def points_xy(points: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Metric coordinates of the located point geometries as an (n, 2) array.

    Rows without geometry are skipped; frames without a CRS and non-point geometries are refused.
    """
    return _located(points, crs)[0]


def _spread(xy: np.ndarray, robust: bool) -> float:
    """Isotropic standard deviation of 2-D points: sqrt of the mean of the two variances."""
    sd = np.sqrt(xy.var(axis=0, ddof=1))
    if robust:
        iqr = np.subtract(*np.percentile(xy, [75, 25], axis=0)) / 1.349
        sd = np.where(iqr > 0, np.minimum(sd, iqr), sd)
    return float(np.sqrt(np.mean(sd**2)))


def select_bandwidth(points: gpd.GeoDataFrame, rule: str, crs: str) -> float:
    """Normal-reference bandwidth in metres for a 2-D Gaussian kernel.

    In two dimensions Scott's rule ``n^(-1/6) * sigma`` and Silverman's ``(4/(d+2))^(1/(d+4)) *
    n^(-1/(d+4)) * sigma`` coincide; ``"silverman"`` here uses Silverman's robust spread
    ``min(sd, IQR/1.349)`` per axis, which is smaller for a city whose points cluster in a core.
    Both assume one roughly normal blob, so they oversmooth a multi-centred city: treat them as a
    starting point, not an answer.

    Parameters
    ----------
    points
        Point layer with a CRS.
    rule
        ``"scott"`` or ``"silverman"``.
    crs
        Metric CRS in which the spread is measured.
    """
    if rule not in BANDWIDTH_RULES:
        raise ConfigError(f'bandwidth rule was "{rule}" but is expected to be one of {", ".join(BANDWIDTH_RULES)}.')
    xy = points_xy(points, crs)
    if len(xy) < 2:
        raise DataError(f"A bandwidth rule needs at least 2 points, got {len(xy)}.")
    sigma = _spread(xy, robust=rule == "silverman")
    if sigma <= 0:
        raise DataError("All points share one location; a bandwidth rule cannot be applied (give it in metres).")
    return sigma * len(xy) ** (-1.0 / 6.0)


def _linear_bin(xy: np.ndarray, w: np.ndarray, x0: float, y0: float, cell: float, shape: tuple[int, int]) -> np.ndarray:
    """Spread each point's weight over the four nearest cell centres (linear binning).

    Linear binning keeps the first moment of the data, so the binned KDE differs from the exact one
    by O(cell²) rather than O(cell) (Wand 1994).
    """
    ny, nx = shape
    gx = (xy[:, 0] - x0) / cell
    gy = (xy[:, 1] - y0) / cell
    ix = np.floor(gx).astype(np.int64)
    iy = np.floor(gy).astype(np.int64)
    fx = gx - ix
    fy = gy - iy
    out = np.zeros(ny * nx)
    for dx, dy, frac in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        cx, cy = ix + dx, iy + dy
        ok = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
        out += np.bincount(cy[ok] * nx + cx[ok], weights=(w * frac)[ok], minlength=ny * nx)
    return out.reshape(ny, nx)


def _gaussian_kernel(bandwidth_m: float, cell_m: float) -> np.ndarray:
    """A Gaussian kernel sampled at cell offsets up to 4 bandwidths, normalised to sum 1."""
    r = max(1, int(math.ceil(_KERNEL_SIGMAS * bandwidth_m / cell_m)))
    d = np.arange(-r, r + 1) * cell_m
    g = np.exp(-0.5 * (d / bandwidth_m) ** 2)
    k = np.outer(g, g)
    return k / k.sum()


def kde_grid(
    points: gpd.GeoDataFrame,
    *,
    crs: str,
    bandwidth_m: float | str,
    cell_m: float,
    weights: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    max_cells: int = 16_000_000,
) -> DensityGrid:
    """Gaussian kernel density of points in units per km², binned and convolved by FFT.

    The points are linearly binned on a grid of ``cell_m`` metres and convolved with a Gaussian
    kernel of standard deviation ``bandwidth_m`` (cut at 4 sigma) with
    :func:`scipy.signal.fftconvolve`: cost O(cells log cells + points), not O(points × cells).
    The kernel is normalised on the grid, so the surface integrates to the number of points (or the
    sum of ``weights``) up to what lies outside ``bounds``.

    Parameters
    ----------
    points
        Point layer with a CRS (any; it is projected to ``crs``).
    crs
        Metric CRS, e.g. ``region.crs_metric``.
    bandwidth_m
        Kernel standard deviation in metres, or a rule name (see :func:`select_bandwidth`).
    cell_m
        Grid cell size in metres.
    weights
        Optional numeric column used as point weights (e.g. employment).
    bounds
        (xmin, ymin, xmax, ymax) in ``crs`` metres. Default: the points' extent plus 4 bandwidths.
    max_cells
        Refuse grids larger than this (a guard against a 1 m cell over a whole state).

    Returns
    -------
    DensityGrid
    """
    if isinstance(bandwidth_m, str):
        rule = bandwidth_m
        bw = select_bandwidth(points, rule, crs)
    else:
        rule = "fijo"
        bw = float(bandwidth_m)
    if not (math.isfinite(bw) and bw > 0):
        raise ConfigError(f"bandwidth_m was {bandwidth_m!r} but is expected to be a positive number of metres or one of {', '.join(BANDWIDTH_RULES)}.")
    if not (isinstance(cell_m, int | float) and math.isfinite(cell_m) and cell_m > 0):
        raise ConfigError(f"cell_m was {cell_m!r} but is expected to be a positive number of metres.")
    cell = float(cell_m)
    if weights is not None and weights not in points.columns:
        raise DataError(f'weights column "{weights}" is not in the layer; columns are {", ".join(map(str, points.columns))}.')
    xy, ok = _located(points, crs)
    w = np.ones(len(xy)) if weights is None else pd.to_numeric(points.loc[ok, weights], errors="coerce").fillna(0).to_numpy(float)
    kernel = _gaussian_kernel(bw, cell)
    r = kernel.shape[0] // 2
    # the kernel reaches r cells (≥ 4 sigma) from a cell, and linear binning moves mass up to one
    # cell from the point: with this margin the automatic grid holds the whole surface
    pad = (r + 1) * cell
    if bounds is None:
        if len(xy) == 0:
            raise DataError("The layer has no points; give bounds to draw an empty density surface.")
        xmin, ymin = xy.min(axis=0) - pad
        xmax, ymax = xy.max(axis=0) + pad
    else:
        xmin, ymin, xmax, ymax = map(float, bounds)
        if not (xmax > xmin and ymax > ymin):
            raise ConfigError(f"bounds were {bounds!r} but are expected to be (xmin, ymin, xmax, ymax) with xmax > xmin and ymax > ymin.")
    nx = max(1, int(math.ceil((xmax - xmin) / cell)))
    ny = max(1, int(math.ceil((ymax - ymin) / cell)))
    if nx * ny > max_cells:
        raise ConfigError(
            f"A {cell:g} m cell over {(xmax - xmin) / 1000:.1f} × {(ymax - ymin) / 1000:.1f} km gives {nx} × {ny} cells; "
            f"expected at most {max_cells:,} (use a larger cell_m)."
        )
    x0, y0 = xmin + cell / 2, ymin + cell / 2
    # Bin on a grid extended by the kernel radius so points just outside bounds still contribute.
    binned = _linear_bin(xy, w, x0 - r * cell, y0 - r * cell, cell, (ny + 2 * r, nx + 2 * r))
    dens = fftconvolve(binned, kernel, mode="same")[r : r + ny, r : r + nx]
    # FFT round-off leaves values of order 1e-17 where there is nothing; they are zeros.
    dens[dens < 1e-12 * max(1.0, w.sum())] = 0.0
    values = dens / (cell * cell) * 1e6
    return DensityGrid(values, x0, y0, cell, crs, bw, rule, len(xy))


def nice_levels(vmax: float, n: int = 6) -> list[float]:
    """Up to ``n`` round contour levels (1, 2, 5 × 10^k) spread on a log scale below ``vmax``.

    >>> nice_levels(730.0, 5)
    [20.0, 50.0, 100.0, 200.0, 500.0]
    """
    if not (vmax > 0 and math.isfinite(vmax)):
        return []
    if n < 1:
        raise ConfigError(f"n was {n} but is expected to be at least 1.")
    candidates = sorted({m * 10.0**e for e in range(-4, 9) for m in (1, 2, 5)})
    below = [c for c in candidates if c < vmax]
    # the top n round numbers below the maximum: a city's density spans two or three decades,
    # and the low tail (a few units per km² around isolated clinics) is what a map should drop
    return below[-n:]


def _ring_coords(points: np.ndarray, closed: bool = True) -> np.ndarray:
    return points if (not closed or len(points) == 0 or np.array_equal(points[0], points[-1])) else np.vstack([points, points[:1]])


def kde_contours(grid: DensityGrid, levels: Iterable[float] | None = None, *, n_levels: int = 6) -> gpd.GeoDataFrame:
    """Filled contour bands of a density surface as labelled polygons in EPSG:4326.

    Parameters
    ----------
    grid
        A :class:`DensityGrid`.
    levels
        Lower bounds of the bands in units per km², increasing; default :func:`nice_levels`.
    n_levels
        Number of automatic levels.

    Returns
    -------
    GeoDataFrame
        One row per non-empty band: ``desde`` and ``hasta`` (units per km²; ``hasta`` is infinite
        for the top band), ``etiqueta`` (Spanish label) and a (Multi)Polygon geometry.
    """
    lv = nice_levels(grid.max(), n_levels) if levels is None else [float(v) for v in levels]
    if any(b <= a for a, b in zip(lv, lv[1:])) or any(v <= 0 for v in lv):
        raise ConfigError(f"levels were {lv} but are expected to be positive and strictly increasing.")
    rows = []
    if lv and grid.values.shape[0] >= 2 and grid.values.shape[1] >= 2:
        gen = contour_generator(grid.x, grid.y, grid.values, fill_type=FillType.OuterOffset)
        top = max(float(grid.values.max()), lv[-1]) * 1.001 + 1e-12
        for i, lo in enumerate(lv):
            hi = lv[i + 1] if i + 1 < len(lv) else top
            pts_list, offsets_list = gen.filled(lo, hi)
            polys = []
            for pts, offs in zip(pts_list, offsets_list):
                rings = [_ring_coords(pts[a:b]) for a, b in zip(offs[:-1], offs[1:])]
                rings = [r for r in rings if len(r) >= 4]
                if rings:
                    polys.append(Polygon(rings[0], rings[1:]))
            if not polys:
                continue
            geom = shapely.make_valid(MultiPolygon(polys) if len(polys) > 1 else polys[0])
            is_top = i + 1 == len(lv)
            rows.append(
                {
                    "desde": lo,
                    "hasta": math.inf if is_top else hi,
                    "etiqueta": f"≥ {lo:g} por km²" if is_top else f"{lo:g}–{hi:g} por km²",
                    "geometry": geom,
                }
            )
    gdf = gpd.GeoDataFrame(rows, columns=["desde", "hasta", "etiqueta", "geometry"], geometry="geometry", crs=grid.crs)
    return gdf.to_crs(4326)
