"""Density of establishments: kernel density, H3 hexagon counts, rates per inhabitant and location
quotients.

Every function takes frames plus explicit parameters and returns a new object; inputs are never
mutated, so the app can cache results keyed on small arguments. Distances are metres in the
region's metric CRS (EPSG:6372 for Mexico); densities are units per km², which do not change with
the map's zoom (unlike the pixel-radius blur of a Leaflet heat map).

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
from typing import Iterable

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from contourpy import FillType, contour_generator
from scipy.signal import fftconvolve
from shapely.geometry import MultiPolygon, Polygon

from ._errors import ConfigError, DataError

__all__ = [
    "BANDWIDTH_RULES",
    "HEALTH_PREFIXES",
    "DensityGrid",
    "select_bandwidth",
    "kde_grid",
    "nice_levels",
    "kde_contours",
    "hex_cells",
    "hex_polygons",
    "footprint_cells",
    "cells_polygon",
    "hex_counts",
    "rates_per_100k",
    "location_quotient",
    "national_lq",
    "class_lq",
    "hex_lq",
    "is_health",
]

log = logging.getLogger(__name__)

#: SCIAN prefixes of health care proper (621 ambulatory, 622 hospitals, 623 residential care);
#: 624 (social assistance) completes sector 62
HEALTH_PREFIXES: tuple[str, ...] = ("621", "622", "623")

#: bandwidth rules accepted by :func:`select_bandwidth`
BANDWIDTH_RULES = ("scott", "silverman")

#: a Gaussian kernel is cut at this many bandwidths (mass beyond 4 sigma is 0.03 %)
_KERNEL_SIGMAS = 4.0


# --------------------------------------------------------------------------------------------
# Kernel density
# --------------------------------------------------------------------------------------------


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


def _xy(points: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Metric coordinates of point geometries as an (n, 2) array; refuses frames without a CRS."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise DataError(f"Expected a GeoDataFrame of points, got {type(points).__name__}.")
    if points.crs is None:
        raise DataError("The points have no CRS; set it (EPSG:4326 for DENUE) before measuring density.")
    geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    geom = geom[~(geom.isna() | geom.is_empty)]
    if len(geom) and not (geom.geom_type == "Point").all():
        bad = sorted(set(geom.geom_type) - {"Point"})
        raise DataError(f"Expected point geometries, got {', '.join(bad)}.")
    geom = geom.to_crs(crs)
    return np.column_stack([geom.x.to_numpy(float), geom.y.to_numpy(float)]) if len(geom) else np.empty((0, 2))


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
    xy = _xy(points, crs)
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
    ok = ~(points.geometry.isna() | points.geometry.is_empty)
    xy = _xy(points, crs)
    w = np.ones(len(xy)) if weights is None else pd.to_numeric(points.loc[ok, weights], errors="coerce").fillna(0).to_numpy(float)
    pad = _KERNEL_SIGMAS * bw
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
    kernel = _gaussian_kernel(bw, cell)
    r = kernel.shape[0] // 2
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


# --------------------------------------------------------------------------------------------
# H3 hexagons
# --------------------------------------------------------------------------------------------


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer) or not 0 <= resolution <= 15:
        raise ConfigError(f"H3 resolution was {resolution!r} but is expected to be an integer from 0 to 15.")
    return int(resolution)


def hex_cells(points: gpd.GeoDataFrame, resolution: int) -> pd.Series:
    """H3 cell (v4 string id) of every point, on the same index; name ``"h3"``.

    Points without geometry get ``None``.
    """
    res = _check_resolution(resolution)
    if points.crs is None:
        raise DataError("The points have no CRS; set it (EPSG:4326 for DENUE) before indexing them in H3.")
    geom = points.geometry.to_crs(4326)
    ok = ~(geom.isna() | geom.is_empty)
    out = pd.Series(None, index=points.index, name="h3", dtype=object)
    lat, lon = geom[ok].y.to_numpy(), geom[ok].x.to_numpy()
    out[ok] = [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon)]
    return out


def hex_polygons(cells: Iterable[str]) -> gpd.GeoSeries:
    """Hexagon polygons (EPSG:4326) indexed by cell id."""
    cells = list(cells)
    geoms = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoSeries(geoms, index=pd.Index(cells, name="h3"), crs=4326)


def cells_polygon(cells: Iterable[str]):
    """Union of cells as one shapely (Multi)Polygon in EPSG:4326 (empty Polygon for no cells)."""
    cells = list(cells)
    if not cells:
        return Polygon()
    shape = h3.cells_to_h3shape(cells)
    return shapely.geometry.shape(shape.__geo_interface__)


def footprint_cells(points: gpd.GeoDataFrame, resolution: int, *, min_points: int = 1, fill_holes: bool = True) -> list[str]:
    """The cells that hold at least ``min_points`` points, with enclosed gaps filled.

    Built from *all* establishments, this is a proxy for the urbanised area: the study area over
    which hot spots are tested and city densities are measured, so that empty countryside does not
    make every urban hexagon look "hot".
    """
    if min_points < 1:
        raise ConfigError(f"min_points was {min_points} but is expected to be at least 1.")
    counts = hex_cells(points, resolution).value_counts()
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

    Returns
    -------
    GeoDataFrame
        Indexed by cell id (``h3``), with ``n`` (points in the hexagon), one column per value of
        ``by``, ``area_km2`` and the hexagon polygon (EPSG:4326).
    """
    if by is not None and by not in points.columns:
        raise DataError(f'by column "{by}" is not in the layer; columns are {", ".join(map(str, points.columns))}.')
    cell = hex_cells(points, resolution)
    keep = cell.notna()
    if by is None:
        table = cell[keep].value_counts().rename("n").to_frame()
    else:
        table = pd.crosstab(cell[keep], points.loc[keep, by].astype(str).fillna(""))
        table.columns = [str(c) for c in table.columns]
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


# --------------------------------------------------------------------------------------------
# Rates and location quotients
# --------------------------------------------------------------------------------------------


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
    counts = hex_counts(tagged, resolution, by="_g", cells=cells)
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
