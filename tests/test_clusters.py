"""DBSCAN/HDBSCAN clusters, Getis-Ord Gi* hot spots with FDR, and zone concentration: hand-built
patterns with known answers and invariants."""

from __future__ import annotations

import math

import esda
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from atlas._errors import ConfigError, DataError
from atlas.clusters import (
    HOTSPOT_CLASSES,
    benjamini_hochberg,
    cluster_classes,
    cluster_polygons,
    dbscan_labels,
    getis_ord_hotspots,
    hdbscan_labels,
    hex_weights,
    zone_concentration,
)
from atlas.hexagons import hex_counts

CRS = "EPSG:6372"
X0, Y0 = gpd.GeoSeries([Point(-101.6823, 21.1221)], crs=4326).to_crs(CRS).iloc[0].coords[0]
CENTRE = h3.latlng_to_cell(21.1221, -101.6823, 8)


def _blobs(seed: int = 0) -> gpd.GeoDataFrame:
    """Two blobs 3 km apart (60 and 40 units, sd 80 m) and 5 isolated units over 4 km from both.

    (A unit between the blobs, nearer to one than the blobs are to each other, would be a weak
    HDBSCAN member of that blob: HDBSCAN labels every point of a selected cluster's subtree.)"""
    rng = np.random.default_rng(seed)
    a = np.column_stack([X0 + rng.normal(0, 80, 60), Y0 + rng.normal(0, 80, 60)])
    b = np.column_stack([X0 + 3000 + rng.normal(0, 80, 40), Y0 + rng.normal(0, 80, 40)])
    lone = np.array([[X0 + 1500, Y0 + 4000 + 900 * i] for i in range(5)])
    xy = np.vstack([a, b, lone])
    clase = ["621211"] * 40 + ["621111"] * 20 + ["621113"] * 40 + ["621511"] * 5
    gdf = gpd.GeoDataFrame({"clase": clase, "nombre_act": [f"clase {c}" for c in clase]},
                           geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    return gdf.to_crs(4326).set_index(pd.RangeIndex(100, 205))


def test_two_separated_blobs_are_two_dbscan_clusters():
    pts = _blobs()
    before = pts.copy()
    lab = dbscan_labels(pts, crs=CRS, eps_m=150.0, min_points=5)
    assert lab.name == "cluster" and lab.index.equals(pts.index)
    assert sorted(lab.unique()) == [-1, 1, 2]
    assert (lab.iloc[:60] == 1).mean() > 0.9 and (lab.iloc[60:100] == 2).mean() > 0.9  # larger blob is #1
    assert (lab.iloc[100:] == -1).all()
    pd.testing.assert_frame_equal(pd.DataFrame(pts), pd.DataFrame(before))


def test_two_separated_blobs_are_two_hdbscan_clusters():
    lab = hdbscan_labels(_blobs(), crs=CRS, min_cluster_size=10)
    assert sorted(lab.unique()) == [-1, 1, 2]
    assert (lab.iloc[:60] == 1).mean() > 0.9 and (lab.iloc[60:100] == 2).mean() > 0.9
    assert (lab.iloc[100:] == -1).all()


def test_cluster_parameters_are_validated():
    pts = _blobs()
    with pytest.raises(ConfigError, match="eps_m was 0"):
        dbscan_labels(pts, crs=CRS, eps_m=0, min_points=5)
    with pytest.raises(ConfigError, match="min_points was 0"):
        dbscan_labels(pts, crs=CRS, eps_m=10.0, min_points=0)
    with pytest.raises(ConfigError, match="min_cluster_size was 1"):
        hdbscan_labels(pts, crs=CRS, min_cluster_size=1)
    with pytest.raises(DataError, match="no CRS"):
        dbscan_labels(gpd.GeoDataFrame(geometry=[Point(0, 0)]), crs=CRS, eps_m=10.0, min_points=1)
    assert (hdbscan_labels(pts.iloc[:3], crs=CRS, min_cluster_size=5) == -1).all()


def test_cluster_polygons_report_members_classes_hospitals_and_zone_share():
    pts = _blobs()
    lab = dbscan_labels(pts, crs=CRS, eps_m=150.0, min_points=5)
    hospitals = gpd.GeoDataFrame(
        {"nom_estab": ["HOSPITAL <B>", "HOSPITAL LEJANO"]},
        geometry=gpd.GeoSeries([Point(X0, Y0), Point(X0 + 9000, Y0)], crs=CRS).to_crs(4326),
        crs=4326,
    )
    # the zone: a 2 km square around blob 1 only
    zone = gpd.GeoSeries([box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000)], crs=CRS).to_crs(4326).iloc[0]
    poly = cluster_polygons(pts, lab, crs=CRS, hospitals=hospitals, zone=zone, ratio=0.3, buffer_m=50.0)
    assert poly["cluster"].tolist() == [1, 2]
    assert poly["unidades"].tolist() == [int((lab == 1).sum()), int((lab == 2).sum())]
    assert poly.crs.to_epsg() == 4326 and poly.is_valid.all()
    for k, geom in zip(poly["cluster"], poly.geometry):
        assert pts[lab == k].within(geom).all()
    assert poly["hospitales"].tolist() == ["HOSPITAL <B>", ""] and poly["n_hospitales"].tolist() == [1, 0]
    assert poly["en_ciudad_historica"].tolist() == [1.0, 0.0]
    assert poly["clases"].iloc[1].startswith("clase 621113 (")
    assert (poly["area_km2"] > 0).all()
    # without a zone polygon the points' en_ciudad_historica column is used, else NaN
    flagged = pts.assign(en_ciudad_historica=[True] * 30 + [False] * 75)
    share = cluster_polygons(flagged, lab, crs=CRS)["en_ciudad_historica"].iloc[0]
    assert share == pytest.approx(lab.iloc[:30].eq(1).sum() / (lab == 1).sum())
    assert math.isnan(cluster_polygons(pts, lab, crs=CRS)["en_ciudad_historica"].iloc[0])


def test_cluster_classes_counts_by_hand():
    pts = _blobs()
    lab = pd.Series([1] * 60 + [2] * 40 + [-1] * 5, index=pts.index)
    t = cluster_classes(pts, lab)
    assert t[["cluster", "clase", "unidades"]].values.tolist() == [[1, "621211", 40], [1, "621111", 20], [2, "621113", 40]]


# ------------------------------------------------------------------------------------------------
# hot spots
# ------------------------------------------------------------------------------------------------


def test_hex_weights_are_hexagon_contiguity():
    cells = list(h3.grid_disk(CENTRE, 2))
    w = hex_weights(cells)
    i = cells.index(CENTRE)
    assert sorted(cells[j] for j in w.neighbors[i]) == sorted(h3.grid_ring(CENTRE, 1))
    assert w.cardinalities[i] == 6
    assert min(w.cardinalities.values()) == 3  # corners of the outer ring
    assert all(i in w.neighbors[j] for i in w.neighbors for j in w.neighbors[i])  # symmetric
    assert len(hex_weights(cells, ring=2).neighbors[i]) == 18


def _grid(counts: np.ndarray, k: int = 10) -> gpd.GeoDataFrame:
    cells = sorted(h3.grid_disk(CENTRE, k))
    return gpd.GeoDataFrame({"n": counts}, index=pd.Index(cells, name="h3"),
                            geometry=[None] * len(cells), crs=4326)


def test_complete_spatial_randomness_has_no_hot_spots_after_fdr():
    n_cells = len(h3.grid_disk(CENTRE, 10))  # 331 hexagons
    clean = 0
    for seed in range(5):
        counts = np.random.default_rng(seed).poisson(4.0, n_cells)
        hs = getis_ord_hotspots(_grid(counts), permutations=999, seed=seed)
        if (hs["confianza"] < 95).all():
            clean += 1
    assert clean >= 4  # "most seeds": each run may give at most a handful of false discoveries


def test_a_dense_block_is_hot_and_nothing_far_from_it():
    cells = sorted(h3.grid_disk(CENTRE, 10))
    counts = np.random.default_rng(7).poisson(1.0, len(cells))
    block = set(h3.grid_disk(CENTRE, 1))
    counts = np.where([c in block for c in cells], 20, counts)
    hs = getis_ord_hotspots(_grid(counts), permutations=999, seed=1)
    assert hs.loc[CENTRE, "clase"].startswith("caliente")
    assert hs.loc[list(block), "gi_z"].gt(0).all()
    # with 999 permutations the smallest two-sided p is 0.002, and the FDR at 95 % over 331
    # hexagons needs 14 such p-values: a 7-hexagon block reaches 90 %; 9,999 permutations resolve it
    assert hs.attrs["p_minimo"] == pytest.approx(0.002)
    fine = getis_ord_hotspots(_grid(counts), permutations=9999, seed=1)
    assert fine.loc[CENTRE, "clase"].startswith("caliente") and fine.loc[CENTRE, "confianza"] >= 95
    far = [c for c in cells if h3.grid_distance(CENTRE, c) >= 4]
    assert not hs.loc[far, "clase"].str.startswith("caliente").any()
    assert set(hs["clase"]) <= set(HOTSPOT_CLASSES)
    assert hs.attrs["permutaciones"] == 999 and "anillo 1" in hs.attrs["pesos"]


def test_hotspots_keep_the_input_and_handle_constant_counts():
    g = _grid(np.zeros(331, dtype=int))
    hs = getis_ord_hotspots(g)
    assert (hs["clase"] == "no significativo").all() and "gi_z" not in g.columns
    with pytest.raises(DataError, match="H3 cell id"):
        getis_ord_hotspots(g.reset_index(drop=True))
    with pytest.raises(ConfigError, match="permutations was 10"):
        getis_ord_hotspots(g, permutations=10)


def test_fdr_is_stricter_than_raw_p_values():
    cells = sorted(h3.grid_disk(CENTRE, 10))
    counts = np.random.default_rng(2).poisson(3.0, len(cells))
    raw = getis_ord_hotspots(_grid(counts), fdr=False, seed=3)
    fdr = getis_ord_hotspots(_grid(counts), fdr=True, seed=3)
    assert (fdr["confianza"] <= raw["confianza"]).all()
    assert (raw["confianza"] > 0).sum() > 0  # raw p-values at 90% flag ~10% of a random map


def test_benjamini_hochberg_by_hand():
    assert benjamini_hochberg([0.001, 0.02, 0.04, 0.5], 0.05).tolist() == [True, True, False, False]
    # the step-up: 0.03 ≤ 3·0.05/4 rescues 0.02 and 0.03 even though 0.02 > 2·0.05/4·… is not needed
    assert benjamini_hochberg([0.03, 0.02, 0.5, 0.001], 0.05).tolist() == [True, True, False, True]
    assert not benjamini_hochberg([0.2, 0.3], 0.05).any()
    with pytest.raises(ConfigError, match="alpha was 5"):
        benjamini_hochberg([0.1], 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0005, 1.0), min_size=1, max_size=60), st.sampled_from([0.01, 0.05, 0.1]))
def test_benjamini_hochberg_agrees_with_esda_when_something_passes(p, alpha):
    mask = benjamini_hochberg(p, alpha)
    p = np.asarray(p)
    if mask.any():
        # esda.fdr returns the BH threshold with a strict comparison; the rejected set is the same
        # as p ≤ the largest rejected p-value
        assert mask.tolist() == (p <= p[mask].max()).tolist()
        assert p[mask].max() <= esda.fdr(p, alpha) + 1e-12 or np.isclose(p[mask].max(), esda.fdr(p, alpha))
    # never more discoveries than raw testing, never fewer than Bonferroni
    assert mask.sum() <= (p <= alpha).sum()
    assert mask.sum() >= (p <= alpha / len(p)).sum()


# ------------------------------------------------------------------------------------------------
# zone concentration
# ------------------------------------------------------------------------------------------------


def test_zone_concentration_by_hand():
    # city: a 2 × 2 km square; zone: its 1 × 1 km south-west quarter
    city = gpd.GeoSeries([box(X0, Y0, X0 + 2000, Y0 + 2000)], crs=CRS).to_crs(4326).iloc[0]
    zone = gpd.GeoSeries([box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=CRS).to_crs(4326).iloc[0]
    inside = [(X0 + 100 + 8 * i, Y0 + 500) for i in range(10)]
    outside = [(X0 + 1500, Y0 + 100 + 8 * i) for i in range(10)]
    units = gpd.GeoDataFrame({"clase": ["621111"] * 20},
                             geometry=gpd.points_from_xy(*zip(*(inside + outside))), crs=CRS).to_crs(4326)
    # all establishments: the 20 units plus 40 others in the zone and 140 outside it
    others_in = [(X0 + 600, Y0 + 100 + 5 * i) for i in range(40)]
    others_out = [(X0 + 1800, Y0 + 100 + 5 * i) for i in range(140)]
    est = pd.concat([units, gpd.GeoDataFrame({"clase": [""] * 180},
                     geometry=gpd.points_from_xy(*zip(*(others_in + others_out))), crs=CRS).to_crs(4326)], ignore_index=True)
    z = zone_concentration(units, est, zone, city, crs=CRS)
    assert (z["unidades_dentro"], z["unidades_fuera"], z["participacion_dentro"]) == (10, 10, 0.5)
    # areas are true ground areas (equal-area CRS): a 1 km square drawn in the conformal EPSG:6372 is not
    # 1 km² on the ground; the geodesic area on the ellipsoid is the independent reference
    geod = pyproj.Geod(ellps="GRS80")
    a_zone, a_city = (abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in (zone, city))
    assert a_zone == pytest.approx(1.0, rel=0.02) and a_city == pytest.approx(4.0, rel=0.02)
    assert z["area_zona_km2"] == pytest.approx(a_zone, rel=1e-4) and z["area_ciudad_km2"] == pytest.approx(a_city, rel=1e-4)
    assert z["densidad_zona_km2"] == pytest.approx(10 / a_zone, rel=1e-4) and z["densidad_ciudad_km2"] == pytest.approx(20 / a_city, rel=1e-4)
    assert z["razon_densidad"] == pytest.approx(2.0, rel=1e-4)
    assert z["lq_zona"] == pytest.approx((10 / 50) / (20 / 200))
    with pytest.raises(DataError, match="zone polygon is empty"):
        zone_concentration(units, est, Point(0, 0).buffer(0), city, crs=CRS)


# ------------------------------------------------------------------------------------------------
# maps of clusters and hot spots
# ------------------------------------------------------------------------------------------------


def test_cluster_and_hotspot_maps_escape_data_and_show_legends(leon):
    import folium

    from atlas.maps.densidad import HOTSPOT_COLORS, add_clusters, add_hotspots

    pts = _blobs()
    lab = dbscan_labels(pts, crs=CRS, eps_m=150.0, min_points=5)
    hospitals = gpd.GeoDataFrame({"nom_estab": ["<script>alert(1)</script> HOSPITAL"]},
                                 geometry=gpd.GeoSeries([Point(X0, Y0)], crs=CRS).to_crs(4326), crs=4326)
    poly = cluster_polygons(pts, lab, crs=CRS, hospitals=hospitals)
    m = folium.Map(location=list(leon.center), zoom_start=12, tiles=None)
    add_clusters(m, poly)
    cells = sorted(h3.grid_disk(CENTRE, 3))
    counts = np.where([c == CENTRE for c in cells], 30, 1)
    hexes = hex_counts(gpd.GeoDataFrame(geometry=[Point(h3.cell_to_latlng(c)[::-1]) for c in cells], crs=4326), 8, cells=cells)
    hexes["n"] = counts
    add_hotspots(m, getis_ord_hotspots(hexes))
    html = m.get_root().render()
    assert "<script>alert(1)" not in html  # the name is escaped, then JSON-escaped
    assert "\\u0026lt;script\\u0026gt;alert(1)" in html or "&lt;script&gt;alert(1)" in html
    assert "Cl\\u00faster 1" in html and "#1: 60 unidades" in html  # popup (JSON) and legend (HTML)
    assert "Gi* con FDR (confianza)" in html and HOTSPOT_COLORS["caliente 99%"] in html
