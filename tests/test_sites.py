"""Candidates, criteria, scoring, demand and uploads: hand-built cases with exact answers, then León."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas._errors import ConfigError, DataError
from atlas.demand import demand_from_agebs, demand_from_localities
from atlas.sites import (
    candidates_from_h3,
    candidates_from_points,
    criterion_auxiliary_units,
    criterion_cluster,
    criterion_competition,
    criterion_historic,
    criterion_local_demand,
    criterion_marginalisation,
    criterion_nearest_hospital,
    normalise,
    parse_weights,
    resolve_weights,
    score_sites,
)
from atlas.uploads import candidates_from_upload

CRS = "EPSG:6372"
X0, Y0 = 2_450_000.0, 1_050_000.0  # metres in EPSG:6372, near León


def _pts(coords, crs=CRS, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in coords], crs=crs).to_crs(4326)


@pytest.fixture
def toy():
    """Three candidates on a line at x = 0, 1000, 3000 m; hospitals at 0 (public) and 3000 (private)."""
    cands = _pts([(0, 0), (1000, 0), (3000, 0)], sitio=["a", "b", "c"], origen="h3", etiqueta="")
    hosp = _pts([(0, 0), (3000, 0)], sector=["público", "privado"], nom_estab=["P", "Q"])
    aux = _pts([(900, 0), (1100, 0), (1000, 400), (2900, 0)])
    demand = _pts([(0, 0), (1000, 0), (5000, 0)], demanda=[100.0, 50.0, 10.0])
    return cands, hosp, aux, demand


# --------------------------------------------------------------------------- criteria


def test_nearest_hospital_all_public_private(toy):
    cands, hosp, _, _ = toy
    assert criterion_nearest_hospital(cands, hosp, crs=CRS).round(3).tolist() == [0.0, 1000.0, 0.0]
    pub = criterion_nearest_hospital(cands, hosp, crs=CRS, sector="público")
    assert pub.name == "dist_hospital_publico" and pub.round(3).tolist() == [0.0, 1000.0, 3000.0]
    assert criterion_nearest_hospital(cands, hosp.iloc[:1], crs=CRS, sector="privado").isna().all()
    with pytest.raises(ConfigError, match='sector was "otro"'):
        criterion_nearest_hospital(cands, hosp, crs=CRS, sector="otro")


def test_counts_within_radius(toy):
    cands, hosp, aux, demand = toy
    assert criterion_auxiliary_units(cands, aux, radius_m=500, crs=CRS).tolist() == [0, 3, 1]
    # radii stay off exact distances: a 4326 round trip moves points by micrometres
    assert criterion_competition(cands, hosp, radius_m=1500, crs=CRS).tolist() == [0, 0, 1]
    assert criterion_competition(cands, hosp, radius_m=2500, crs=CRS).tolist() == [0, 1, 1]
    assert criterion_local_demand(cands, demand, radius_m=1200, crs=CRS).round(6).tolist() == [150.0, 150.0, 0.0]


def test_historic_and_cluster(toy):
    cands, *_ = toy
    zone = gpd.GeoDataFrame(geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 100)], crs=CRS).to_crs(4326)
    d = criterion_historic(cands, zone, crs=CRS)
    assert d.round(0).tolist() == pytest.approx([0.0, 900.0, 2900.0], abs=1.0)
    assert criterion_historic(cands, None, crs=CRS).isna().all()
    assert criterion_cluster(cands, zone).tolist() == [1.0, 0.0, 0.0]
    assert criterion_cluster(cands, None).isna().all()
    assert criterion_cluster(cands, zone.iloc[:0]).tolist() == [0.0, 0.0, 0.0]


def test_marginalisation_only_with_agebs(toy):
    cands, _, _, demand = toy
    assert criterion_marginalisation(cands, demand, radius_m=1000, crs=CRS).isna().all()
    ag = demand.assign(marginacion=[120.0, 110.0, np.nan])
    m = criterion_marginalisation(cands, ag, radius_m=1200, crs=CRS)
    assert m.iloc[0] == pytest.approx((100 * 120 + 50 * 110) / 150)
    assert np.isnan(m.iloc[2])


# --------------------------------------------------------------------------- scoring


def test_normalise_directions_constant_missing_and_rank():
    s = pd.Series([0.0, 5.0, 10.0, np.nan])
    assert normalise(s, +1).tolist() == [0.0, 0.5, 1.0, 0.0]
    assert normalise(s, -1).tolist() == [1.0, 0.5, 0.0, 0.0]
    assert normalise(pd.Series([3.0, 3.0]), +1).tolist() == [0.0, 0.0]
    assert normalise(pd.Series([1.0, 100.0, 2.0]), +1, "rango").tolist() == [0.0, 1.0, 0.5]
    with pytest.raises(ConfigError, match="normalisation"):
        normalise(s, 1, "z")


def _crit(cands):
    return pd.DataFrame({
        "dist_hospital": [0.0, 1000.0, 0.0],
        "auxiliares": [0, 3, 1],
        "competencia_privada": [0, 0, 1],
        "cluster": [np.nan, np.nan, np.nan],
    }, index=cands.index)


def test_score_breakdown_sums_and_absent_criteria(toy):
    cands = toy[0]
    w = {"dist_hospital": 1.0, "auxiliares": 1.0, "competencia_privada": 2.0, "cluster": 1.0}
    s = score_sites(cands, _crit(cands), w, absent_reasons={"cluster": "sin clústeres"})
    t = s.table
    # by hand: n_dist = [0,1,0], n_aux = [0,1,1/3], n_comp = [1,1,0]; weights 1,1,2 → /4
    assert t["puntaje"].round(6).tolist() == pytest.approx([50.0, 100.0, 100 / 12], abs=1e-5)
    aportes = t[[f"aporte_{n}" for n in s.used]].sum(axis=1)
    assert np.allclose(aportes, t["puntaje"], atol=1e-5)
    assert s.absent == {"cluster": "sin clústeres"}
    assert "cluster" not in s.used and t["rango"].tolist() == [2, 1, 3]


def test_weight_zero_removes_a_criterion(toy):
    cands = toy[0]
    crit = _crit(cands)
    with_zero = score_sites(cands, crit, {"dist_hospital": 0.0, "auxiliares": 1.0, "competencia_privada": 1.0})
    without = score_sites(cands, crit.drop(columns="dist_hospital"), {"auxiliares": 1.0, "competencia_privada": 1.0})
    assert with_zero.table["puntaje"].tolist() == without.table["puntaje"].tolist()
    assert "dist_hospital" not in with_zero.used
    with pytest.raises(ConfigError, match="weight 0"):
        score_sites(cands, crit, {"dist_hospital": 0.0, "auxiliares": 0.0, "competencia_privada": 0.0})


def test_ties_share_a_rank_and_are_flagged(toy):
    cands = toy[0]
    crit = pd.DataFrame({"auxiliares": [2, 2, 0]}, index=cands.index)
    s = score_sites(cands, crit, {"auxiliares": 1.0})
    assert s.table["rango"].tolist() == [1, 1, 3]
    assert s.table["empate"].tolist() == [True, True, False]
    # the listing is deterministic: ties ordered by site id
    assert s.ranking()["sitio"].tolist() == ["a", "b", "c"]


def test_weights_validation_and_parsing():
    assert parse_weights("demanda_local=2, competencia_privada=0") == {"demanda_local": 2.0, "competencia_privada": 0.0}
    with pytest.raises(ConfigError, match="name=number"):
        parse_weights("demanda_local")
    with pytest.raises(ConfigError, match='criterion "nada" is unknown'):
        resolve_weights(["auxiliares"], override={"nada": 1})
    with pytest.raises(ConfigError, match="≥ 0"):
        resolve_weights(["auxiliares"], override={"auxiliares": -1})
    assert resolve_weights(["auxiliares", "alcance_60"], {"auxiliares": 3}) == {"auxiliares": 3.0, "alcance_60": 0.5}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(0, 1e6), min_size=2, max_size=30), st.floats(0.1, 10))
def test_scaling_all_weights_does_not_change_the_score(values, factor):
    cands = candidates_from_points([21.1] * len(values), [-101.6] * len(values))
    crit = pd.DataFrame({"auxiliares": values, "dist_hospital": values[::-1]}, index=cands.index)
    a = score_sites(cands, crit, {"auxiliares": 1.0, "dist_hospital": 2.0}).table["puntaje"]
    b = score_sites(cands, crit, {"auxiliares": factor, "dist_hospital": 2 * factor}).table["puntaje"]
    assert np.allclose(a, b, atol=1e-4)
    assert ((a >= -1e-9) & (a <= 100 + 1e-9)).all()


# --------------------------------------------------------------------------- candidates and demand


def test_h3_candidates_inside_area():
    area = shapely.box(-101.70, 21.10, -101.66, 21.14)
    c = candidates_from_h3(area, 8)
    assert len(c) > 5 and c.geometry.within(area).all()
    assert c["sitio"].str.startswith("h3:").all() and c["sitio"].is_unique
    with pytest.raises(ConfigError, match="resolution"):
        candidates_from_h3(area, 16)
    with pytest.raises(DataError, match="empty"):
        candidates_from_h3(shapely.Polygon(), 8)


def test_proxy_demand_reconciles_and_follows_establishments():
    loc = _pts([(0, 0), (20_000, 0)], CVEGEO_LOC=["110200001", "110200002"], NOM_LOC=["Ciudad", "Rancho"],
               POBTOT=[1000, 40])
    # 3 establishments in one spot, 1 in another 2 km away: the city's 1000 people split 750/250
    est = _pts([(100, 0), (100, 0), (100, 0), (2000, 0)])
    d = demand_from_localities(loc, est, crs=CRS, resolution=9, split_min_pob=500)
    assert d.kind == "proxy" and "Proxy" in d.label
    assert d.total == pytest.approx(1040.0)
    proxy = d.points[d.points["fuente"] == "proxy_denue"].sort_values("demanda")
    assert proxy["demanda"].tolist() == pytest.approx([250.0, 750.0])
    assert d.points.loc[d.points["fuente"] == "localidad", "demanda"].tolist() == [40.0]


def test_proxy_demand_uses_locality_polygons_when_given():
    loc = _pts([(0, 0)], CVEGEO_LOC=["110200001"], NOM_LOC=["Ciudad"], POBTOT=[900])
    est = _pts([(0, 0), (5000, 0)])  # the second is outside the polygon, though within 15 km
    poly = gpd.GeoDataFrame({"cvegeo": ["110200001"]}, geometry=[shapely.box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500)],
                            crs=CRS).to_crs(4326)
    d = demand_from_localities(loc, est, crs=CRS, split_min_pob=100, locality_polygons=poly)
    assert len(d.points) == 1 and d.total == pytest.approx(900.0)


def test_ageb_demand_replaces_the_urban_locality():
    loc = _pts([(0, 0), (9000, 0)], CVEGEO_LOC=["110200001", "110200050"], NOM_LOC=["Ciudad", "Rancho"], POBTOT=[1000, 30])
    agebs = gpd.GeoDataFrame(
        {"CVEGEO": ["1102000010017", "110200001002A"]},
        geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 500), shapely.box(X0 + 500, Y0, X0 + 1000, Y0 + 500)], crs=CRS,
    )
    conapo = pd.DataFrame({"CVE_AGEB": ["1102000010017", "110200001002A"], "POB_TOTAL": [600.0, 380.0],
                           "IM_2020": [120.0, 110.0], "GM_2020": ["Bajo", "Medio"]})
    d = demand_from_agebs(agebs, conapo, loc, ["11020"])
    assert d.kind == "ageb"
    assert sorted(d.points["fuente"].tolist()) == ["ageb", "ageb", "localidad"]
    assert d.total == pytest.approx(600 + 380 + 30)
    with pytest.raises(DataError, match="No AGEB polygon"):
        demand_from_agebs(agebs, conapo, loc, ["05035"])


# --------------------------------------------------------------------------- uploads


def test_csv_upload_reports_bad_rows_by_line():
    region = shapely.box(-101.9, 20.9, -101.4, 21.3)
    text = (
        "nombre;latitud;longitud\n"
        "Bueno;21,12;-101,68\n"        # line 2: decimal commas, semicolons
        "Texto;abc;-101.6\n"           # line 3
        "Invertido;-101.68;21.12\n"    # line 4: lat/lon swapped
        "\n"                           # line 5: blank, skipped
        "Lejos;19.43;-99.13\n"         # line 6: Mexico City, outside the region
        "Corto;21.1\n"                 # line 7
    )
    up = candidates_from_upload(text.encode("latin-1"), "sitios.csv", region_polygon=region)
    assert up.candidates["etiqueta"].tolist() == ["Bueno"]
    assert up.candidates["sitio"].tolist() == ["archivo-2"]
    lines = [n for n, _ in up.problems]
    assert lines == [3, 4, 6, 7]
    reasons = dict(up.problems)
    assert "no es un número" in reasons[3] and "latitud -101.68 fuera" in reasons[4]
    assert "fuera de la región" in reasons[6] and "2 columnas" in reasons[7]
    assert "línea 3" in up.report


def test_upload_whole_file_problems_raise():
    with pytest.raises(DataError, match="expected latitude and longitude columns"):
        candidates_from_upload("a,b\n1,2\n", "x.csv")
    with pytest.raises(DataError, match="limit"):
        candidates_from_upload("lat,lon\n" + "21.1,-101.6\n" * 20, "x.csv", max_bytes=50)
    with pytest.raises(DataError, match="more than 3 rows"):
        candidates_from_upload("lat,lon\n" + "21.1,-101.6\n" * 5, "x.csv", max_rows=3)
    with pytest.raises(DataError, match="extension"):
        candidates_from_upload("lat,lon\n", "x.xlsx")
    with pytest.raises(DataError, match="empty"):
        candidates_from_upload(b"  ", "x.csv")


def test_geojson_upload_checks_geometry_and_crs():
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nombre": "<b>A</b>"}, "geometry": {"type": "Point", "coordinates": [-101.68, 21.12]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [2450000, 1050000]}},
        {"type": "Feature", "properties": {}, "geometry": None},
    ]}
    up = candidates_from_upload(json.dumps(fc), "s.geojson")
    assert up.candidates["etiqueta"].tolist() == ["<b>A</b>"]  # kept as text; escaped when shown
    assert [n for n, _ in up.problems] == [2, 3, 4]
    projected = dict(fc, crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6372"}})
    with pytest.raises(DataError, match="WGS84"):
        candidates_from_upload(json.dumps(projected), "s.geojson")
    with pytest.raises(DataError, match="not valid JSON"):
        candidates_from_upload("{", "s.geojson")


# --------------------------------------------------------------------------- León (real data)


@pytest.fixture(scope="module")
def leon_siting(leon, leon_atlas):
    from atlas.siting import siting_for_region

    return siting_for_region(leon, leon_atlas, k=3, with_reach=False)


@pytest.mark.slow
def test_leon_demand_reconciles_with_the_census(leon_siting):
    d = leon_siting.demand
    assert d.kind == "proxy"
    # León's 569 localities hold 1,721,215 people (census 2020); the city is spread, the total kept
    assert d.total == pytest.approx(1_721_215)
    assert (d.points["fuente"] == "localidad").sum() == 568
    assert any("León de los Aldama (1,579,803 hab.)" in n for n in d.notes)


@pytest.mark.slow
def test_leon_screening_is_explained(leon_siting):
    s = leon_siting.screening
    t = s.table
    assert len(t) == 264  # H3 res-8 centres inside León's 13 urban locality polygons
    assert "marginacion" in s.absent and "requiere polígonos de AGEB" in s.absent["marginacion"]
    assert "alcance_60" in s.absent  # reach switched off here: reported, not zero
    assert set(s.used) >= {"dist_hospital", "competencia_privada", "demanda_local", "auxiliares", "cluster"}
    assert np.allclose(t[[f"aporte_{n}" for n in s.used]].sum(axis=1), t["puntaje"], atol=1e-4)
    assert t["rango"].min() == 1 and t["puntaje"].between(0, 100).all()


@pytest.mark.slow
def test_leon_mclp_and_whatif_agree(leon, leon_atlas, leon_siting):
    from atlas.whatif import WhatIf

    m = leon_siting.mclp
    assert m.status == "óptimo" and m.gap == 0.0
    assert m.covered_after >= m.greedy_covered - 1e-6
    assert m.covered_before == pytest.approx(1_663_428, abs=1)  # within 5 km of the 60 hospitals
    assert all(g > 0 for g in m.gains)
    # dropping the optimal sites into the what-if reproduces the optimiser's coverage
    w = WhatIf(leon_siting.demand.points, leon_atlas.layers["hospitales"], 5000, crs=leon.crs_metric)
    assert w.figures()["atendida"] == pytest.approx(m.covered_before)
    for _, row in leon_siting.optimal_sites().iterrows():
        w.add(row.geometry.y, row.geometry.x)
    assert w.figures()["atendida"] == pytest.approx(m.covered_after)


@pytest.mark.slow
def test_cli_sites_json_with_an_upload(tmp_path, monkeypatch, capsys, leon_atlas):
    import atlas.build
    from atlas.cli import main

    monkeypatch.setattr(atlas.build, "load_atlas", lambda region, out=None: leon_atlas)
    f = tmp_path / "sitios.csv"
    f.write_text("nombre,lat,lon\nPropuesta norte,21.1587,-101.6946\nCDMX,19.43,-99.13\n", encoding="utf-8")
    code = main(["sites", "--region", "leon", "--k", "2", "--no-reach", "--candidates", str(f), "--json",
                 "--weights", "competencia_privada=0", "--top", "300"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["archivo"] == {"aceptados": 1, "rechazados": [{"linea": 3, "motivo": "(19.43000, -99.13000) fuera de la región"}]}
    assert out["candidatos"]["por_origen"] == {"h3": 264, "archivo": 1}
    assert "competencia_privada" in out["criterios"]["peso_cero"]
    assert any(r["sitio"] == "archivo-2" for r in out["ranking"])
    assert out["demanda"]["tipo"] == "proxy" and len(out["optimo"]["sitios"]) == 2
    assert main(["sites", "--region", "leon", "--weights", "nada=1"]) == 2
    assert 'criterion "nada" is unknown' in capsys.readouterr().err


# --------------------------------------------------------------------------- map, site sheet, view


def test_sites_map_and_sheet_escape_user_text(toy, leon):
    from atlas.maps.sitios import site_sheet_html, sites_map

    cands, hosp, _, demand = toy
    cands = cands.assign(etiqueta=["<script>alert(1)</script>", "", ""])
    crit = pd.DataFrame({"auxiliares": [3, 1, 0]}, index=cands.index)
    s = score_sites(cands, crit, {"auxiliares": 1.0})
    optimal = s.table.iloc[[0]].assign(orden=[1], ganancia=[123.0])
    m = sites_map(leon, s.table, s.used, optimal=optimal, hospitals=hosp, demand=demand, service_m=5000, tiles=False)
    html = m.get_root().render()
    assert "<script>alert(1)</script>" not in html
    assert "alert(1)" in html  # present, but escaped
    assert "Sitios para nuevos hospitales" in html and "Hospitales existentes (2)" in html
    assert html.count("L.circle(") == 1  # the optimal site's 5 km service radius
    sheet = site_sheet_html(leon, s.table.iloc[0], s.used, demand_label="Proxy <b>", service_note="5 km",
                            weights=s.weights, absent={"cluster": "sin <datos>"}, n_sites=3)
    assert "<script>" not in sheet and "&lt;script&gt;" in sheet and "sin &lt;datos&gt;" in sheet
    assert "100.0 / 100 — lugar 1 de 3" in sheet


@pytest.mark.slow
def test_sitios_view_renders_and_reacts_to_weights():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    script = (
        f"import sys; sys.path.insert(0, {str(root)!r})\n"
        "from ui.common import get_atlas, get_region\n"
        "from ui import sitios\n"
        "sitios.render(get_region('leon'), get_atlas('leon'))\n"
    )
    at = AppTest.from_string(script, default_timeout=300).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cubierta hoy"] == "96.6 %" and metrics["Con 3 óptimos"] == "98.1 %"
    assert metrics["Sin cobertura"] == "57,787"
    assert any("Demanda usada:" in i.value and "Proxy" in i.value for i in at.info)
    first = at.dataframe[-1].value["sitio"].iloc[0]
    at.slider(key="sitios_peso_demanda_local").set_value(0.0).run()
    assert not at.exception
    assert at.dataframe[-1].value["sitio"].iloc[0] != first


@pytest.mark.slow
def test_partial_denue_warns_that_the_proxy_is_partial(leon, leon_atlas, leon_siting):
    import dataclasses

    from atlas.siting import PARTIAL_PROXY_NOTE, siting_for_region

    cands = candidates_from_points([21.12, 21.16], [-101.68, -101.70])
    args = dict(candidates=cands, demand=leon_siting.demand, with_clusters=False, with_reach=False, k=1)
    assert PARTIAL_PROXY_NOTE not in siting_for_region(leon, leon_atlas, **args).notes
    partial = dataclasses.replace(leon, cobertura_parcial="solo el centro")
    res = siting_for_region(partial, leon_atlas, **args)
    assert PARTIAL_PROXY_NOTE in res.notes and PARTIAL_PROXY_NOTE in res.to_dict()["avisos"]


def test_malformed_uploads_are_data_errors_not_crashes():
    # each of these used to escape as KeyError / AttributeError / TypeError / csv.Error and kill the view
    with pytest.raises(DataError, match="no 'features'"):
        candidates_from_upload('{"type": "FeatureCollection"}', "x.geojson")
    with pytest.raises(DataError, match="WGS84"):
        candidates_from_upload('{"type": "FeatureCollection", "crs": {"properties": {"name": ["EPSG:6372"]}}, '
                               '"features": []}', "x.geojson")
    up = candidates_from_upload('{"type": "FeatureCollection", "crs": {"properties": ["x"]}, "features": []}', "x.geojson")
    assert len(up.candidates) == 0
    with pytest.raises(DataError, match="not a readable CSV"):
        candidates_from_upload('lat,lon,nombre\n21.1,-101.6,"' + "x" * 200_000 + '"\n', "x.csv")


def test_demand_rows_without_a_location_neither_crash_nor_shift_weights(toy):
    cands = toy[0]
    # a census locality with blank coordinates is read as POINT (NaN NaN), neither missing nor empty
    loc = gpd.GeoDataFrame({"CVEGEO_LOC": ["110200001", "110200002"], "NOM_LOC": ["A", "Sin coordenadas"],
                            "POBTOT": [100, 12]},
                           geometry=gpd.points_from_xy([cands.geometry.x.iloc[0], np.nan],
                                                       [cands.geometry.y.iloc[0], np.nan]), crs=4326)
    d = demand_from_localities(loc, cands.iloc[:0], crs=CRS)
    assert d.points["clave"].tolist() == ["110200001"]
    assert criterion_local_demand(cands, d.points, radius_m=500, crs=CRS).tolist() == [100.0, 0.0, 0.0]
    # an empty point ahead of a located one: the weights must stay with their own points
    dem = gpd.GeoDataFrame({"demanda": [100.0, 1.0]}, geometry=[shapely.Point(), cands.geometry.iloc[2]], crs=4326)
    assert criterion_local_demand(cands, dem, radius_m=500, crs=CRS).tolist() == [0.0, 0.0, 1.0]
