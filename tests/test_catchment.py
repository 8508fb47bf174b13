"""Catchment: travel times to points, band polygons, population tables, the CLI and the real data."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas._errors import ConfigError, DataError
from atlas.catchment import (
    access_points,
    band_population,
    bands_from_network,
    calibration_table,
    catchment_for_region,
    catchment_from_network,
    geodesic_circle,
    origins_for_region,
    parse_latlon,
    reach_from_origins,
    times_to_points,
)
from atlas.cli import main
from atlas.network import Network, network_for_region

TO_M = pyproj.Transformer.from_crs(4326, 6372, always_xy=True)
TO_LL = pyproj.Transformer.from_crs(6372, 4326, always_xy=True)
X0, Y0 = TO_M.transform(-101.68, 21.12)
GEOD = pyproj.Geod(ellps="WGS84")


def line_net(n=61, *, gap_after=None, gap_m=0.0):
    """Nodes every km along x from (X0, Y0), 1 minute per edge (60 km/h); optionally cut in two."""
    x = X0 + np.arange(n) * 1000.0
    if gap_after is not None:
        x[gap_after + 1:] += gap_m
    xy = np.column_stack([x, np.full(n, Y0)])
    lon, lat = TO_LL.transform(xy[:, 0], xy[:, 1])
    t = np.arange(n - 1)
    keep = t != gap_after
    t = t[keep]
    return Network(xy, np.column_stack([lon, lat]), t, t + 1, np.ones(len(t)), np.full(len(t), 1000.0), False, "EPSG:6372")


def ll(x_km, y_km):
    """lon, lat of a point given in km from (X0, Y0)."""
    return TO_LL.transform(X0 + np.asarray(x_km, float) * 1000, Y0 + np.asarray(y_km, float) * 1000)


def points(*xy_km, names=None):
    lon, lat = ll([p[0] for p in xy_km], [p[1] for p in xy_km])
    return gpd.GeoDataFrame({"nombre": names or [f"o{i}" for i in range(len(xy_km))]},
                            geometry=gpd.points_from_xy(np.atleast_1d(lon), np.atleast_1d(lat)), crs=4326)


def brute_minutes(net, reach, x_km, y_km, speed=30.0, c=1.0):
    """The access model by definition: best over every node, and straight to every origin."""
    p = np.array([X0 + x_km * 1000, Y0 + y_km * 1000])
    d = np.hypot(*(net.xy - p).T)
    via = reach.node_minutes + d * c / 1000 / speed * 60
    direct = np.hypot(*(reach.origin_xy - p).T) * c / 1000 / speed * 60
    return min(via.min(), direct.min())


def localities(rows):
    """rows: (x_km, y_km, pop, cvegeo) — x None for a locality without coordinates."""
    geoms = [shapely.Point(*ll(x, y)) if x is not None else shapely.Point() for x, y, _, _ in rows]
    names = {"11": "Guanajuato", "14": "Jalisco", "01": "Aguascalientes"}
    return gpd.GeoDataFrame({
        "CVEGEO_MUN": [r[3] for r in rows],
        "NOM_ENT": [names.get(r[3][:2], "Otro") for r in rows],
        "NOM_MUN": [f"mun {r[3]}" for r in rows],
        "POBTOT": [r[2] for r in rows],
    }, geometry=geoms, crs=4326)


# --------------------------------------------------------------------------- exact times


def test_times_on_the_road_and_off_it_are_exact():
    net = line_net()
    reach = reach_from_origins(net, points((0, 0)), access_speed_kmh=30, circuity=1.0, access_nodes=8)
    lon, lat = ll([10, 30], [0, 3])
    t = times_to_points(reach, np.array(lon), np.array(lat))
    assert t["minutos"][0] == pytest.approx(10, abs=1e-6)
    assert t["km"][0] == pytest.approx(10, abs=1e-6)
    # 3 km off the road at km 30: best to leave the road at km 28 (28 min + 2·√13 min on foot/dirt)
    assert t["minutos"][1] == pytest.approx(28 + 2 * math.sqrt(13), abs=1e-6)
    assert t["km"][1] == pytest.approx(28 + math.sqrt(13), abs=1e-6)
    assert t["acceso_m"][1] == pytest.approx(1000 * math.sqrt(13), abs=1e-3)
    assert t["nodo"][1] == 28
    # next to an origin that is off the road, going straight beats going via the road
    off = reach_from_origins(net, points((0.3, 0.4)), access_speed_kmh=30, circuity=1.0)
    lon, lat = ll([0.5], [0.2])
    t = times_to_points(off, np.array(lon), np.array(lat))
    assert t["minutos"][0] == pytest.approx(2 * math.hypot(0.2, 0.2), abs=1e-6)
    assert t["nodo"][0] == -1 and t["origen"][0] == 0


def test_circuity_and_access_speed_scale_the_off_road_leg():
    net = line_net()
    reach = reach_from_origins(net, points((0, 0)), access_speed_kmh=20, circuity=1.4, access_nodes=8)
    lon, lat = ll([30], [3])
    got = times_to_points(reach, np.array(lon), np.array(lat))["minutos"][0]
    assert got == pytest.approx(brute_minutes(net, reach, 30, 3, speed=20, c=1.4), abs=1e-6)


def test_origin_far_from_any_road_pays_its_access_leg():
    net = line_net()
    far = points((30, 50), names=["Clínica lejana"])
    reach = reach_from_origins(net, far, access_speed_kmh=30, circuity=1.0, access_nodes=9)
    assert reach.origins["snap_m"][0] == pytest.approx(50_000, abs=0.1)
    assert reach.node_minutes[30] == pytest.approx(100, abs=1e-6)  # 50 km at 30 km/h
    assert reach.node_minutes[34] == pytest.approx(2 * math.hypot(4, 50), abs=1e-6)
    lon, lat = ll([60], [0])
    got = times_to_points(reach, np.array(lon), np.array(lat))["minutos"][0]
    entries = [2 * math.hypot(30 - j, 50) + (60 - j) for j in range(26, 35)]
    assert got == pytest.approx(min(min(entries), 2 * math.hypot(30, 50)), abs=1e-6)
    res = catchment_from_network(net, far, localities([(60, 0, 10, "11020")]), minutes=(60,), radius_km=50,
                                 access_speed_kmh=30, circuity=1.0)
    assert any("Clínica lejana" in n and "50.0 km" in n for n in res.notes)


def test_localities_in_the_sea_or_without_coordinates_reconcile():
    net = line_net()
    locs = localities([(5, 0, 100, "11020"), (0, -600, 7, "11020"), (None, None, 3, "14053")])
    res = catchment_from_network(net, points((0, 0)), locs, minutes=(60, 120, 180), radius_km=300,
                                 access_speed_kmh=30, circuity=1.3)
    sea = res.localities["minutos"][1]
    assert sea == pytest.approx(600 * 1.3 * 2, rel=1e-3) and sea > 180  # 600 km offshore at 30 km/h
    assert np.isnan(res.localities["minutos"][2])
    assert res.summary["poblacion"].tolist() == [100, 100, 100]
    assert res.reconciliation == {"total": 110, "hasta_180": 100, "mas_lejos": 7, "sin_coordenadas": 3}
    assert sum(v for k, v in res.reconciliation.items() if k != "total") == res.reconciliation["total"]
    assert any("sin coordenadas" in n for n in res.notes)
    assert res.circle["poblacion"][0] == 100  # the offshore point is 600 km away


def test_a_disconnected_piece_falls_back_to_the_straight_leg():
    net = line_net(21, gap_after=10, gap_m=190_000)  # nodes 11..20 sit 200..209 km east, unreachable
    reach = reach_from_origins(net, points((0, 0)), access_speed_kmh=30, circuity=1.0, access_nodes=4)
    assert np.isinf(reach.node_minutes[11:]).all() and (reach.node_origin[11:] == -1).all()
    lon, lat = ll([205], [0])
    t = times_to_points(reach, np.array(lon), np.array(lat))
    assert t["minutos"][0] == pytest.approx(205 * 2, abs=1e-6)
    assert t["nodo"][0] == -1


def test_several_origins_share_the_work_and_dissolve_into_one_band():
    net = line_net()
    two = points((0, 0), (60, 0), names=["A", "B"])
    reach = reach_from_origins(net, two, access_speed_kmh=30, circuity=1.0)
    lon, lat = ll([45, 10], [0, 0])
    t = times_to_points(reach, np.array(lon), np.array(lat))
    assert t["minutos"].tolist() == pytest.approx([15, 10], abs=1e-6)
    assert t["origen"].tolist() == [1, 0]
    bands = bands_from_network(reach, [20, 40])
    assert len(bands) == 2 and bands.geometry.is_valid.all()
    assert bands.geometry.iloc[1].geom_type == "Polygon"  # 40 min from both ends overlaps in the middle
    assert bands.geometry.iloc[0].geom_type == "MultiPolygon"  # 20 min from each end does not


def test_identical_origins_are_one_point():
    net = line_net()
    o = points((0, 0), (0, 0), (10, 0), names=["H1", "H2", "H3"])
    reach = reach_from_origins(net, o)
    assert len(reach.origins) == 2 and reach.origins["n"].tolist() == [2, 1]
    assert reach.origins["nombre"][0] == "H1 (+1)"


def test_access_points_are_reused_across_origins():
    net = line_net()
    lon, lat = ll([5, 25, 40], [1, -2, 0])
    acc = access_points(net, np.array(lon), np.array(lat), k=8)
    for origin in [(0, 0), (30, 1)]:
        reach = reach_from_origins(net, points(origin))
        pd.testing.assert_frame_equal(times_to_points(reach, access=acc), times_to_points(reach, np.array(lon), np.array(lat)))
    with pytest.raises(ConfigError, match="another network"):
        times_to_points(reach_from_origins(line_net(), points((0, 0))), access=acc)


# --------------------------------------------------------------------------- polygons


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(-15, 75), st.floats(-20, 20)), min_size=1, max_size=30))
def test_band_polygon_contains_exactly_the_places_within_the_time(pts):
    net = line_net()
    reach = reach_from_origins(net, points((20, 2)), access_speed_kmh=30, circuity=1.3, access_nodes=61)
    band = bands_from_network(reach, [30]).geometry.iloc[0]
    for x, y in pts:
        t = brute_minutes(net, reach, x, y, c=1.3)
        inside = band.contains(shapely.Point(*ll(x, y)))
        if t <= 30 * 0.99:  # discs are 32-gons: their edges sit 0.5 % inside the true circle
            assert inside, (x, y, t)
        elif t > 30 + 1e-6:
            assert not inside, (x, y, t)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origins=st.lists(st.tuples(st.floats(-5, 65), st.floats(-10, 10)), min_size=1, max_size=3),
    minutes=st.lists(st.integers(1, 240), min_size=1, max_size=4, unique=True),
    locs=st.lists(st.tuples(st.floats(-100, 160), st.floats(-100, 100), st.integers(0, 5000)), min_size=1, max_size=40),
)
def test_bands_are_nested_and_population_grows_with_minutes(origins, minutes, locs):
    net = line_net()
    o = points(*origins)
    table = localities([(x, y, p, "11020") for x, y, p in locs])
    res = catchment_from_network(net, o, table, minutes=minutes, radius_km=100, access_speed_kmh=30, circuity=1.3)
    geoms = list(res.bands.geometry)
    assert res.bands["minutos"].tolist() == sorted(minutes)
    for small, big in zip(geoms, geoms[1:]):
        assert small.difference(big).area <= 1e-9 * max(big.area, 1e-12)
    pops = res.summary["poblacion"].tolist()
    assert pops == sorted(pops)
    assert res.reconciliation["total"] == sum(p for _, _, p in locs)
    assert res.summary["localidades"].is_monotonic_increasing


def test_geodesic_circle_edges_are_at_the_radius():
    o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-101.68], [21.12]), crs=4326)
    circle = geodesic_circle(o, 300)
    for az in (0, 90, 200, 333):
        lon_in, lat_in, _ = GEOD.fwd(-101.68, 21.12, az, 299_000)
        lon_out, lat_out, _ = GEOD.fwd(-101.68, 21.12, az, 301_000)
        assert circle.contains(shapely.Point(lon_in, lat_in))
        assert not circle.contains(shapely.Point(lon_out, lat_out))
    with pytest.raises(ConfigError, match="radius_km was 0"):
        geodesic_circle(o, 0)


# --------------------------------------------------------------------------- population


def test_band_population_tables_are_exact_and_reconcile():
    table = pd.DataFrame({
        "CVEGEO_MUN": ["11020", "11020", "11037", "14053", "01001", "01001", "99999", "14053"],
        "NOM_ENT": ["Guanajuato", "Guanajuato", "Guanajuato", "Jalisco", "Aguascalientes", "Aguascalientes", "Otro", "Jalisco"],
        "NOM_MUN": ["León", "León", "Silao", "Lagos", "Ags", "Ags", "Nuevo", "Lagos"],
        "POBTOT": [1000, 10, 200, 300, 400, 40, 5, 7],
        "minutos": [5, 70, 50, 100, 150, 200, 30, np.nan],
    })
    conapo = pd.DataFrame({"CVEGEO": ["11020", "11037", "14053", "01001"], "GM_2020": ["Muy bajo", "Bajo", "Medio", "Muy bajo"]})
    summary, by_state, by_mun, recon, metro = band_population(table, (60, 120, 180), metro=("11020", "11037"), marginacion=conapo)
    assert summary.to_dict("list") == {
        "minutos": [60, 120, 180],
        "poblacion": [1205, 1515, 1915],
        "metropolitana": [1200, 1210, 1210],
        "regional": [5, 305, 705],
        "mercado_potencial": [1200, 1210, 1610],
        "mercado_potencial_regional": [0, 0, 400],
        "localidades": [3, 5, 6],
        "municipios": [3, 4, 5],
    }
    assert recon == {"total": 1962, "hasta_180": 1915, "mas_lejos": 40, "sin_coordenadas": 7}
    assert metro == 1210
    for T, total in zip((60, 120, 180), (1205, 1515, 1915)):
        assert by_state[f"hasta_{T}"].sum() == total and by_mun[f"hasta_{T}"].sum() == total
    lagos = by_mun.set_index("CVEGEO").loc["14053"]
    assert (lagos["poblacion_total"], lagos["hasta_120"], lagos["minutos_min"], lagos["GM_2020"]) == (307, 300, 100, "Medio")
    assert by_mun.set_index("CVEGEO").loc["99999", "GM_2020"] == "sin dato"
    assert by_state["NOM_ENT"].tolist()[:2] == ["Guanajuato", "Aguascalientes"]


def test_band_population_names_missing_columns():
    with pytest.raises(DataError, match=r"missing \['minutos'\]"):
        band_population(pd.DataFrame({"CVEGEO_MUN": [], "NOM_ENT": [], "NOM_MUN": [], "POBTOT": []}), (60,))


def test_catchment_does_not_modify_its_inputs():
    net = line_net()
    o = points((0, 0))
    locs = localities([(5, 0, 100, "11020"), (50, 3, 20, "14053")])
    before_o, before_l = o.copy(), locs.copy()
    catchment_from_network(net, o, locs, minutes=(30,), radius_km=20)
    pd.testing.assert_frame_equal(o, before_o)
    pd.testing.assert_frame_equal(locs, before_l)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"circuity": 0.9}, "circuity was 0.9"),
        ({"access_speed_kmh": 0}, "access_speed_kmh was 0"),
        ({"minutes": []}, "positive minutes"),
        ({"minutes": ["una hora"]}, "whole minutes"),
        ({"access_nodes": 0}, "access_nodes was 0"),
    ],
)
def test_catchment_validates_parameters(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        catchment_from_network(line_net(), points((0, 0)), localities([(1, 0, 1, "11020")]), **kwargs)


def test_origins_without_crs_are_refused():
    o = gpd.GeoDataFrame(geometry=[shapely.Point(-101.6, 21.1)])
    with pytest.raises(DataError, match="no CRS"):
        reach_from_origins(line_net(), o)


# --------------------------------------------------------------------------- origins


def test_parse_latlon_names_the_bad_value():
    assert parse_latlon(" 21.12 , -101.68 ") == (21.12, -101.68)
    with pytest.raises(ConfigError, match='"León" is not a point'):
        parse_latlon("León")
    with pytest.raises(ConfigError, match="LAT first"):
        parse_latlon("-101.68,21.12")


def test_origins_for_region_reads_hospitals_centre_or_a_point(leon):
    hosp = gpd.GeoDataFrame({"nom_estab": ["HOSPITAL <A>", "HOSPITAL B"]},
                            geometry=gpd.points_from_xy([-101.68, -101.65], [21.12, 21.10]), crs=4326)
    got = origins_for_region(leon, "hospitales", atlas=SimpleNamespace(layers={"hospitales": hosp}))
    assert got["nombre"].tolist() == ["HOSPITAL <A>", "HOSPITAL B"] and got.crs.to_epsg() == 4326
    centre = origins_for_region(leon, "centro")
    assert (centre.geometry.y[0], centre.geometry.x[0]) == leon.center
    point = origins_for_region(leon, "20.5,-101.2")
    assert (point.geometry.y[0], point.geometry.x[0]) == (20.5, -101.2)
    with pytest.raises(DataError, match="no hospitals"):
        origins_for_region(leon, "hospitales", atlas=SimpleNamespace(layers={"hospitales": hosp.iloc[:0]}))


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def leon_network(leon, tmp_path_factory):
    return network_for_region(leon, cache_dir=tmp_path_factory.mktemp("net"))


@pytest.fixture(scope="module")
def leon_localities(leon):
    from atlas.geo import localities_from_iter

    return localities_from_iter(leon.path(leon.files.localidades))


@pytest.fixture(scope="module")
def leon_centre(leon, leon_network, leon_localities):
    return catchment_for_region(leon, origin="centro", network=leon_network, localities=leon_localities)


@pytest.mark.slow
def test_real_network_is_one_piece_around_leon(leon_network):
    info = leon_network.info
    print("\nNatural Earth network:", {k: info[k] for k in ("nodos", "aristas", "componentes", "componente_mayor_pct_km", "conectores", "puentes")})
    assert info["componentes"] <= 10 and info["componente_mayor_pct_km"] > 99
    assert info["km_lineas"] == pytest.approx(45_512, rel=0.01)  # the data README's total


@pytest.mark.slow
def test_real_band_population_lies_between_metro_and_the_circle(leon_centre):
    r = leon_centre
    print("\n" + r.summary.to_string())
    print("circle:", int(r.circle["poblacion"][0]), "metro:", r.metro_population, r.reconciliation)
    assert r.metro_population == 1_721_215 + 203_556  # León + Silao, census 2020
    assert r.circle["poblacion"][0] == 31_694_120  # ~31.6 million within 300 km in a straight line
    pops = r.summary["poblacion"].tolist()
    assert r.metro_population < pops[0] < pops[1] < pops[2] < r.circle["poblacion"][0]
    assert r.reconciliation["total"] == 126_014_024
    assert sum(v for k, v in r.reconciliation.items() if k != "total") == 126_014_024
    for T, total in zip(r.summary["minutos"], pops):
        assert r.by_state[f"hasta_{T}"].sum() == total and r.by_municipio[f"hasta_{T}"].sum() == total
    mun = r.by_municipio.set_index("CVEGEO")
    assert 0.95 * 203_556 < mun.loc["11037", "hasta_60"] < 203_556  # Silao within the hour but its far ranchos
    assert mun.loc["14039", "hasta_120"] == 0 and mun.loc["14039", "hasta_180"] == 1_385_629  # Guadalajara ~2.5 h
    assert (r.summary["mercado_potencial"] <= r.summary["poblacion"]).all()
    geoms = list(r.bands.geometry)
    assert all(a.difference(b).area < 1e-9 for a, b in zip(geoms, geoms[1:]))


@pytest.mark.slow
def test_real_hospital_origins(leon, leon_atlas, leon_network, leon_localities):
    r = catchment_for_region(leon, origin="hospitales", atlas=leon_atlas, network=leon_network, localities=leon_localities)
    pops = r.summary["poblacion"].tolist()
    print("\nfrom the hospitals:", pops, "origins:", len(r.origins))
    assert len(r.origins) <= len(leon_atlas.layers["hospitales"])
    assert r.circle["poblacion"][0] == 31_694_120  # the circle stays centred on the city
    assert r.metro_population < pops[0] < pops[-1] < r.circle["poblacion"][0]


@pytest.mark.slow
def test_calibration_against_published_distances(leon, leon_network):
    table = calibration_table(leon, leon_network)
    print("\n" + table.drop(columns="fuente").to_string())
    assert len(table) >= 5 and table["fuente"].str.contains("https?://").all()
    assert table["error_min_pct"].abs().max() <= 25
    assert table["error_km_pct"].abs().max() <= 10
    assert table["error_min_pct"].abs().mean() <= 12


# --------------------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_catchment_json(capsys):
    assert main(["catchment", "--origin", "centro", "--minutes", "60,120", "--top", "3", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [b["minutos"] for b in r["bandas"]] == [60, 120]
    assert r["circulo"]["poblacion"] == 31_694_120
    assert len(r["bandas"][0]["municipios_principales"]) == 3
    assert r["red"]["componentes"] <= 10 and r["conciliacion"]["total"] == 126_014_024


@pytest.mark.slow
def test_cli_travel_time_reports_snapping(capsys):
    assert main(["travel-time", "--origin", "centro", "--to", "20.676389,-103.342222", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    d = r["destinos"][0]
    assert 130 <= d["minutos"] <= 175 and 200 <= d["km"] <= 250  # Guadalajara: 226 km, 2 h 36 min published
    assert d["destino_a_red_m"] >= 0 and d["origen_a_red_m"] > 0


def test_cli_errors_are_one_sentence(capsys):
    assert main(["catchment", "--minutes", "sesenta"]) == 2
    assert "--minutes was \"sesenta\"" in capsys.readouterr().err
    assert main(["travel-time", "--origin", "centro", "--to", "21.1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'expected "LAT,LON"' in err


# --------------------------------------------------------------------------- map and view


def test_influence_map_escapes_names_and_shows_every_layer(leon):
    from atlas.maps.influencia import influence_map

    net = line_net()
    evil = "<script>alert(1)</script>`${document.cookie}`"
    o = gpd.GeoDataFrame({"nombre": [evil]}, geometry=gpd.points_from_xy(*ll([0.3], [0.4])), crs=4326)
    res = catchment_from_network(net, o, localities([(5, 0, 100, "11020"), (80, 0, 9, "14053")]),
                                 minutes=(20, 40), radius_km=30)
    html = influence_map(leon, res, tiles=False).get_root().render()
    assert "<script>alert(1)</script>" not in html
    # escaped for HTML, then embedded as a JSON string (tojson escapes & < >)
    assert 'bindPopup("\\u003cb\\u003e\\u0026lt;script\\u0026gt;alert(1)' in html
    assert 'bindTooltip("\\u0026lt;script\\u0026gt;alert(1)' in html
    assert "bindTooltip(`" not in html  # folium's template-literal tooltip would let a backtick out
    for text in ("Hasta 20 min por carretera", "Hasta 40 min por carretera", "30 km en línea recta",
                 "Orígenes y su punto en la red", "Dentro del radio, fuera de la banda"):
        assert text in html or json.dumps(text)[1:-1] in html  # layer names travel JSON-encoded
    assert html.count("fillOpacity") >= 3


@pytest.mark.slow
def test_influence_view_renders_and_mirrors_choices_in_the_url():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    script = (f"import sys\nsys.path.insert(0, {str(root)!r})\n"
              "from ui.common import get_atlas, get_region\nfrom ui import influencia\n"
              "influencia.render(get_region('leon'), get_atlas('leon'))\n")
    at = AppTest.from_string(script, default_timeout=240).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Población metropolitana (grupo 1)"] == "1,924,771"
    assert metrics["A 300 km en línea recta"] == "31,694,120"
    assert any("Natural Earth" in i.value for i in at.info)
    at.radio(key="influencia_origen").set_value("centro").run()
    at.multiselect(key="influencia_minutos").set_value([60, 240]).run()
    assert not at.exception
    assert at.query_params["inf_origen"] == "centro" and at.query_params["inf_min"] == "60,240"
    assert at.dataframe[0].value["Minutos"].tolist() == [60, 240]
    at.radio(key="influencia_origen").set_value("punto").run()
    at.text_input(key="influencia_punto").set_value("León").run()
    assert any("no es un punto" in e.value for e in at.error)
