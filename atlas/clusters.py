"""Where health units cluster: DBSCAN/HDBSCAN density clusters, Getis-Ord Gi* hot spots on H3
hexagons, and the concentration of units in a zone such as the Ciudad Histórica.

Functions take frames plus explicit parameters and return new frames; inputs are never mutated.
Distances are metres in the region's metric CRS.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Iterable

import esda
import geopandas as gpd
import h3
import libpysal
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import DBSCAN, HDBSCAN

from ._errors import ConfigError, DataError
from .density import _located, points_xy
from .geo import area_km2
from .quotients import HEALTH_PREFIXES, is_health, location_quotient

__all__ = [
    "CONFIDENCE_LEVELS",
    "HOTSPOT_CLASSES",
    "dbscan_labels",
    "hdbscan_labels",
    "cluster_polygons",
    "cluster_classes",
    "hex_weights",
    "benjamini_hochberg",
    "getis_ord_hotspots",
    "zone_concentration",
]

log = logging.getLogger(__name__)

#: confidence levels of the hot-spot classes (two-sided), as in ArcGIS's Hot Spot Analysis
CONFIDENCE_LEVELS = (90, 95, 99)

#: every hot-spot class, hottest first (the map legend's order)
HOTSPOT_CLASSES = (
    "caliente 99%",
    "caliente 95%",
    "caliente 90%",
    "no significativo",
    "frío 90%",
    "frío 95%",
    "frío 99%",
)


# --------------------------------------------------------------------------------------------
# Density clusters
# --------------------------------------------------------------------------------------------


def _relabel_by_size(raw: np.ndarray, index: pd.Index) -> pd.Series:
    """Renumber clusters 1, 2, … from the largest; noise stays -1."""
    labels = pd.Series(raw, index=index)
    sizes = labels[labels >= 0].value_counts()
    # ties broken by the original label so the numbering is deterministic
    order = sorted(sizes.index, key=lambda k: (-sizes[k], k))
    mapping = {old: new for new, old in enumerate(order, start=1)}
    mapping[-1] = -1
    return labels.map(mapping).astype("int64").rename("cluster")


def dbscan_labels(points: gpd.GeoDataFrame, *, crs: str, eps_m: float, min_points: int) -> pd.Series:
    """DBSCAN clusters of points, ``eps_m`` metres apart at most, ``min_points`` to form a core.

    Parameters
    ----------
    points
        Point layer with a CRS.
    crs
        Metric CRS in which distances are measured.
    eps_m
        Neighbourhood radius in metres.
    min_points
        Points (the point itself included) within ``eps_m`` for a point to be a core point.

    Returns
    -------
    Series
        ``cluster`` on the points' index: 1 is the largest cluster, 2 the next…; -1 is noise.
    """
    if not (isinstance(eps_m, int | float) and math.isfinite(eps_m) and eps_m > 0):
        raise ConfigError(f"eps_m was {eps_m!r} but is expected to be a positive number of metres.")
    if isinstance(min_points, bool) or not isinstance(min_points, int | np.integer) or min_points < 1:
        raise ConfigError(f"min_points was {min_points!r} but is expected to be an integer ≥ 1.")
    xy = points_xy(points, crs)
    if len(xy) != len(points):
        raise DataError(f"{len(points) - len(xy)} points have no geometry; drop them before clustering.")
    if len(xy) == 0:
        return pd.Series([], index=points.index, name="cluster", dtype="int64")
    raw = DBSCAN(eps=float(eps_m), min_samples=int(min_points)).fit(xy).labels_
    return _relabel_by_size(raw, points.index)


def hdbscan_labels(
    points: gpd.GeoDataFrame, *, crs: str, min_cluster_size: int, min_samples: int | None = None
) -> pd.Series:
    """HDBSCAN clusters of points: density clusters of varying density, no radius to choose.

    Many DENUE units share one coordinate (a medical tower holds dozens of consultorios), which
    HDBSCAN handles as a very dense spot; ``min_samples`` (default ``min_cluster_size``) smooths it.

    Returns
    -------
    Series
        ``cluster`` on the points' index, numbered from the largest; -1 is noise.
    """
    if isinstance(min_cluster_size, bool) or not isinstance(min_cluster_size, int | np.integer) or min_cluster_size < 2:
        raise ConfigError(f"min_cluster_size was {min_cluster_size!r} but is expected to be an integer ≥ 2.")
    if min_samples is not None and (not isinstance(min_samples, int | np.integer) or min_samples < 1):
        raise ConfigError(f"min_samples was {min_samples!r} but is expected to be None or an integer ≥ 1.")
    xy = points_xy(points, crs)
    if len(xy) != len(points):
        raise DataError(f"{len(points) - len(xy)} points have no geometry; drop them before clustering.")
    if len(xy) < min_cluster_size:
        return pd.Series(-1, index=points.index, name="cluster", dtype="int64")
    model = HDBSCAN(min_cluster_size=int(min_cluster_size), min_samples=None if min_samples is None else int(min_samples), copy=True)
    return _relabel_by_size(model.fit(xy).labels_, points.index)


def cluster_classes(points: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Units per cluster and SCIAN class: ``cluster, clase, nombre_act, unidades`` (noise left out)."""
    if "clase" not in points.columns:
        raise DataError("The points lack a clase column; expected the atlas point schema.")
    df = pd.DataFrame({"cluster": labels.reindex(points.index), "clase": points["clase"].astype(str)})
    df["nombre_act"] = points["nombre_act"].astype(str) if "nombre_act" in points.columns else ""
    df = df[df["cluster"] >= 0]
    out = df.groupby(["cluster", "clase", "nombre_act"], sort=False).size().rename("unidades").reset_index()
    return out.sort_values(["cluster", "unidades", "clase"], ascending=[True, False, True], ignore_index=True)


def cluster_polygons(
    points: gpd.GeoDataFrame,
    labels: pd.Series,
    *,
    crs: str,
    hospitals: gpd.GeoDataFrame | None = None,
    zone=None,
    ratio: float = 0.3,
    buffer_m: float = 50.0,
    top_classes: int = 5,
) -> gpd.GeoDataFrame:
    """One polygon per cluster (concave hull of its members) with what the cluster holds.

    Parameters
    ----------
    points
        The clustered points (atlas schema: ``clase``, ``nombre_act``).
    labels
        Cluster labels on the points' index (:func:`dbscan_labels`, :func:`hdbscan_labels`).
    crs
        Metric CRS for the hull, buffer and areas.
    hospitals
        Optional hospital layer; hospitals inside each polygon are listed by name.
    zone
        Optional shapely polygon in EPSG:4326 (the Ciudad Histórica); each cluster reports the
        share of its units inside it. Without it, the points' ``en_ciudad_historica`` column is
        used when present.
    ratio
        :func:`shapely.concave_hull` ratio (0 = tightest hull, 1 = convex hull).
    buffer_m
        Metres added around the hull so small or collinear clusters still have an area.
    top_classes
        Classes listed in ``clases``.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, one row per cluster, largest first: ``cluster``, ``unidades``, ``clases`` (the
        top classes with their counts), ``hospitales`` (names, "; "-joined), ``n_hospitales``,
        ``en_ciudad_historica`` (share of units inside the zone, 0–1, NaN if unknown),
        ``area_km2`` and ``geometry``.
    """
    if not 0 <= ratio <= 1:
        raise ConfigError(f"ratio was {ratio!r} but is expected to be between 0 and 1.")
    if buffer_m < 0:
        raise ConfigError(f"buffer_m was {buffer_m!r} but is expected to be ≥ 0 metres.")
    labels = labels.reindex(points.index)
    if points.crs is None:
        raise DataError("The points have no CRS; set it (EPSG:4326 for DENUE) before clustering.")
    xy, located = _located(points, crs)
    lab = labels.to_numpy()[located]
    zone_m = None
    if zone is not None and not zone.is_empty:
        zone_m = gpd.GeoSeries([zone], crs=4326).to_crs(crs).iloc[0]
        shapely.prepare(zone_m)
    hosp_xy, hosp_names = None, None
    if hospitals is not None and len(hospitals):
        if hospitals.crs is None:
            raise DataError("The hospital layer has no CRS.")
        hosp_xy, hosp_ok = _located(hospitals, crs)
        names_col = hospitals["nom_estab"] if "nom_estab" in hospitals.columns else pd.Series("", index=hospitals.index)
        hosp_names = names_col.astype(str).to_numpy()[hosp_ok]
    flags = points["en_ciudad_historica"].astype(bool).to_numpy()[located] if "en_ciudad_historica" in points.columns else None
    classes = cluster_classes(points, labels) if len(points) else pd.DataFrame(columns=["cluster", "clase", "nombre_act", "unidades"])
    rows = []
    # arrays rather than frame slices: one boolean mask per cluster on a (n, 2) array is cheap
    for k in sorted(int(v) for v in np.unique(lab[lab >= 0])):
        mask = lab == k
        pts = xy[mask]
        hull = shapely.concave_hull(shapely.multipoints(pts), ratio=ratio)
        poly = hull.buffer(buffer_m)
        top = classes[classes["cluster"] == k].head(top_classes)
        clases = "; ".join(f"{(r.nombre_act or r.clase)} ({r.unidades})" for r in top.itertuples())
        names: list[str] = []
        if hosp_xy is not None and len(hosp_xy):
            # points on the polygon's edge count as inside (within() would drop them)
            names = sorted(hosp_names[shapely.intersects_xy(poly, hosp_xy[:, 0], hosp_xy[:, 1])])
        if zone_m is not None:
            share = float(shapely.contains_xy(zone_m, pts[:, 0], pts[:, 1]).mean())
        elif flags is not None:
            share = float(flags[mask].mean())
        else:
            share = math.nan
        rows.append(
            {
                "cluster": k,
                "unidades": int(mask.sum()),
                "clases": clases,
                "hospitales": "; ".join(names),
                "n_hospitales": len(names),
                "en_ciudad_historica": share,
                "area_km2": area_km2(poly, crs),
                "geometry": poly,
            }
        )
    cols = ["cluster", "unidades", "clases", "hospitales", "n_hospitales", "en_ciudad_historica", "area_km2", "geometry"]
    gdf = gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=crs)
    return gdf.to_crs(4326)


# --------------------------------------------------------------------------------------------
# Hot spots
# --------------------------------------------------------------------------------------------


def hex_weights(cells: Iterable[str], ring: int = 1) -> libpysal.weights.W:
    """Binary contiguity weights between H3 cells: neighbours are the cells within ``ring`` steps.

    With ``ring=1`` this is queen (= rook) contiguity on the hexagon tessellation: every interior
    hexagon has exactly six neighbours at the same centre distance, so there is none of the
    anisotropy of squares or the uneven neighbour counts of irregular polygons. It is read from the
    H3 index (``grid_disk``) instead of from polygon geometry, which is exact and fast. Cells not in
    ``cells`` are not neighbours: pass a complete grid, zeros included.
    """
    if isinstance(ring, bool) or not isinstance(ring, int | np.integer) or ring < 1:
        raise ConfigError(f"ring was {ring!r} but is expected to be an integer ≥ 1.")
    cells = list(cells)
    pos = {c: i for i, c in enumerate(cells)}
    if len(pos) != len(cells):
        raise DataError("The cells repeat; expected each H3 cell once.")
    neighbours = {i: [pos[n] for n in h3.grid_disk(c, int(ring)) if n != c and n in pos] for c, i in pos.items()}
    return libpysal.weights.W(neighbours, silence_warnings=True, ids=list(range(len(cells))))


def benjamini_hochberg(pvalues, alpha: float) -> np.ndarray:
    """Benjamini–Hochberg false discovery rate: which p-values are significant at ``alpha``.

    Sorts the m p-values, finds the largest k with ``p_(k) ≤ k·alpha/m`` and rejects the k
    smallest. Unlike :func:`esda.fdr` it does not fall back to Bonferroni when nothing passes.

    >>> benjamini_hochberg([0.001, 0.02, 0.04, 0.5], 0.05).tolist()
    [True, True, False, False]
    """
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha was {alpha!r} but is expected to be between 0 and 1.")
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p, kind="stable")
    passed = p[order] <= alpha * np.arange(1, m + 1) / m
    out = np.zeros(m, dtype=bool)
    if passed.any():
        k = int(np.nonzero(passed)[0].max())
        out[order[: k + 1]] = True
    return out


def getis_ord_hotspots(
    hexes: gpd.GeoDataFrame,
    column: str = "n",
    *,
    ring: int = 1,
    permutations: int = 999,
    fdr: bool = True,
    seed: int = 12345,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of a count per H3 hexagon.

    Gi* (``esda.G_Local(star=True)``) compares the sum of a hexagon and its neighbours with what a
    random placement of the same values would give. Weights are binary (:func:`hex_weights`):
    Getis and Ord's statistic is defined for binary weights, and with six equal neighbours there is
    nothing for row standardisation to correct. Significance comes from ``permutations``
    conditional permutations; the pseudo p-value is made two-sided (doubled, as esda recommends),
    then corrected for testing every hexagon at once with the Benjamini–Hochberg false discovery
    rate at each confidence level: a hexagon is "caliente 99%" when it passes the FDR at alpha =
    0.01 and its Gi* is above expectation.

    Parameters
    ----------
    hexes
        One row per H3 cell, indexed by cell id (:func:`atlas.density.hex_counts`), covering the
        whole study area with zeros: missing cells make their neighbours look like edges.
    column
        Count column to test.
    ring
        Neighbourhood in H3 steps (1 = the six adjacent hexagons).
    permutations
        Conditional permutations for the pseudo p-values. With 999 the smallest two-sided p is
        0.002, so under the FDR at 99 % a hexagon is significant only when at least 0.2 × n
        hexagons reach that floor: on a few hundred hexagons use 9,999 to resolve the 99 % class.
    fdr
        Apply the false discovery rate correction (True) or compare raw p-values (False).
    seed
        Seed of the permutations, so a map is reproducible.

    Returns
    -------
    GeoDataFrame
        A copy of ``hexes`` with ``gi_z`` (standardised Gi*), ``p_valor`` (two-sided pseudo
        p-value), ``confianza`` (0, 90, 95 or 99) and ``clase`` (one of :data:`HOTSPOT_CLASSES`).
    """
    if column not in hexes.columns:
        raise DataError(f'column "{column}" is not in the hexagons; columns are {", ".join(map(str, hexes.columns))}.')
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer) or permutations < 99:
        raise ConfigError(f"permutations was {permutations!r} but is expected to be an integer ≥ 99.")
    bad = [c for c in hexes.index[:5] if not (isinstance(c, str) and h3.is_valid_cell(c))]
    if bad:
        raise DataError(f"The hexagons must be indexed by H3 cell id; got {bad[0]!r}.")
    y = pd.to_numeric(hexes[column], errors="coerce").fillna(0).to_numpy(float)
    out = hexes.copy()
    n = len(out)
    z = np.full(n, np.nan)
    p = np.ones(n)
    if n >= 3 and y.sum() > 0 and np.ptp(y) > 0:
        w = hex_weights(out.index, ring)
        with warnings.catch_warnings():
            # esda announces that its one-sided "directed" p-value will become two-sided; we
            # double it ourselves below, which is what the warning recommends
            warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional randomization", category=DeprecationWarning)
            # esda rebuilds the weights with self-neighbours (star) without silencing libpysal;
            # separate islands of the footprint are expected and handled (p = 1) below
            warnings.filterwarnings("ignore", message="The weights matrix is not fully connected", category=UserWarning)
            g = esda.G_Local(y, w, transform="B", permutations=int(permutations), star=True, n_jobs=1, seed=seed, keep_simulations=False)
        z = np.asarray(g.Zs, dtype=float)
        p = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=float))
        islands = np.array([w.cardinalities[i] == 0 for i in range(n)])
        p[islands] = 1.0
    else:
        log.info("Gi* skipped: %d hexagons, %s all equal", n, column)
    conf = np.zeros(n, dtype=int)
    for level in CONFIDENCE_LEVELS:
        alpha = 1 - level / 100
        sig = benjamini_hochberg(p, alpha) if fdr else p <= alpha
        conf[sig] = level
    out["gi_z"] = z
    out["p_valor"] = p
    out["confianza"] = conf
    sign = np.where(np.nan_to_num(z) > 0, "caliente", "frío")
    out["clase"] = np.where(conf > 0, [f"{s} {c}%" for s, c in zip(sign, conf)], "no significativo")
    out.attrs.update({
        "pesos": f"contigüidad H3 binaria, anillo {ring}",
        "permutaciones": int(permutations),
        "fdr": bool(fdr),
        # the smallest two-sided pseudo p-value; under the FDR at level L a hexagon needs at least
        # p_minimo · n / (1 - L) hexagons at that p to be significant
        "p_minimo": 2.0 / (int(permutations) + 1),
    })
    return out


# --------------------------------------------------------------------------------------------
# Concentration in a zone
# --------------------------------------------------------------------------------------------


def zone_concentration(
    units: gpd.GeoDataFrame,
    establishments: gpd.GeoDataFrame,
    zone,
    city,
    *,
    crs: str,
    prefixes: Iterable[str] = HEALTH_PREFIXES,
) -> dict:
    """Health units inside a zone (the Ciudad Histórica) against the whole city.

    Parameters
    ----------
    units
        Health units of the city (the layer being studied).
    establishments
        All establishments of the city (every sector), with ``clase``, for the zone's LQ.
    zone, city
        Shapely polygons in EPSG:4326. ``city`` is the area over which the city density is
        measured (e.g. the urban footprint, :func:`atlas.density.footprint_cells`).
    crs
        Metric CRS for areas.
    prefixes
        SCIAN prefixes counted as health for the LQ.

    Returns
    -------
    dict
        ``unidades_dentro``, ``unidades_fuera``, ``participacion_dentro`` (0–1), ``area_zona_km2``,
        ``area_ciudad_km2``, ``densidad_zona_km2`` and ``densidad_ciudad_km2`` (units per km²),
        ``razon_densidad`` (zone ÷ city), ``lq_zona`` (health share of the zone's establishments
        ÷ the city's) and the counts behind it.
    """
    for name, geom in (("zone", zone), ("city", city)):
        if geom is None or geom.is_empty:
            raise DataError(f"The {name} polygon is empty; expected a polygon in EPSG:4326.")
    for name, df in (("units", units), ("establishments", establishments)):
        if df.crs is None:
            raise DataError(f"The {name} have no CRS; set it before measuring.")
    shapes = gpd.GeoSeries([zone, city], crs=4326).to_crs(crs)
    zone_m, city_m = shapes.iloc[0], shapes.iloc[1]
    u = units.to_crs(crs)
    e = establishments.to_crs(crs)
    u_in = u.within(zone_m)
    u_city = u.within(city_m)
    e_in = e.within(zone_m)
    e_city = e.within(city_m)
    health = is_health(establishments["clase"], prefixes).to_numpy()
    h_in, all_in = int((health & e_in.to_numpy()).sum()), int(e_in.sum())
    h_city, all_city = int((health & e_city.to_numpy()).sum()), int(e_city.sum())
    a_zone, a_city = area_km2(zone_m, crs), area_km2(city_m, crs)
    d_zone = int(u_in.sum()) / a_zone
    d_city = int(u_city.sum()) / a_city
    city_share = h_city / all_city if all_city else math.nan
    return {
        "unidades_dentro": int(u_in.sum()),
        "unidades_fuera": int((~u_in).sum()),
        "participacion_dentro": float(u_in.mean()) if len(u) else math.nan,
        "area_zona_km2": a_zone,
        "area_ciudad_km2": a_city,
        "unidades_ciudad": int(u_city.sum()),
        "densidad_zona_km2": d_zone,
        "densidad_ciudad_km2": d_city,
        "razon_densidad": d_zone / d_city if d_city else math.nan,
        "salud_zona": h_in,
        "establecimientos_zona": all_in,
        "salud_ciudad": h_city,
        "establecimientos_ciudad": all_city,
        "lq_zona": location_quotient(h_in, all_in, city_share),
    }
