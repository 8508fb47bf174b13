"""Kernel density, H3 hexagon counts, rates and location quotients: hand-built cases with exact
answers, invariants, and the León figures."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from atlas._errors import ConfigError, DataError
from atlas.density import kde_contours, kde_grid, nice_levels, points_xy, select_bandwidth
from atlas.hexagons import cells_polygon, footprint_cells, hex_cells, hex_counts
from atlas.quotients import class_lq, hex_lq, is_health, location_quotient, national_lq, rates_per_100k

CRS = "EPSG:6372"
# a point in León's centre in EPSG:6372 metres
X0, Y0 = gpd.GeoSeries([Point(-101.6823, 21.1221)], crs=4326).to_crs(CRS).iloc[0].coords[0]


def _metric_points(xy, **cols) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(cols or None, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS).to_crs(4326)


# ------------------------------------------------------------------------------------------------
# kernel density
# ------------------------------------------------------------------------------------------------


def test_single_point_peak_is_the_gaussian_height_per_km2():
    h = 200.0
    pts = _metric_points([(X0, Y0)])
    # bounds chosen so that the point falls exactly on a cell centre
    bounds = (X0 - 1005, Y0 - 1005, X0 + 1005, Y0 + 1005)
    g = kde_grid(pts, crs=CRS, bandwidth_m=h, cell_m=10.0, bounds=bounds)
    expected = 1 / (2 * math.pi * h * h) * 1e6  # 3.979 units per km²
    assert g.max() == pytest.approx(expected, rel=2e-3)
    iy, ix = np.unravel_index(np.argmax(g.values), g.shape)
    assert (g.x[ix], g.y[iy]) == pytest.approx((X0, Y0), abs=0.5)
    assert g.bandwidth_rule == "fijo" and g.n_points == 1


def test_binned_kde_matches_the_exact_sum_of_kernels():
    rng = np.random.default_rng(3)
    xy = np.column_stack([X0 + rng.normal(0, 800, 300), Y0 + rng.normal(0, 500, 300)])
    pts = _metric_points(xy)
    h = 250.0
    g = kde_grid(pts, crs=CRS, bandwidth_m=h, cell_m=25.0)
    # exact Gaussian KDE at a sample of grid nodes (use the projected coordinates actually used)
    back = points_xy(pts, CRS)
    rows = np.linspace(0, g.shape[0] - 1, 15).astype(int)
    cols = np.linspace(0, g.shape[1] - 1, 15).astype(int)
    gx, gy = np.meshgrid(g.x[cols], g.y[rows])
    d2 = (gx[..., None] - back[:, 0]) ** 2 + (gy[..., None] - back[:, 1]) ** 2
    exact = np.exp(-d2 / (2 * h * h)).sum(-1) / (2 * math.pi * h * h) * 1e6
    approx = g.values[np.ix_(rows, cols)]
    big = exact > 0.05 * exact.max()
    assert np.abs(approx[big] / exact[big] - 1).max() < 0.01
    assert np.abs(approx - exact).max() < 0.01 * exact.max()


def test_density_does_not_depend_on_the_cell_size():
    rng = np.random.default_rng(1)
    pts = _metric_points(np.column_stack([X0 + rng.normal(0, 1000, 500), Y0 + rng.normal(0, 1000, 500)]))
    bounds = (X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000)
    fine = kde_grid(pts, crs=CRS, bandwidth_m=400.0, cell_m=50.0, bounds=bounds)
    coarse = kde_grid(pts, crs=CRS, bandwidth_m=400.0, cell_m=100.0, bounds=bounds)
    # coarse cell centres sit at fine cells 1, 3, 5 …: interpolate the fine grid there
    sub = (fine.values[0::2, 0::2] + fine.values[1::2, 0::2] + fine.values[0::2, 1::2] + fine.values[1::2, 1::2]) / 4
    assert coarse.values.shape == sub.shape
    assert np.abs(coarse.values - sub).max() < 0.02 * coarse.max()
    assert coarse.total() == pytest.approx(fine.total(), rel=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5000, 5000), st.floats(-5000, 5000)), min_size=1, max_size=40),
    st.floats(50, 800),
    st.sampled_from([25.0, 60.0, 100.0]),
)
def test_surface_integrates_to_the_number_of_points(offsets, bandwidth, cell):
    pts = _metric_points([(X0 + dx, Y0 + dy) for dx, dy in offsets])
    g = kde_grid(pts, crs=CRS, bandwidth_m=bandwidth, cell_m=cell)
    assert g.total() == pytest.approx(len(offsets), rel=1e-6)
    assert (g.values >= 0).all()


def test_weights_scale_the_surface_and_inputs_are_not_mutated():
    pts = _metric_points([(X0, Y0), (X0 + 500, Y0)], empleo=[3.0, 1.0])
    before = pts.copy()
    g = kde_grid(pts, crs=CRS, bandwidth_m=100.0, cell_m=20.0, weights="empleo")
    assert g.total() == pytest.approx(4.0, rel=1e-6)
    pd.testing.assert_frame_equal(pd.DataFrame(pts), pd.DataFrame(before))


def test_bandwidth_rules_by_hand():
    # four points on a square of side 2 km around the centre: sd per axis = sqrt(4/3) km
    pts = _metric_points([(X0 - 1000, Y0 - 1000), (X0 + 1000, Y0 - 1000), (X0 - 1000, Y0 + 1000), (X0 + 1000, Y0 + 1000)])
    xy = points_xy(pts, CRS)
    sd = np.sqrt(np.mean(xy.var(axis=0, ddof=1)))
    assert select_bandwidth(pts, "scott", CRS) == pytest.approx(sd * 4 ** (-1 / 6))
    assert select_bandwidth(pts, "silverman", CRS) <= select_bandwidth(pts, "scott", CRS) + 1e-9
    g = kde_grid(pts, crs=CRS, bandwidth_m="scott", cell_m=100.0)
    assert g.bandwidth_rule == "scott" and g.bandwidth_m == pytest.approx(sd * 4 ** (-1 / 6))


def test_kde_rejects_bad_input_naming_the_value():
    pts = _metric_points([(X0, Y0), (X0 + 10, Y0)])
    with pytest.raises(DataError, match="no CRS"):
        kde_grid(gpd.GeoDataFrame(geometry=[Point(0, 0)]), crs=CRS, bandwidth_m=100.0, cell_m=10.0)
    with pytest.raises(ConfigError, match="-5"):
        kde_grid(pts, crs=CRS, bandwidth_m=-5.0, cell_m=10.0)
    with pytest.raises(ConfigError, match="gauss"):
        kde_grid(pts, crs=CRS, bandwidth_m="gauss", cell_m=10.0)
    with pytest.raises(ConfigError, match="cell_m was 0"):
        kde_grid(pts, crs=CRS, bandwidth_m=100.0, cell_m=0)
    with pytest.raises(ConfigError, match="at most 1,000"):
        kde_grid(pts, crs=CRS, bandwidth_m=100.0, cell_m=1.0, max_cells=1000)
    with pytest.raises(DataError, match="Polygon"):
        kde_grid(gpd.GeoDataFrame(geometry=[Point(0, 0).buffer(1)], crs=4326), crs=CRS, bandwidth_m=100.0, cell_m=10.0)


def test_nice_levels():
    assert nice_levels(730.0, 5) == [20.0, 50.0, 100.0, 200.0, 500.0]
    assert nice_levels(3.0, 3) == [0.5, 1.0, 2.0]
    assert nice_levels(0.0) == []


def test_contours_of_one_gaussian_are_discs_of_the_right_radius():
    h = 300.0
    pts = _metric_points([(X0, Y0)] * 100)
    g = kde_grid(pts, crs=CRS, bandwidth_m=h, cell_m=10.0)
    peak = 100 / (2 * math.pi * h * h) * 1e6  # 176.8 per km²
    bands = kde_contours(g, [10.0, 50.0, 100.0])
    assert bands["etiqueta"].tolist() == ["10–50 por km²", "50–100 por km²", "≥ 100 por km²"]
    assert bands["hasta"].tolist()[:2] == [50.0, 100.0] and math.isinf(bands["hasta"].iloc[-1])
    assert bands.crs.to_epsg() == 4326 and bands.is_valid.all()
    areas = bands.to_crs(CRS).area.to_numpy()
    for i, level in enumerate([10.0, 50.0, 100.0]):
        r = h * math.sqrt(2 * math.log(peak / level))  # density(r) = level
        assert areas[i:].sum() == pytest.approx(math.pi * r * r, rel=0.01)
    # the band 10–50 is a ring: its polygon has a hole
    assert len(bands.to_crs(CRS).geometry.iloc[0].interiors) == 1


def test_contours_reject_unsorted_levels():
    g = kde_grid(_metric_points([(X0, Y0)]), crs=CRS, bandwidth_m=100.0, cell_m=20.0)
    with pytest.raises(ConfigError, match="increasing"):
        kde_contours(g, [5.0, 1.0])


# ------------------------------------------------------------------------------------------------
# H3 hexagons
# ------------------------------------------------------------------------------------------------


def _cell_points(cells_and_counts: dict[str, int], **extra) -> gpd.GeoDataFrame:
    rows = []
    for cell, n in cells_and_counts.items():
        lat, lon = h3.cell_to_latlng(cell)
        rows += [Point(lon, lat)] * n
    return gpd.GeoDataFrame(extra or None, geometry=rows, crs=4326)


def test_hex_counts_by_column_and_complete_grid():
    c0 = h3.latlng_to_cell(21.1221, -101.6823, 8)
    ring = sorted(h3.grid_ring(c0, 1))
    pts = _cell_points({c0: 3, ring[0]: 2}, sector=["privado", "privado", "público", "privado", "privado"])
    hx = hex_counts(pts, 8, by="sector", cells=[c0, *ring])
    assert len(hx) == 7 and hx.index.name == "h3"
    assert hx.loc[c0, ["n", "privado", "público"]].tolist() == [3, 2, 1]
    assert hx.loc[ring[0], "n"] == 2 and hx.loc[ring[1:], "n"].eq(0).all()
    assert hx.loc[c0, "area_km2"] == pytest.approx(h3.cell_area(c0, unit="km^2"))
    assert hx.geometry.loc[c0].contains(pts.geometry.iloc[0])
    only = hex_counts(pts, 8)
    assert sorted(only.index) == sorted([c0, ring[0]]) and only["n"].sum() == 5


def test_hex_cells_keeps_the_index_and_rejects_bad_resolution():
    pts = gpd.GeoDataFrame(geometry=[Point(-101.68, 21.12), None], index=[10, 20], crs=4326)
    cells = hex_cells(pts, 9)
    assert cells.index.tolist() == [10, 20] and h3.get_resolution(cells[10]) == 9 and pd.isna(cells[20])
    with pytest.raises(ConfigError, match="16"):
        hex_cells(pts, 16)


def test_footprint_fills_enclosed_gaps():
    c0 = h3.latlng_to_cell(21.1221, -101.6823, 8)
    pts = _cell_points({c: 1 for c in h3.grid_ring(c0, 1)})
    assert c0 not in footprint_cells(pts, 8, fill_holes=False)
    filled = footprint_cells(pts, 8)
    assert sorted(filled) == sorted(h3.grid_disk(c0, 1))
    assert cells_polygon(filled).contains(Point(h3.cell_to_latlng(c0)[::-1]))
    assert footprint_cells(pts, 8, min_points=2) == []


# ------------------------------------------------------------------------------------------------
# rates and location quotients
# ------------------------------------------------------------------------------------------------


def test_location_quotient_by_hand():
    assert location_quotient(43, 1000, 0.0394) == pytest.approx(0.043 / 0.0394)
    np.testing.assert_allclose(location_quotient([10, 0, 5], [100, 50, 0], 0.02), [5.0, 0.0, np.nan])


def test_national_lq_counts_prefixes():
    est = pd.DataFrame({"clase": ["621111"] * 30 + ["622111"] * 5 + ["624411"] * 8 + [""] * 957})
    a = national_lq(est, national_share=0.0394)
    assert (a["unidades"], a["total"]) == (35, 1000)
    assert a["lq"] == pytest.approx(0.035 / 0.0394)
    b = national_lq(est, national_share=0.0394, prefixes=("621", "622", "623", "624"))
    assert b["unidades"] == 43 and b["lq"] == pytest.approx(0.043 / 0.0394)
    with pytest.raises(ConfigError, match="3.94"):
        national_lq(est, national_share=3.94)


def test_class_lq_of_a_zone_by_hand():
    # city: 1,000 establishments, 20 dentists, 30 GPs; zone (a subset): 100 establishments, 10 dentists, 3 GPs
    city = pd.DataFrame({"clase": ["621211"] * 20 + ["621111"] * 30 + [""] * 950, "nombre_act": ""})
    zone = pd.concat([city.iloc[:10], city.iloc[20:23], city.iloc[100:187]])
    t = class_lq(zone, city)
    assert t.loc["621211", "lq"] == pytest.approx((10 / 100) / (20 / 1000))  # 5.0
    assert t.loc["621111", "lq"] == pytest.approx((3 / 100) / (30 / 1000))  # 1.0
    assert t.index[0] == "621211"
    assert math.isnan(class_lq(zone, city, min_units=5).loc["621111", "lq"])


def test_hex_lq_by_hand_with_threshold_and_strong_rule():
    c0 = h3.latlng_to_cell(21.1221, -101.6823, 8)
    a, b, c = sorted(h3.grid_ring(c0, 1))[:3]
    # A: 40 establishments, 20 health; B: 40, 2 health; C: 10, 5 health (below the threshold of 20)
    clase = ["621111"] * 20 + [""] * 20 + ["622111"] * 2 + [""] * 38 + ["623311"] * 5 + [""] * 5
    pts = _cell_points({a: 40, b: 40, c: 10}, clase=clase)
    out = hex_lq(pts, 8, min_establishments=20)
    share = 27 / 90
    assert out.loc[a, "lq"] == pytest.approx(0.5 / share) and out.loc[b, "lq"] == pytest.approx(0.05 / share)
    assert math.isnan(out.loc[c, "lq"]) and out.loc[c, ["total", "salud"]].tolist() == [10, 5]
    assert out["fuerte"].tolist() == [a == x for x in out.index]
    assert out.attrs["percentil_corte"] == pytest.approx(np.percentile([0.5 / share, 0.05 / share], 75))


def test_rates_per_100k_by_hand():
    mun = pd.DataFrame({"CVEGEO": ["11020", "11037"], "NOMGEO": ["León", "Silao"], "POBTOT": [200_000, 50_000]})
    pts = pd.DataFrame({"cvegeo": ["11020"] * 5 + ["11037"], "sector": ["privado"] * 3 + ["público"] * 2 + ["privado"]})
    r = rates_per_100k(pts, mun, codes=["11020", "11037"], by="sector").set_index(["cvegeo", "categoria"])
    assert r.loc[("11020", "total"), "por_100k"] == pytest.approx(2.5)
    assert r.loc[("11020", "privado"), "por_100k"] == pytest.approx(1.5)
    assert r.loc[("11037", "público"), "unidades"] == 0 and r.loc[("11037", "privado"), "por_100k"] == pytest.approx(2.0)
    with pytest.raises(DataError, match="99999"):
        rates_per_100k(pts, mun, codes=["99999"])


def test_is_health_ignores_blank_codes():
    assert is_health(pd.Series(["621111", "", None, "6241", "623"])).tolist() == [True, False, False, False, True]


# ------------------------------------------------------------------------------------------------
# León (real data)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leon_report(leon, leon_atlas):
    from atlas.density_report import density_report
    from atlas.geo import municipalities_from_gpkg

    municipios = municipalities_from_gpkg(leon.path(leon.files.municipios))
    return density_report(leon, leon_atlas.layers, municipios)


@pytest.mark.slow
def test_leon_national_location_quotient(leon_report):
    a, b = leon_report["lq_nacional"]["salud_621_623"], leon_report["lq_nacional"]["sector_62"]
    # data README: 3,132 health units (621–623), 3,563 with 624, 84,801 establishments in León
    assert (a["unidades"], b["unidades"], a["total"]) == (3132, 3563, 84801)
    assert a["lq"] == pytest.approx(3132 / 84801 / 0.0394)  # 0.937
    assert b["lq"] == pytest.approx(3563 / 84801 / 0.0394)  # 1.066
    assert 0.8 < a["lq"] < b["lq"] < 1.2
    assert "empleo" in leon_report["lq_nacional"] and "no disponible" in leon_report["lq_nacional"]["empleo"]


@pytest.mark.slow
def test_leon_hospital_rates_beside_the_plan(leon_report):
    rows = {(r["categoria"]): r for r in leon_report["tasas_100k"]["hospitales"]}
    assert rows["privado"]["poblacion"] == 1_721_215
    assert rows["privado"]["por_100k"] == pytest.approx(36 / 1_721_215 * 1e5)  # 2.09 (plan: 2.4)
    assert rows["público"]["por_100k"] == pytest.approx(24 / 1_721_215 * 1e5)  # 1.39 (plan: 1.5)
    assert leon_report["plan_tasas_100k"] == {"hospitales_privados_por_100k": 2.4, "hospitales_publicos_por_100k": 1.5}


@pytest.mark.slow
def test_leon_densest_hexagon_and_kde_peak_are_in_the_urban_core(leon, leon_report):
    hx, kde = leon_report["hexagonos"], leon_report["kde"]
    assert hx["max_distancia_centro_km"] < 5.0
    assert h3.great_circle_distance(tuple(kde["max_en"]), tuple(leon.center), unit="km") < 5.0
    assert hx["max_unidades"] > 100 and kde["max_unidades_km2"] > 100
    assert 0 < hx["lq_fuertes"] <= hx["lq_hexagonos_elegibles"]


@pytest.mark.slow
def test_leon_ciudad_historica_figures_are_reported(leon_report):
    ch = leon_report["ciudad_historica"]
    assert ch["disponible"] and "Aproximada" in ch["nota"]
    assert ch["unidades_dentro"] + ch["unidades_fuera"] == 3132
    assert 0 < ch["participacion_dentro"] < 0.2
    assert ch["densidad_zona_km2"] > 3 * ch["densidad_ciudad_km2"]  # the centre is denser than the city…
    assert ch["lq_zona"] > 0 and len(ch["lq_por_clase"]) > 0


@pytest.mark.slow
def test_leon_clusters_and_hot_spots_are_reported(leon, leon_report):
    db, hs = leon_report["dbscan"], leon_report["puntos_calientes"]
    assert db["clusters"] >= 5 and db["unidades_en_clusters"] + db["ruido"] == 3132
    assert db["mayores"][0]["unidades"] >= db["mayores"][1]["unidades"] and db["mayores"][0]["hospitales"]
    assert sum(hs["por_clase"].values()) == leon_report["hexagonos"]["hexagonos_huella_urbana"]
    assert hs["calientes"] > 0
    for c in leon_report["dbscan"]["mayores"][:3]:
        assert h3.great_circle_distance(tuple(c["centro"]), tuple(leon.center), unit="km") < 10


# ------------------------------------------------------------------------------------------------
# maps: heat image, contours and hexagon choropleths
# ------------------------------------------------------------------------------------------------


def test_heat_image_puts_the_peak_where_the_point_is():
    from atlas.maps.densidad import heat_image

    lon, lat = -101.6823, 21.1221
    pts = gpd.GeoDataFrame(geometry=[Point(lon, lat)], crs=4326)
    g = kde_grid(pts, crs=CRS, bandwidth_m=300.0, cell_m=20.0)
    img, ((lat0, lon0), (lat1, lon1)) = heat_image(g)
    assert img.dtype == np.uint8 and img.shape[2] == 4
    h, w = img.shape[:2]
    # brightest (most opaque) pixel → its position in Web Mercator → lat/lon
    iy, ix = np.unravel_index(np.argmax(img[..., 3]), (h, w))
    from pyproj import Transformer

    to_m = Transformer.from_crs(4326, 3857, always_xy=True)
    (mx0, mx1), (my0, my1) = to_m.transform([lon0, lon1], [lat0, lat1])
    px = mx0 + (ix + 0.5) * (mx1 - mx0) / w
    py = my1 - (iy + 0.5) * (my1 - my0) / h
    plon, plat = Transformer.from_crs(3857, 4326, always_xy=True).transform(px, py)
    assert h3.great_circle_distance((plat, plon), (lat, lon), unit="m") < 40  # within two cells
    assert img[0, 0, 3] == 0  # far from the point the image is clear


def test_hex_choropleth_escapes_and_labels_lq_classes(leon):
    import folium

    from atlas.maps.densidad import LQ_BREAKS, add_contours, add_hex_choropleth

    c0 = h3.latlng_to_cell(21.1221, -101.6823, 8)
    pts = _cell_points({c0: 40, sorted(h3.grid_ring(c0, 1))[0]: 40}, clase=["621111"] * 30 + [""] * 50)
    lq = hex_lq(pts, 8, min_establishments=20)
    lq["nota"] = "<img src=x onerror=alert(1)>"
    m = folium.Map(location=list(leon.center), zoom_start=12, tiles=None)
    add_hex_choropleth(m, lq, "lq", title="LQ intraurbano", unit="", extra={"nota": "Nota"}, breaks=LQ_BREAKS,
                       cmap="RdBu_r", highlight="fuerte")
    g = kde_grid(_metric_points([(X0, Y0)] * 50), crs=CRS, bandwidth_m=300.0, cell_m=25.0)
    add_contours(m, kde_contours(g, [10.0, 50.0]))
    html = m.get_root().render()
    assert "<img src=x" not in html
    assert "≥ 2 " not in html and "≥ 2" in html and "1 – 1.25" in html
    assert "contorno negro: clúster fuerte" in html and "≥ 50 por km²" in html
    with pytest.raises(ConfigError, match="increasing"):
        add_hex_choropleth(m, lq, "lq", title="x", unit="", breaks=[1.0, 0.5])


# ------------------------------------------------------------------------------------------------
# the Streamlit view
# ------------------------------------------------------------------------------------------------


def _density_app():
    import sys

    import streamlit as st

    if st.session_state["root"] not in sys.path:  # ui/ is not an installed package
        sys.path.insert(0, st.session_state["root"])
    from ui import densidad

    atlas = st.session_state["atlas"]
    densidad.render(atlas.region, atlas)


@pytest.mark.slow
def test_density_view_renders_every_analysis(leon_atlas):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_density_app, default_timeout=120)
    at.session_state["atlas"] = leon_atlas
    at.session_state["root"] = str(Path(__file__).resolve().parents[1])
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["LQ salud 621–623"] == "0.937" and metrics["LQ sector 62 (con 624)"] == "1.066"
    assert metrics["Máximo"].endswith("unidades/km²")
    for vista in ["Hexágonos", "Clústeres", "Puntos calientes"]:
        at.radio(key="densidad_vista").set_value(vista).run()
        assert not at.exception, vista
    assert any("FDR" in c.value for c in at.caption)
    at.radio(key="densidad_vista").set_value("Clústeres").run()
    at.slider(key="densidad_eps").set_value(400).run()
    assert not at.exception and int(at.metric[0].value) > 0


@pytest.mark.slow
def test_report_works_for_a_subrama_region_and_flags_partial_coverage():
    from atlas.build import build_region
    from atlas.density_report import density_report, format_report
    from atlas.geo import municipalities_from_gpkg
    from atlas.settings import load_region

    laguna = load_region("laguna")
    atlas = build_region(laguna)
    r = density_report(laguna, atlas.layers, municipalities_from_gpkg(laguna.path(laguna.files.municipios)))
    # 5-digit subramas still start with 621/622/623; the Torreón extract has 4,205 accepted rows
    assert r["lq_nacional"]["salud_621_623"]["total"] == len(atlas.layers["establecimientos"])
    assert r["capa"]["unidades"] == int(is_health(atlas.layers["establecimientos"]["clase"]).sum()) > 100
    assert r["cobertura_parcial"] and format_report(r).splitlines()[1].startswith("AVISO cobertura parcial")
    assert r["ciudad_historica"]["disponible"] and r["dbscan"]["clusters"] >= 1
