"""Density, clusters and hot spots at 1×, 10× and 100× León's health units.

Replicas of León's 3,132 health units (621–623) with a small Gaussian jitter (25 m) stand in for
bigger cities at the same footprint, so density grows with the multiplier. Each step reports
time, peak Python-tracked memory, the ratio to its 1× run and the fitted growth exponent.

Steps whose cost grows with *neighbours per point* (DBSCAN at a fixed eps, HDBSCAN) stop at 10×:
at 100× every unit has ~100× more neighbours within eps, so their memory grows as n² and a
single run would take the shared machine for many minutes. Gi* depends on the number of hexagons,
not of points, so it is measured against H3 resolution instead.

Run: ``python -m benchmarks density``.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np

from atlas.build import load_atlas
from atlas.clusters import cluster_polygons, dbscan_labels, getis_ord_hotspots, hdbscan_labels
from atlas.density import kde_contours, kde_grid, points_xy
from atlas.hexagons import footprint_cells, hex_cells, hex_counts
from atlas.layers import ALL_LAYER
from atlas.quotients import hex_lq, is_health
from atlas.settings import load_region

from ._harness import Measure, measure, report

log = logging.getLogger(__name__)

JITTER_M = 25.0


def _replicas(points: gpd.GeoDataFrame, k: int, crs: str, seed: int = 0) -> gpd.GeoDataFrame:
    """``k`` copies of the points, each moved by N(0, 25 m) in metres; EPSG:4326 like the layers."""
    xy = points_xy(points, crs)
    rng = np.random.default_rng(seed)
    rep = np.tile(xy, (k, 1))
    if k > 1:
        rep[len(xy):] += rng.normal(0, JITTER_M, (len(xy) * (k - 1), 2))
    cols = {c: np.tile(points[c].to_numpy(), k) for c in ("clase", "nombre_act", "nom_estab") if c in points.columns}
    out = gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(rep[:, 0], rep[:, 1]), crs=crs)
    return out.to_crs(4326)


def _scaled(label: str, sizes, make, fn, base: int) -> list[Measure]:
    rows = []
    for k in sizes:
        data = make(k)
        rows.append(measure(f"{label} {k}×", base * k, lambda d=data: fn(d)))
        log.info("%s %d×: %.2f s", label, k, rows[-1].seconds)
    return rows


def main() -> str:
    t0 = time.perf_counter()
    region = load_region("leon")
    p = region.density
    crs = region.crs_metric
    atlas = load_atlas(region)
    est = atlas.layers[ALL_LAYER]
    units = est[is_health(est["clase"], p.health_prefixes)].reset_index(drop=True)
    hosp = atlas.layers["hospitales"]
    n = len(units)
    reps = {k: _replicas(units, k, crs) for k in (1, 3, 10, 100)}
    parts = [
        f"# Density benchmark — León, {n:,} health units (621–623), replicas jittered by {JITTER_M:g} m\n"
        "Sizes are points (units × multiplier); ratio is against the 1× run in the same process."
    ]

    # the target: 100,000 points on a 500 × 500 grid
    xy = points_xy(units, crs)
    cx, cy = xy.mean(axis=0)
    bounds = (cx - 25_000, cy - 25_000, cx + 25_000, cy + 25_000)  # 50 km at 100 m = 500 × 500 cells
    pts100k = _replicas(units, 32, crs).iloc[:100_000]
    spec = measure("KDE 100,000 points, 500×500 grid", 100_000,
                   lambda: kde_grid(pts100k, crs=crs, bandwidth_m=p.bandwidth_m, cell_m=100.0, bounds=bounds), repeat=3)
    grid = kde_grid(pts100k, crs=crs, bandwidth_m=p.bandwidth_m, cell_m=100.0, bounds=bounds)
    parts.append(f"KDE target: {spec.seconds:.3f} s for 100,000 points on a {grid.shape[1]} × {grid.shape[0]} grid "
                 f"(best of 3; peak {spec.peak_mb:.0f} MB; integral {grid.total():,.0f} points).")

    kde = _scaled("KDE 500 m / 100 m cell", (1, 10, 100), reps.get,
                  lambda d: kde_grid(d, crs=crs, bandwidth_m=p.bandwidth_m, cell_m=p.cell_m), n)
    parts.append(report("Kernel density (binned + FFT)", kde))
    g1 = kde_grid(reps[1], crs=crs, bandwidth_m=p.bandwidth_m, cell_m=p.cell_m)
    cont = [measure(f"contours, cell {c:g} m", 1, lambda c=c: kde_contours(kde_grid(reps[1], crs=crs, bandwidth_m=p.bandwidth_m, cell_m=c)))
            for c in (100.0, 50.0, 25.0)]
    for r, c in zip(cont, (100.0, 50.0, 25.0)):
        gg = kde_grid(reps[1], crs=crs, bandwidth_m=p.bandwidth_m, cell_m=c)
        r.size = gg.values.size
    parts.append(report(f"KDE + contours against grid cells (1×; the 100 m grid is {g1.shape[1]} × {g1.shape[0]})", cont))

    res = p.h3_resolution
    est_cells = hex_cells(est, res)
    cells = footprint_cells(est, res, min_points=p.footprint_min_establishments, point_cells=est_cells)
    parts.append(report(f"H3 counts, resolution {res}",
                        _scaled("hex counts", (1, 10, 100), reps.get, lambda d: hex_counts(d, res, cells=cells), n)))

    est_reps = {k: _replicas(est, k, crs, seed=1) for k in (1, 3, 10)}
    lq = _scaled("hex LQ", (1, 3, 10), est_reps.get,
                 lambda d: hex_lq(d, res, min_establishments=p.lq_min_establishments, prefixes=p.health_prefixes), len(est))
    parts.append(report(f"Intra-urban LQ per hexagon (all {len(est):,} establishments × k; H3 indexing dominates)", lq))

    db = _scaled("DBSCAN eps 250 m", (1, 3, 10), reps.get,
                 lambda d: dbscan_labels(d, crs=crs, eps_m=p.dbscan_eps_m, min_points=p.dbscan_min_points), n)
    parts.append(report("DBSCAN (fixed eps: neighbours per point grow with k; 100× not run)", db))
    hd = _scaled("HDBSCAN min size 25", (1, 3, 10), reps.get,
                 lambda d: hdbscan_labels(d, crs=crs, min_cluster_size=p.hdbscan_min_cluster_size), n)
    parts.append(report("HDBSCAN (100× not run)", hd))

    def _polys(d):
        lab = dbscan_labels(d, crs=crs, eps_m=p.dbscan_eps_m, min_points=p.dbscan_min_points)
        return cluster_polygons(d, lab, crs=crs, hospitals=hosp, ratio=p.concave_ratio, buffer_m=p.cluster_buffer_m)

    parts.append(report("DBSCAN + concave-hull polygons", _scaled("cluster polygons", (1, 3, 10), reps.get, _polys, n)))

    gi_rows = []
    for r in (8, 9, 10):
        ec = hex_cells(est, r)
        fc = footprint_cells(est, r, min_points=p.footprint_min_establishments, point_cells=ec)
        hx = hex_counts(reps[1], r, cells=fc)
        gi_rows.append(measure(f"Gi* 999 perm., res {r} ({len(fc):,} hex)", len(fc),
                               lambda hx=hx: getis_ord_hotspots(hx, permutations=p.hotspot_permutations)))
    parts.append(report("Getis-Ord Gi* against the number of hexagons (footprint, zeros included)", gi_rows))
    hx8 = {k: hex_counts(reps[k], res, cells=cells) for k in (1, 10, 100)}
    gi_pts = [measure(f"Gi* res {res}, {k}× points", n * k, lambda k=k: getis_ord_hotspots(hx8[k], permutations=p.hotspot_permutations))
              for k in (1, 10, 100)]
    parts.append(report("Gi* against points (same hexagons: flat)", gi_pts))
    parts.append(f"Total benchmark time {time.perf_counter() - t0:.0f} s.")
    return "\n\n".join(parts)
