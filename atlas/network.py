"""Road networks for travel-time analysis: built from a line layer or from OpenStreetMap.

A :class:`Network` is a plain set of arrays (node coordinates, edge endpoints, minutes and metres
per edge) so it pickles, caches to ``.npz`` and feeds :mod:`scipy.sparse.csgraph` directly. Two
sources build one:

- :func:`network_from_lines` — any line layer with a road-type column (the Natural Earth roads
  shipped with the atlas). Lines do not always meet exactly, so dangling ends are snapped to the
  nearest other line within a tolerance (inserting a vertex there) and vertices closer than a few
  metres are merged; crossings without a shared vertex stay unconnected (they may be overpasses).
- :func:`network_from_osm` — OpenStreetMap through osmnx (motorway … secondary), with osmnx's
  speed and travel-time helpers, for users who are online; also reads an ``.osm`` XML extract.

:func:`shortest_paths` runs one multi-source Dijkstra (no Python loop over origins) from seeds
that may start with an offset (the access leg from an origin to the road), and returns minutes,
road metres and the winning seed for every node. :func:`network_for_region` caches the built
network under ``data/cache`` keyed by the roads file and the speed settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from ._errors import ConfigError, DataError, DownloadError
from .geo import to_metric

__all__ = [
    "OSM_HIGHWAYS",
    "Network",
    "Paths",
    "cost_matrix",
    "nearest_nodes",
    "network_for_region",
    "network_from_lines",
    "network_from_osm",
    "shortest_paths",
]

log = logging.getLogger(__name__)

#: OSM ``highway`` classes kept for a regional network (their ``_link`` ramps are kept too)
OSM_HIGHWAYS = ("motorway", "trunk", "primary", "secondary")

#: bump when the way networks are built changes, so cached files are rebuilt
_BUILD_VERSION = 1
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True, eq=False)
class Network:
    """A routable road network.

    Attributes
    ----------
    xy
        ``(n, 2)`` node coordinates in ``crs`` (metres).
    lonlat
        ``(n, 2)`` node coordinates in EPSG:4326.
    tail, head
        Edge endpoints (node indices). Undirected networks store each edge once.
    minutes, metres
        Travel time and geodesic length of each edge.
    directed
        ``False`` for line layers (both ways), ``True`` for OSM (one-way streets).
    crs
        The metric CRS of ``xy``.
    info
        How the network was built (source, parameters, counts, components), JSON-ready.
    """

    xy: np.ndarray
    lonlat: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    minutes: np.ndarray
    metres: np.ndarray
    directed: bool
    crs: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        return len(self.tail)

    @cached_property
    def _arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed arcs (both ways for undirected networks)."""
        if self.directed:
            return self.tail, self.head, self.minutes, self.metres
        return (
            np.concatenate([self.tail, self.head]),
            np.concatenate([self.head, self.tail]),
            np.concatenate([self.minutes, self.minutes]),
            np.concatenate([self.metres, self.metres]),
        )

    @cached_property
    def tree(self) -> cKDTree:
        """KD-tree of the node coordinates (metres) for nearest-node queries."""
        return cKDTree(self.xy)

    @cached_property
    def components(self) -> np.ndarray:
        """Weakly connected component label of every node."""
        n = self.n_nodes
        g = sparse.csr_matrix((np.ones(self.n_edges), (self.tail, self.head)), shape=(n, n))
        return csgraph.connected_components(g, directed=True, connection="weak")[1]


@dataclass(frozen=True)
class Paths:
    """Result of :func:`shortest_paths`: one value per node.

    ``minutes`` and ``metres`` are ``inf`` where no seed reaches the node (within the limit);
    ``seed`` is the index of the seed group that reaches it first, or ``-1``.
    """

    minutes: np.ndarray
    metres: np.ndarray
    seed: np.ndarray


# --------------------------------------------------------------------------- line layers


def network_from_lines(
    roads: gpd.GeoDataFrame,
    speeds_kmh: dict[str, float] | None = None,
    *,
    default_speed_kmh: float = 60.0,
    snap_tolerance_m: float = 1000.0,
    merge_m: float = 25.0,
    segment_m: float | None = 2000.0,
    crs_metric: str = "EPSG:6372",
    type_column: str = "type",
) -> Network:
    """Build a routable network from a line layer (Natural Earth roads or similar).

    Parameters
    ----------
    roads
        Lines (``LineString``/``MultiLineString``) with a CRS and a road-type column.
    speeds_kmh
        Speed per value of ``type_column``; other types (and missing values) use
        ``default_speed_kmh``.
    snap_tolerance_m
        A line end is joined to the nearest point of another line closer than this: a vertex is
        inserted there and a connector edge added (at the speed of the dangling line).
    merge_m
        Vertices closer than this are one node (lines that meet at a shared vertex connect).
    segment_m
        Long segments are split so no edge is longer than this (``None`` keeps the vertices as
        they are). Denser nodes make access legs and band outlines follow the road.
    crs_metric
        Metric CRS used for snapping and node coordinates.

    Returns
    -------
    Network
        Undirected; ``info`` reports the components left after snapping.

    Examples
    --------
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame({"type": ["Road", "Road"]}, crs=6372,
    ...     geometry=[LineString([(0, 0), (6000, 0)]), LineString([(6000, 0), (6000, 6000)])])
    >>> net = network_from_lines(roads, {"Road": 60.0}, segment_m=None)
    >>> net.n_nodes, net.n_edges, net.info["componentes"]
    (3, 2, 1)
    """
    speeds_kmh = dict(speeds_kmh or {})
    _check_speeds(speeds_kmh, default_speed_kmh)
    for name, value in (("snap_tolerance_m", snap_tolerance_m), ("merge_m", merge_m)):
        if not value >= 0:
            raise ConfigError(f"{name} was {value!r} but is expected to be a distance >= 0 m.")
    if segment_m is not None and not segment_m > 0:
        raise ConfigError(f"segment_m was {segment_m!r} but is expected to be > 0 m or None.")
    if not isinstance(roads, gpd.GeoDataFrame):
        raise DataError(f"roads was a {type(roads).__name__} but is expected to be a GeoDataFrame of lines.")
    if type_column not in roads.columns:
        raise DataError(f'roads has no "{type_column}" column; columns are {list(roads.columns)}.')
    lines = to_metric(roads, crs_metric)
    lines = lines[~lines.geometry.isna() & ~lines.geometry.is_empty].explode(index_parts=False)
    lines = lines[lines.geom_type == "LineString"]
    lines = lines[lines.geometry.length > 0]
    if lines.empty:
        raise DataError("roads holds no usable line: expected LineString or MultiLineString features.")
    kinds = lines[type_column].astype("string").fillna("")
    speed = kinds.map(lambda k: speeds_kmh.get(k, default_speed_kmh)).to_numpy(float)
    coords = [np.asarray(g.coords)[:, :2] for g in lines.geometry]
    if segment_m is not None:
        coords = [_densify(c, segment_m) for c in coords]
    coords, conn = _snap_dangling(coords, snap_tolerance_m, merge_m)

    # every vertex is a node candidate; merge those closer than merge_m
    counts = np.array([len(c) for c in coords])
    verts = np.vstack(coords)
    line_of = np.repeat(np.arange(len(coords)), counts)
    label = _merge_points(verts, merge_m)
    last = np.cumsum(counts) - 1
    seg = np.ones(len(verts), bool)
    seg[last] = False  # a segment starts at every vertex but a line's last
    a = np.flatnonzero(seg)
    b = a + 1
    to_ll = pyproj.Transformer.from_crs(crs_metric, 4326, always_xy=True)
    lon, lat = (np.asarray(t) for t in to_ll.transform(verts[:, 0], verts[:, 1]))
    seg_m = _GEOD.inv(lon[a], lat[a], lon[b], lat[b])[2]
    km_lines = float(seg_m.sum()) / 1000.0
    seg_min = seg_m / 1000.0 / speed[line_of[a]] * 60.0
    u, v = label[a], label[b]
    # connectors: dangling end -> vertex on the nearest other line, at the dangling line's speed
    ce, ct = conn[:, 0], conn[:, 1]
    c_m = _GEOD.inv(lon[ce], lat[ce], lon[ct], lat[ct])[2] if len(conn) else np.empty(0)
    c_min = c_m / 1000.0 / speed[line_of[ce]] * 60.0
    u = np.concatenate([u, label[ce]])
    v = np.concatenate([v, label[ct]])
    seg_m = np.concatenate([seg_m, c_m])
    seg_min = np.concatenate([seg_min, c_min])

    _, first = np.unique(label, return_index=True)  # labels are 0..k-1
    xy = verts[first]
    lonlat = np.column_stack([lon[first], lat[first]])
    # pieces whose ends only touch each other: bridge each to the nearest other piece
    bu, bv = _bridge_components(xy, u, v, snap_tolerance_m)
    b_m = _GEOD.inv(lonlat[bu, 0], lonlat[bu, 1], lonlat[bv, 0], lonlat[bv, 1])[2] if len(bu) else np.empty(0)
    u = np.concatenate([u, bu])
    v = np.concatenate([v, bv])
    seg_m = np.concatenate([seg_m, b_m])
    seg_min = np.concatenate([seg_min, b_m / 1000.0 / default_speed_kmh * 60.0])
    tail, head, minutes, metres = _dedupe(u, v, seg_min, seg_m, directed=False)
    net = Network(xy, lonlat, tail, head, minutes, metres, directed=False, crs=crs_metric)
    info = {
        "fuente": "líneas",
        "lineas": int(len(coords)),
        "km_lineas": round(km_lines, 1),
        "nodos": net.n_nodes,
        "aristas": net.n_edges,
        "conectores": int(len(conn)),
        "conectores_km": round(float(c_m.sum()) / 1000.0, 1),
        "puentes": int(len(bu)),
        "puentes_km": round(float(b_m.sum()) / 1000.0, 1),
        "vertices_fusionados": int(len(verts) - net.n_nodes),
        "velocidades_kmh": speeds_kmh,
        "velocidad_por_defecto_kmh": default_speed_kmh,
        "tolerancia_m": snap_tolerance_m,
        "fusion_m": merge_m,
        "segmento_m": segment_m,
        "crs": crs_metric,
    }
    info.update(_component_info(net))
    net = dataclasses.replace(net, info=info)
    log.info("network from %d lines: %d nodes, %d edges, %d components", len(coords), net.n_nodes, net.n_edges, info["componentes"])
    return net


def _check_speeds(speeds: dict[str, float], default: float) -> None:
    bad = {k: v for k, v in speeds.items() if not (isinstance(v, (int, float)) and v > 0)}
    if bad or not default > 0:
        shown = bad or {"default_speed_kmh": default}
        raise ConfigError(f"speeds {shown} are expected to be positive km/h.")


def _snap_dangling(coords: list[np.ndarray], tol: float, merge_m: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Join every line end to the nearest point of another line within ``tol``.

    A vertex is inserted at that point unless an existing vertex lies within ``merge_m`` of it.
    Returns the lines (with inserted vertices) and an ``(k, 2)`` array of connectors
    ``(end vertex, target vertex)`` as indices into ``np.vstack(lines)``, for gaps longer than
    ``merge_m`` (shorter ones are joined by merging).
    """
    n = len(coords)
    if tol <= 0 or n < 2:
        return coords, np.empty((0, 2), np.int64)
    geoms = np.array([shapely.LineString(c) for c in coords], dtype=object)
    ends = np.vstack([np.vstack([c[0], c[-1]]) for c in coords])
    own = np.repeat(np.arange(n), 2)
    pts = shapely.points(ends)
    pi, li = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=tol)
    keep = own[pi] != li
    pi, li = pi[keep], li[keep]
    if len(pi) == 0:
        return coords, np.empty((0, 2), np.int64)
    d = shapely.distance(pts[pi], geoms[li])
    order = np.lexsort((li, d, pi))  # nearest line first; ties go to the lower line index
    pi, li, d = pi[order], li[order], d[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    pi, li, d = pi[first], li[first], d[first]
    pos = shapely.line_locate_point(geoms[li], pts[pi])

    out = list(coords)
    target_local = np.zeros(len(pi), np.int64)
    for line in np.unique(li):
        ks = np.flatnonzero(li == line)
        c = coords[line]
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(c, axis=0).T))])
        s = pos[ks]
        j = np.clip(np.searchsorted(cum, s), 1, len(c) - 1)
        near = np.where(s - cum[j - 1] <= cum[j] - s, j - 1, j)
        reuse = np.abs(cum[near] - s) <= merge_m
        new_s = s[~reuse]
        new_pts = shapely.get_coordinates(shapely.line_interpolate_point(geoms[line], new_s))
        order = np.argsort(np.concatenate([cum, new_s]), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        out[line] = np.vstack([c, new_pts])[order]
        target_local[ks[reuse]] = rank[near[reuse]]
        target_local[ks[~reuse]] = rank[len(c) + np.arange(len(new_s))]
    counts = np.array([len(c) for c in out])
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    end_vertex = np.where(pi % 2 == 0, start[own[pi]], start[own[pi]] + counts[own[pi]] - 1)
    target = start[li] + target_local
    far = d > merge_m
    return out, np.column_stack([end_vertex[far], target[far]]).astype(np.int64)


def _bridge_components(xy: np.ndarray, u: np.ndarray, v: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining each connected piece to the nearest node of another piece within ``tol``.

    Smallest pieces first; pieces merge as they are joined, until no piece has another within
    ``tol``. Returns the bridge edges as node index arrays.
    """
    n = len(xy)
    if tol <= 0 or n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    g = sparse.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, comp = csgraph.connected_components(g, directed=False)
    parent = np.arange(comp.max() + 1)

    def find(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    tree = cKDTree(xy)
    bu, bv = [], []
    sizes = np.bincount(comp)
    for c in np.argsort(sizes, kind="stable"):
        members = np.flatnonzero(comp == c)
        root = find(c)
        # nearest node outside this piece (as merged so far), searched within tol only
        best = (np.inf, -1, -1)
        for i, near in zip(members, tree.query_ball_point(xy[members], tol)):
            for j in near:
                if find(comp[j]) != root:
                    d = float(np.hypot(*(xy[i] - xy[j])))
                    if d < best[0]:
                        best = (d, i, j)
        if best[1] >= 0:
            bu.append(best[1])
            bv.append(best[2])
            parent[root] = find(comp[best[2]])
    return np.array(bu, np.int64), np.array(bv, np.int64)


def _densify(c: np.ndarray, step: float) -> np.ndarray:
    seg = np.hypot(*np.diff(c, axis=0).T)
    parts = np.maximum(1, np.ceil(seg / step).astype(int))
    if (parts == 1).all():
        return c
    out = [c[:1]]
    for i, k in enumerate(parts):
        t = np.arange(1, k + 1)[:, None] / k
        out.append(c[i] + t * (c[i + 1] - c[i]))
    return np.vstack(out)


def _merge_points(xy: np.ndarray, r: float) -> np.ndarray:
    """Label points so that any two closer than ``r`` (or identical) share a label.

    Labels run 0..k-1 in order of first appearance.
    """
    n = len(xy)
    _, dup = np.unique(np.round(xy, 6), axis=0, return_inverse=True)
    dup = dup.ravel()
    pairs = cKDTree(xy).query_pairs(r, output_type="ndarray") if r > 0 else np.empty((0, 2), np.int64)
    # identical points are linked through one extra node per distinct coordinate
    rows = np.concatenate([pairs[:, 0], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], n + dup])
    size = n + int(dup.max()) + 1
    g = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    lab = csgraph.connected_components(g, directed=False)[1][:n]
    _, first = np.unique(lab, return_index=True)
    remap = np.empty(lab.max() + 1, np.int64)
    remap[lab[np.sort(first)]] = np.arange(len(first))
    return remap[lab]


def _dedupe(u, v, minutes, metres, *, directed: bool):
    """Drop self-loops and keep the fastest of parallel edges."""
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    keep = u != v
    u, v, minutes, metres = u[keep], v[keep], np.asarray(minutes, float)[keep], np.asarray(metres, float)[keep]
    if not directed:
        u, v = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((minutes, v, u))
    u, v, minutes, metres = u[order], v[order], minutes[order], metres[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    return u[first].astype(np.int32), v[first].astype(np.int32), minutes[first], metres[first]


def _component_info(net: Network) -> dict[str, Any]:
    comp = net.components
    n_comp = int(comp.max() + 1) if len(comp) else 0
    km = np.bincount(comp[net.tail], weights=net.metres, minlength=n_comp) / 1000.0
    big = int(np.argmax(km)) if n_comp else 0
    total = float(km.sum()) or 1.0
    return {
        "componentes": n_comp,
        "componente_mayor_km": round(float(km[big]), 1) if n_comp else 0.0,
        "componente_mayor_pct_km": round(100.0 * float(km[big]) / total, 1) if n_comp else 0.0,
        "componentes_menores_km": round(total - float(km[big]), 1) if n_comp else 0.0,
    }


# --------------------------------------------------------------------------- OpenStreetMap


def network_from_osm(
    polygon=None,
    *,
    xml: Path | str | None = None,
    speeds_kmh: dict[str, float] | None = None,
    default_speed_kmh: float = 50.0,
    highways: tuple[str, ...] = OSM_HIGHWAYS,
    cache_dir: Path | str | None = None,
    crs_metric: str = "EPSG:6372",
) -> Network:
    """Build a network from OpenStreetMap through osmnx (online), or from an ``.osm`` XML file.

    Parameters
    ----------
    polygon
        Area to download (EPSG:4326 shapely polygon). Needs internet, unless ``cache_dir`` already
        holds the GraphML saved by a previous download of the same polygon.
    xml
        An OSM XML extract read with ``osmnx.graph_from_xml`` instead of downloading.
    speeds_kmh
        Speed per OSM ``highway`` class for ways without a usable ``maxspeed``
        (osmnx ``add_edge_speeds(hwy_speeds=...)``); give the region's Mexican defaults.
    highways
        OSM classes kept (their ``_link`` ramps too).

    Returns
    -------
    Network
        Directed (one-way streets are respected); minutes from osmnx ``travel_time``.
    """
    import osmnx as ox  # heavy import, only when OSM is used

    if (polygon is None) == (xml is None):
        raise ConfigError("network_from_osm needs exactly one of polygon (to download) or xml (a .osm file).")
    speeds_kmh = dict(speeds_kmh or {})
    _check_speeds(speeds_kmh, default_speed_kmh)
    wanted = set(highways) | {f"{h}_link" for h in highways}
    if xml is not None:
        path = Path(xml)
        if not path.is_file():
            raise DataError(f"{path}: OSM XML file not found.")
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
        G = _keep_highways(G, wanted)
        source = {"fuente": "OpenStreetMap (XML)", "archivo": str(path)}
    else:
        if not isinstance(polygon, (shapely.Polygon, shapely.MultiPolygon)):
            raise ConfigError(f"polygon was a {type(polygon).__name__} but is expected to be a shapely (Multi)Polygon in EPSG:4326.")
        key = hashlib.sha1(shapely.to_wkb(polygon) + "|".join(sorted(wanted)).encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"osm_{key}.graphml" if cache_dir else None
        if cache is not None and cache.is_file():
            G = ox.load_graphml(cache)
        else:
            filt = '["highway"~"^(' + "|".join(sorted(wanted)) + ')$"]'
            try:
                G = ox.graph_from_polygon(polygon, network_type="drive", custom_filter=filt, retain_all=True, simplify=False)
            except (ox._errors.InsufficientResponseError, ox._errors.ResponseStatusCodeError, OSError) as exc:
                raise DownloadError(f"OpenStreetMap download failed ({exc}); use network_from_lines offline.") from exc
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                ox.save_graphml(G, cache)
        source = {"fuente": "OpenStreetMap (Overpass)", "cache": str(cache) if cache else ""}
    if G.number_of_edges() == 0:
        raise DataError(f"OpenStreetMap returned no road of classes {sorted(highways)} in the area.")
    G = ox.add_edge_speeds(G, hwy_speeds=speeds_kmh or None, fallback=default_speed_kmh)
    G = ox.add_edge_travel_times(G)

    ids = np.array(list(G.nodes))
    index = {n: i for i, n in enumerate(ids)}
    lonlat = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in ids], float)
    to_m = pyproj.Transformer.from_crs(4326, crs_metric, always_xy=True)
    xy = np.column_stack(to_m.transform(lonlat[:, 0], lonlat[:, 1]))
    rows = [(index[u], index[v], d["travel_time"] / 60.0, d["length"]) for u, v, d in G.edges(data=True)]
    u, v, minutes, metres = (np.array(c) for c in zip(*rows))
    tail, head, minutes, metres = _dedupe(u, v, minutes, metres, directed=True)
    net = Network(xy, lonlat, tail, head, minutes, metres, directed=True, crs=crs_metric)
    info = {
        **source,
        "clases": sorted(wanted),
        "nodos": net.n_nodes,
        "aristas": net.n_edges,
        "km_lineas": round(float(metres.sum()) / 1000.0, 1),
        "velocidades_kmh": speeds_kmh,
        "velocidad_por_defecto_kmh": default_speed_kmh,
        "crs": crs_metric,
    }
    info.update(_component_info(net))
    net = dataclasses.replace(net, info=info)
    return net


def _keep_highways(G, wanted: set[str]):
    """Drop edges whose OSM ``highway`` (a string or, after simplification, a list) is not wanted."""
    drop = []
    for u, v, k, d in G.edges(keys=True, data=True):
        hw = d.get("highway")
        values = hw if isinstance(hw, list) else [hw]
        if not any(h in wanted for h in values):
            drop.append((u, v, k))
    G = G.copy()
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    return G


# --------------------------------------------------------------------------- routing


def nearest_nodes(network: Network, xy: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances (m) and indices of the ``k`` nearest nodes to each point (``xy`` in ``network.crs``).

    Returns arrays of shape ``(m, k)``; non-finite points get ``inf`` and index ``n_nodes``.
    """
    xy = np.asarray(xy, float).reshape(-1, 2)
    k = min(int(k), network.n_nodes)
    if k < 1:
        raise ConfigError(f"k was {k} but is expected to be >= 1 (and the network to have nodes).")
    dist = np.full((len(xy), k), np.inf)
    idx = np.full((len(xy), k), network.n_nodes, dtype=np.int64)
    ok = np.isfinite(xy).all(axis=1)
    if ok.any():
        d, i = network.tree.query(xy[ok], k=k)
        dist[ok] = np.asarray(d).reshape(-1, k)
        idx[ok] = np.asarray(i).reshape(-1, k)
    return dist, idx


def shortest_paths(
    network: Network,
    seed_nodes: np.ndarray,
    seed_minutes: np.ndarray | None = None,
    seed_metres: np.ndarray | None = None,
    seed_group: np.ndarray | None = None,
    *,
    limit: float = np.inf,
    toward: bool = True,
) -> Paths:
    """Fastest time from any seed to every node, in one multi-source Dijkstra.

    Parameters
    ----------
    seed_nodes
        Node index of each seed. A seed may start late (``seed_minutes``, e.g. the drive from a
        hospital to the road) and with metres already travelled (``seed_metres``).
    seed_group
        Group of each seed (e.g. the origin it comes from; several seeds per origin are fine).
        Defaults to one group per seed. ``Paths.seed`` reports the winning group.
    limit
        Stop exploring beyond this many minutes (nodes further away get ``inf``).
    toward
        On directed networks, time *to* the seeds (patients travelling to the hospital) rather than
        from them. Undirected networks give the same answer either way.

    Returns
    -------
    Paths
        Minutes, road metres along the fastest path (not the shortest one) and winning group.
    """
    n = network.n_nodes
    seed_nodes = np.asarray(seed_nodes, np.int64).ravel()
    m = len(seed_nodes)
    if m == 0:
        raise ConfigError("shortest_paths needs at least one seed node.")
    if seed_nodes.min() < 0 or seed_nodes.max() >= n:
        raise ConfigError(f"seed nodes must be in 0..{n - 1}; got {seed_nodes.min()}..{seed_nodes.max()}.")
    seed_minutes = np.zeros(m) if seed_minutes is None else np.asarray(seed_minutes, float).ravel()
    seed_metres = np.zeros(m) if seed_metres is None else np.asarray(seed_metres, float).ravel()
    seed_group = np.arange(m) if seed_group is None else np.asarray(seed_group, np.int64).ravel()
    if not (len(seed_minutes) == len(seed_metres) == len(seed_group) == m):
        raise ConfigError("seed_minutes, seed_metres and seed_group must have one value per seed node.")
    if (seed_minutes < 0).any() or not np.isfinite(seed_minutes).all():
        raise ConfigError("seed_minutes must be finite and >= 0.")
    groups, gi = np.unique(seed_group, return_inverse=True)
    g = len(groups)

    t, h, w, d = network._arcs
    if network.directed and toward:
        t, h = h, t
    # one virtual node per group, wired to its seeds by one-way arcs carrying the offsets
    vt = n + gi
    tail = np.concatenate([t, vt])
    head = np.concatenate([h, seed_nodes])
    # explicit zeros in a csr matrix are edges for csgraph (an origin right on a node starts at 0)
    wmin = np.concatenate([w, seed_minutes])
    wm = np.concatenate([d, seed_metres])
    size = n + g
    A = sparse.csr_matrix((wmin, (tail, head)), shape=(size, size))
    if A.nnz != len(tail):  # duplicate arcs would be summed by csr: keep the fastest instead
        tail, head, wmin, wm = _dedupe(tail, head, wmin, wm, directed=True)
        A = sparse.csr_matrix((wmin, (tail, head)), shape=(size, size))
    virtual = np.arange(n, size)
    dist, pred, src = csgraph.dijkstra(A, directed=True, indices=virtual, min_only=True,
                                       return_predecessors=True, limit=limit)
    # road metres along the fastest-path tree: one more pass over the tree itself
    reached = np.flatnonzero(pred >= 0)
    M = sparse.csr_matrix((wm, (tail, head)), shape=(size, size))
    tree_w = np.asarray(M[pred[reached], reached]).ravel()
    T = sparse.csr_matrix((tree_w, (pred[reached], reached)), shape=(size, size))
    metres = csgraph.dijkstra(T, directed=True, indices=virtual, min_only=True)
    metres = np.where(np.isfinite(dist), metres, np.inf)[:n]
    minutes = dist[:n]
    seed = np.where(src[:n] >= n, groups[np.clip(src[:n] - n, 0, g - 1)], -1)
    return Paths(minutes=minutes, metres=metres, seed=seed)


def cost_matrix(network: Network, sources: np.ndarray, targets: np.ndarray | None = None, *, limit: float = np.inf) -> np.ndarray:
    """Minutes from each source node (rows) to each target node (columns; default all nodes).

    For models that need every origin-destination pair (coverage, p-median). One Dijkstra per
    source, run in compiled code.
    """
    sources = np.asarray(sources, np.int64).ravel()
    t, h, w, _ = network._arcs
    n = network.n_nodes
    A = sparse.csr_matrix((w, (t, h)), shape=(n, n))
    out = csgraph.dijkstra(A, directed=True, indices=sources, limit=limit)
    out = np.atleast_2d(out)
    return out if targets is None else out[:, np.asarray(targets, np.int64)]


# --------------------------------------------------------------------------- cache


def network_for_region(region, *, cache_dir: Path | str | None = None, rebuild: bool = False) -> Network:
    """The region's road network from its configured roads file, cached as ``.npz``.

    The cache key is the roads file's path, size and modification time plus every setting that
    changes the graph (speeds, snapping, merging, segment length, CRS), so editing the config or
    replacing the file rebuilds it.
    """
    from .settings import PROJECT_ROOT

    c = region.catchment
    path = region.path(region.files.roads)
    if not path.is_file():
        raise DataError(f"{path}: road network file not found. Set ATLAS_DATA_DIR or the region's files.roads.")
    stat = path.stat()
    params = {
        "v": _BUILD_VERSION,
        "file": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "speeds": sorted(c.speeds_kmh.items()),
        "default": c.default_speed_kmh,
        "snap": c.snap_tolerance_m,
        "merge": c.merge_m,
        "segment": c.segment_m,
        "crs": region.crs_metric,
    }
    key = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    cache_dir = Path(cache_dir) if cache_dir else PROJECT_ROOT / "data" / "cache"
    cache = cache_dir / f"network_{key}.npz"
    if cache.is_file() and not rebuild:
        try:
            return _load_npz(cache)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable network cache %s (%s)", cache, exc)
    roads = gpd.read_file(path)
    net = network_from_lines(
        roads,
        c.speeds_kmh,
        default_speed_kmh=c.default_speed_kmh,
        snap_tolerance_m=c.snap_tolerance_m,
        merge_m=c.merge_m,
        segment_m=c.segment_m or None,
        crs_metric=region.crs_metric,
    )
    net = dataclasses.replace(net, info={**net.info, "archivo": str(path)})
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp, xy=net.xy, lonlat=net.lonlat, tail=net.tail, head=net.head, minutes=net.minutes,
        metres=net.metres, directed=np.array(net.directed), crs=np.array(net.crs),
        info=np.array(json.dumps(net.info, ensure_ascii=False)),
    )
    tmp.replace(cache)  # atomic: concurrent readers never see half a file
    return net


def _load_npz(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as z:
        return Network(
            xy=z["xy"], lonlat=z["lonlat"], tail=z["tail"], head=z["head"], minutes=z["minutes"],
            metres=z["metres"], directed=bool(z["directed"]), crs=str(z["crs"]),
            info={**json.loads(str(z["info"])), "cache": str(path)},
        )
