"""Road network: building from lines and from OSM XML, multi-source shortest paths, the cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely import LineString, MultiLineString

from atlas._errors import ConfigError, DataError
from atlas.network import (
    Network,
    cost_matrix,
    nearest_nodes,
    network_for_region,
    network_from_lines,
    network_from_osm,
    shortest_paths,
)

FIXTURES = Path(__file__).parent / "fixtures"
GEOD = pyproj.Geod(ellps="WGS84")
# somewhere near León in EPSG:6372 metres, so hand-built lines sit in Mexico
X0, Y0 = pyproj.Transformer.from_crs(4326, 6372, always_xy=True).transform(-101.68, 21.12)


def _net(edges, n, *, directed=False, xy=None):
    """A Network from (tail, head, minutes, metres) tuples."""
    t, h, mi, me = (np.array(c) for c in zip(*edges))
    xy = np.column_stack([X0 + np.arange(n) * 1000.0, np.full(n, Y0)]) if xy is None else np.asarray(xy, float)
    lon, lat = pyproj.Transformer.from_crs(6372, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return Network(xy, np.column_stack([lon, lat]), t, h, mi.astype(float), me.astype(float), directed, "EPSG:6372")


def _lines(*coords, types=None):
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords]
    return gpd.GeoDataFrame({"type": types or ["Road"] * len(geoms)}, geometry=geoms, crs=6372)


def _geodesic_m(a, b):
    to_ll = pyproj.Transformer.from_crs(6372, 4326, always_xy=True)
    (lo1, la1), (lo2, la2) = to_ll.transform(X0 + a[0], Y0 + a[1]), to_ll.transform(X0 + b[0], Y0 + b[1])
    return GEOD.inv(lo1, la1, lo2, la2)[2]


# --------------------------------------------------------------------------- shortest paths


def test_fastest_path_is_not_the_shortest_and_metres_follow_it():
    # 0-1-2 takes 20 min over 20 km; the direct 0-2 is 5 km but 30 min
    net = _net([(0, 1, 10, 10_000), (1, 2, 10, 10_000), (0, 2, 30, 5_000)], 3)
    p = shortest_paths(net, [0])
    assert p.minutes.tolist() == [0, 10, 20]
    assert p.metres.tolist() == [0, 10_000, 20_000]
    assert p.seed.tolist() == [0, 0, 0]


def test_seed_offsets_and_groups_pick_the_nearest_origin():
    # a path 0-1-2-3-4, 5 min per edge; origin A enters at node 0 after 2 min, origin B at node 4 after 9
    net = _net([(i, i + 1, 5, 4000) for i in range(4)], 5)
    p = shortest_paths(net, [0, 4], seed_minutes=[2, 9], seed_metres=[100, 700], seed_group=[7, 8])
    assert p.minutes.tolist() == [2, 7, 12, 14, 9]
    assert p.seed.tolist() == [7, 7, 7, 8, 8]
    assert p.metres.tolist() == [100, 4100, 8100, 4700, 700]


def test_several_seeds_of_one_group_count_as_one_origin():
    net = _net([(i, i + 1, 1, 1000) for i in range(5)], 6)
    p = shortest_paths(net, [0, 5], seed_minutes=[0, 3], seed_group=[0, 0])
    assert p.minutes.tolist() == [0, 1, 2, 3, 4, 3]
    assert set(p.seed) == {0}


def test_disconnected_piece_is_unreachable():
    net = _net([(0, 1, 4, 4000), (2, 3, 1, 1000)], 4)
    p = shortest_paths(net, [0])
    assert p.minutes[:2].tolist() == [0, 4]
    assert np.isinf(p.minutes[2:]).all() and np.isinf(p.metres[2:]).all()
    assert p.seed.tolist() == [0, 0, -1, -1]


def test_limit_stops_the_search():
    net = _net([(i, i + 1, 10, 1000) for i in range(4)], 5)
    p = shortest_paths(net, [0], limit=25)
    assert p.minutes[:3].tolist() == [0, 10, 20]
    assert np.isinf(p.minutes[3:]).all()


def test_directed_times_run_toward_the_seed_by_default():
    # one-way 0 -> 1 (2 min) and a slow way back 1 -> 0 (9 min)
    net = _net([(0, 1, 2, 1000), (1, 0, 9, 3000)], 2, directed=True)
    toward = shortest_paths(net, [0])  # from node 1 to the seed at 0: only the slow arc
    away = shortest_paths(net, [0], toward=False)
    assert toward.minutes.tolist() == [0, 9]
    assert toward.metres.tolist() == [0, 3000]
    assert away.minutes.tolist() == [0, 2]


def test_cost_matrix_rows_match_single_source_paths():
    rng = np.random.default_rng(3)
    edges = [(i, j, float(rng.integers(1, 20)), 1000.0) for i in range(8) for j in range(i + 1, 8) if rng.random() < 0.4]
    net = _net(edges, 8)
    m = cost_matrix(net, [0, 3, 5])
    for row, s in zip(m, [0, 3, 5]):
        np.testing.assert_allclose(row, shortest_paths(net, [s]).minutes, rtol=0, atol=1e-6)
    assert cost_matrix(net, [0], targets=[2, 4]).shape == (1, 2)


def test_shortest_paths_validates_seeds():
    net = _net([(0, 1, 1, 1)], 2)
    with pytest.raises(ConfigError, match="seed nodes must be in 0..1"):
        shortest_paths(net, [5])
    with pytest.raises(ConfigError, match="at least one seed"):
        shortest_paths(net, [])
    with pytest.raises(ConfigError, match="finite and >= 0"):
        shortest_paths(net, [0], seed_minutes=[-1])


def test_nearest_nodes_handles_missing_coordinates():
    net = _net([(0, 1, 1, 1000)], 2)
    d, i = nearest_nodes(net, [[X0 + 900, Y0 + 0.0], [np.nan, np.nan]], k=1)
    assert i[:, 0].tolist() == [1, 2]  # index n_nodes = no node
    assert d[0, 0] == pytest.approx(100) and np.isinf(d[1, 0])


# --------------------------------------------------------------------------- lines


def test_lines_meeting_at_a_shared_vertex_connect_with_geodesic_lengths():
    roads = _lines([(0, 0), (6000, 0)], [(6000, 0), (6000, 6000)], types=["Major Highway", "Secondary Highway"])
    net = network_from_lines(roads, {"Major Highway": 90.0, "Secondary Highway": 60.0}, segment_m=None)
    assert (net.n_nodes, net.n_edges, net.info["componentes"]) == (3, 2, 1)
    m1, m2 = _geodesic_m((0, 0), (6000, 0)), _geodesic_m((6000, 0), (6000, 6000))
    assert sorted(net.metres) == pytest.approx(sorted([m1, m2]), rel=1e-9)
    assert sorted(net.minutes) == pytest.approx(sorted([m1 / 1000 / 90 * 60, m2 / 1000 / 60 * 60]), rel=1e-9)
    p = shortest_paths(net, [int(np.argmin(np.hypot(net.xy[:, 0] - X0, net.xy[:, 1] - Y0)))])
    assert p.minutes.max() == pytest.approx(m1 / 1500 + m2 / 1000, rel=1e-9)


def test_unknown_types_use_the_default_speed_and_multilines_are_split():
    roads = gpd.GeoDataFrame(
        {"type": [None]},
        geometry=[MultiLineString([[(X0, Y0), (X0 + 3000, Y0)], [(X0 + 3000, Y0), (X0 + 3000, Y0 + 3000)]])],
        crs=6372,
    )
    net = network_from_lines(roads, {"Road": 100.0}, default_speed_kmh=45.0, segment_m=None)
    assert net.info["lineas"] == 2 and net.info["componentes"] == 1
    assert net.minutes == pytest.approx(net.metres / 1000 / 45 * 60, rel=1e-12)


def test_t_junction_without_a_vertex_gets_one():
    # the second road ends on the middle of the first one's only segment
    roads = _lines([(0, 0), (10_000, 0)], [(4000, 0), (4000, 5000)])
    net = network_from_lines(roads, {"Road": 60.0}, snap_tolerance_m=100, segment_m=None)
    assert net.n_nodes == 4 and net.n_edges == 3 and net.info["componentes"] == 1
    assert net.info["conectores"] == 0  # joined by the inserted vertex, no connector edge


def test_gap_within_tolerance_gets_a_connector_and_beyond_it_stays_apart():
    roads = _lines([(0, 0), (10_000, 0)], [(5000, 600), (5000, 8000)])
    joined = network_from_lines(roads, {"Road": 60.0}, snap_tolerance_m=1000, segment_m=None)
    apart = network_from_lines(roads, {"Road": 60.0}, snap_tolerance_m=500, segment_m=None)
    assert joined.info["componentes"] == 1 and joined.info["conectores"] == 1
    assert joined.info["conectores_km"] == pytest.approx(0.6, abs=0.01)
    assert apart.info["componentes"] == 2 and apart.info["conectores"] == 0
    assert apart.info["componente_mayor_pct_km"] == pytest.approx(100 * 10 / 17.4, abs=0.2)


def test_piece_whose_ends_only_touch_each_other_is_bridged_at_its_nearest_node():
    # a "V" whose apex passes 800 m from the main road; its own ends are 3 km away from everything
    roads = _lines([(0, 0), (10_000, 0)], [(2000, 3000), (5000, 800)], [(5000, 800), (8000, 3000)])
    net = network_from_lines(roads, {"Road": 60.0}, snap_tolerance_m=1000, segment_m=500)
    assert net.info["componentes"] == 1
    assert net.info["puentes"] == 1 and net.info["puentes_km"] == pytest.approx(0.8, abs=0.01)
    far = network_from_lines(roads, {"Road": 60.0}, snap_tolerance_m=700, segment_m=500)
    assert far.info["componentes"] == 2 and far.info["puentes"] == 0


def test_densify_keeps_length_and_caps_edges():
    roads = _lines([(0, 0), (10_000, 0), (10_000, 4500)])
    coarse = network_from_lines(roads, {"Road": 60.0}, segment_m=None)
    dense = network_from_lines(roads, {"Road": 60.0}, segment_m=1000)
    # 1000 m in EPSG:6372 is ~1004.6 m on the ground at León's latitude (scale factor 0.9954)
    assert dense.n_nodes == 11 + 5 and dense.metres.max() < 1000 * 1.005
    assert dense.metres.sum() == pytest.approx(coarse.metres.sum(), rel=1e-6)


def test_vertices_closer_than_merge_distance_are_one_node():
    roads = _lines([(0, 0), (5000, 0)], [(5010, 0), (9000, 0)])
    net = network_from_lines(roads, {"Road": 60.0}, merge_m=25, snap_tolerance_m=0, segment_m=None)
    assert net.n_nodes == 3 and net.info["componentes"] == 1


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"speeds_kmh": {"Road": 0}}, ConfigError, "positive km/h"),
        ({"snap_tolerance_m": -1}, ConfigError, "snap_tolerance_m was -1"),
        ({"segment_m": 0}, ConfigError, "segment_m was 0"),
        ({"type_column": "clase"}, DataError, 'no "clase" column'),
    ],
)
def test_network_from_lines_validates(kwargs, error, match):
    with pytest.raises(error, match=match):
        network_from_lines(_lines([(0, 0), (1000, 0)]), **kwargs)


def test_network_from_lines_refuses_frames_without_crs():
    roads = gpd.GeoDataFrame({"type": ["Road"]}, geometry=[LineString([(0, 0), (1, 1)])])
    with pytest.raises(DataError, match="no CRS"):
        network_from_lines(roads)


def test_network_from_lines_refuses_no_lines():
    roads = gpd.GeoDataFrame({"type": ["Road"]}, geometry=[LineString()], crs=6372)
    with pytest.raises(DataError, match="no usable line"):
        network_from_lines(roads)


# --------------------------------------------------------------------------- OSM


def test_network_from_osm_xml_keeps_regional_classes_and_one_ways():
    net = network_from_osm(xml=FIXTURES / "tiny_leon.osm", speeds_kmh={"secondary": 50.0, "trunk_link": 40.0})
    assert net.directed and net.n_nodes == 4  # the residential street and its dead end are dropped
    assert net.n_edges == 5  # motorway 1->2->3 one way, secondary 3<->4, trunk link 4->1
    import osmnx as ox

    motorway = ox.distance.great_circle(21.10, -101.70, 21.10, -101.65)  # osmnx measures on a sphere
    secondary = ox.distance.great_circle(21.10, -101.60, 21.05, -101.60)
    assert sorted(net.minutes)[:2] == pytest.approx([motorway / 1000 / 100 * 60] * 2, rel=1e-6)  # maxspeed tag
    assert sorted(net.metres)[2] == pytest.approx(secondary, rel=1e-6)
    assert sorted(net.minutes)[2] == pytest.approx(secondary / 1000 / 50 * 60, rel=1e-6)  # configured fallback
    lonlat = {tuple(np.round(p, 4)) for p in net.lonlat}
    start = [i for i, p in enumerate(net.lonlat) if tuple(np.round(p, 4)) == (-101.7, 21.1)][0]
    end = [i for i, p in enumerate(net.lonlat) if tuple(np.round(p, 4)) == (-101.6, 21.1)][0]
    assert (-101.65, 21.15) not in lonlat
    # toward node 1 from node 3: the motorway runs the other way, so 3 -> 4 -> 1 (secondary + link)
    p = shortest_paths(net, [start])
    assert p.minutes[end] == pytest.approx(secondary / 1000 / 50 * 60 + sorted(net.minutes)[-1], rel=1e-6)
    away = shortest_paths(net, [start], toward=False)
    assert away.minutes[end] == pytest.approx(2 * motorway / 1000 / 100 * 60, rel=1e-6)


def test_network_from_osm_needs_exactly_one_source(tmp_path):
    with pytest.raises(ConfigError, match="exactly one of polygon"):
        network_from_osm()
    with pytest.raises(DataError, match="not found"):
        network_from_osm(xml=tmp_path / "none.osm")


# --------------------------------------------------------------------------- cache


def test_network_for_region_caches_and_rebuilds_when_settings_change(tmp_path, leon):
    roads = _lines([(0, 0), (20_000, 0)], [(20_000, 0), (20_000, 9000)]).to_crs(4326)
    path = tmp_path / "roads.geojson"
    roads.to_file(path)
    region = dataclasses.replace(leon, files=dataclasses.replace(leon.files, roads=str(path)))
    cache = tmp_path / "cache"
    first = network_for_region(region, cache_dir=cache)
    files = sorted(cache.glob("network_*.npz"))
    assert len(files) == 1 and "cache" not in first.info
    again = network_for_region(region, cache_dir=cache)
    assert again.info["cache"] == str(files[0])
    np.testing.assert_array_equal(again.xy, first.xy)
    np.testing.assert_array_equal(again.minutes, first.minutes)
    assert again.info["componentes"] == first.info["componentes"] == 1
    faster = dataclasses.replace(region, catchment=dataclasses.replace(region.catchment, default_speed_kmh=120.0,
                                                                        speeds_kmh={}))
    quick = network_for_region(faster, cache_dir=cache)
    assert len(list(cache.glob("network_*.npz"))) == 2
    assert quick.minutes.sum() == pytest.approx(first.metres.sum() / 1000 / 120 * 60, rel=1e-9)


def test_network_for_region_names_a_missing_roads_file(tmp_path, leon):
    region = dataclasses.replace(leon, files=dataclasses.replace(leon.files, roads=str(tmp_path / "nope.geojson")))
    with pytest.raises(DataError, match="nope.geojson: road network file not found"):
        network_for_region(region, cache_dir=tmp_path)
