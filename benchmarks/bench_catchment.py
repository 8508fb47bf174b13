"""Catchment speed: one origin and 100 origins to every census locality, and shortest paths on
networks densified 1×, 10× and 100× (growth exponent). Target: a single-origin band (times, polygons
and population) under a second on the Natural Earth network.

Run with ``python -m benchmarks catchment``. Inputs are the region's real files (León by default,
``ATLAS_BENCH_REGION`` to change); the network cache is bypassed so its build is timed too.
"""

from __future__ import annotations

import os
import tempfile

import geopandas as gpd
import numpy as np

from atlas.catchment import access_points, catchment_from_network, origins_for_region, reach_from_origins, times_to_points
from atlas.geo import conapo_municipal, localities_from_iter
from atlas.network import Network, network_for_region, shortest_paths
from atlas.settings import load_region

from ._harness import Measure, measure, report

__all__ = ["main"]


def _table(title: str, rows: list[Measure]) -> str:
    """Like ``report`` but for rows that time different steps (no size growth, no exponent)."""
    base = rows[0].seconds or 1e-9
    lines = [f"## {title}", f"{'step':<44} {'seconds':>9} {'ratio':>7} {'peak MB':>8}"]
    lines += [f"{r.label:<44} {r.seconds:>9.3f} {r.seconds / base:>7.2f} {r.peak_mb:>8.1f}" for r in rows]
    return "\n".join(lines)


def _densified(net: Network, k: int) -> Network:
    """Every edge split into ``k`` equal edges (same total minutes and metres, ``k``× the nodes)."""
    if k == 1:
        return net
    t, h = net.tail, net.head
    e = len(t)
    f = np.arange(1, k)[None, :] / k  # interior fractions
    mid_xy = net.xy[t][:, None, :] + f[..., None] * (net.xy[h] - net.xy[t])[:, None, :]
    mid_ll = net.lonlat[t][:, None, :] + f[..., None] * (net.lonlat[h] - net.lonlat[t])[:, None, :]
    n = net.n_nodes
    mid_ids = n + np.arange(e * (k - 1)).reshape(e, k - 1)
    chain = np.column_stack([t, mid_ids, h])  # (e, k + 1)
    tail = chain[:, :-1].ravel()
    head = chain[:, 1:].ravel()
    minutes = np.repeat(net.minutes / k, k)
    metres = np.repeat(net.metres / k, k)
    xy = np.vstack([net.xy, mid_xy.reshape(-1, 2)])
    lonlat = np.vstack([net.lonlat, mid_ll.reshape(-1, 2)])
    return Network(xy, lonlat, tail, head, minutes, metres, net.directed, net.crs, {"densificada": k})


def main() -> str:
    region = load_region(os.environ.get("ATLAS_BENCH_REGION", "leon"))
    c = region.catchment
    # wall times on a shared machine scale with its load: say what it was
    out = [f"# Catchment — {region.nombre}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at start"]

    with tempfile.TemporaryDirectory() as tmp:
        build = measure("network_from_lines (Natural Earth)", 1, lambda: network_for_region(region, cache_dir=tmp, rebuild=True))
        net = network_for_region(region, cache_dir=tmp)
        load = measure("network from the npz cache", 1, lambda: network_for_region(region, cache_dir=tmp), repeat=3)
    out.append(_table(f"Network ({net.n_nodes:,} nodes, {net.n_edges:,} edges)", [build, load]))

    loc = localities_from_iter(region.path(region.files.localidades))
    mg = conapo_municipal(region.path(region.files.conapo_municipal))
    lon, lat = loc.geometry.x.to_numpy(), loc.geometry.y.to_numpy()
    acc = access_points(net, lon, lat, k=c.access_nodes)
    centre = origins_for_region(region, "centro")
    kw = dict(access_speed_kmh=c.access_speed_kmh, circuity=c.circuity, access_nodes=c.access_nodes)

    def band():
        return catchment_from_network(net, centre, loc, minutes=c.minutes, radius_km=c.radius_km, metro=region.municipios_metropolitanos,
                                      marginacion=mg, mercado_grados=c.mercado_grados, access=acc, **kw)

    rows = [
        measure("single-origin band (access cached)", 1, band, repeat=3),
        measure("nearest nodes of every locality (once)", len(loc), lambda: access_points(net, lon, lat, k=c.access_nodes)),
        measure("single-origin band (cold access)", 1, lambda: catchment_from_network(
            net, centre, loc, minutes=c.minutes, radius_km=c.radius_km, marginacion=mg, **kw)),
    ]
    single = rows[0].seconds
    out.append(_table(f"Single-origin band, {len(loc):,} localities — target < 1 s: "
                      f"{'met' if single < 1 else 'MISSED'} ({single:.2f} s)", rows))

    rng = np.random.default_rng(0)
    lat0, lon0 = region.center
    many = []
    for n in (1, 10, 100):
        # n points scattered ±0.4° around the centre (a city's hospitals are far closer together)
        dx, dy = (rng.uniform(-0.4, 0.4, n), rng.uniform(-0.4, 0.4, n)) if n > 1 else (np.zeros(1), np.zeros(1))
        pts = gpd.GeoDataFrame({"nombre": [f"o{i}" for i in range(n)]},
                               geometry=gpd.points_from_xy(lon0 + dx, lat0 + dy), crs=4326)

        def to_all(pts=pts):
            reach = reach_from_origins(net, pts, **kw)
            return times_to_points(reach, access=acc)

        many.append(measure(f"{n} origin(s) to every locality", n, to_all, repeat=2))
    out.append(report("Origins to every locality (one multi-source Dijkstra; access cached)", many))

    sizes = []
    seed = int(np.argmin(np.hypot(*(net.lonlat - [lon0, lat0]).T)))
    for k in (1, 10, 100):
        dense = _densified(net, k)
        sizes.append(measure(f"shortest paths, network ×{k} ({dense.n_nodes:,} nodes)", dense.n_nodes,
                             lambda dense=dense: shortest_paths(dense, [seed]), repeat=2))
    out.append(report("Shortest paths on densified networks (time ~ nodes^k)", sizes))
    return "\n\n".join(out)
