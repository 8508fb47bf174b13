"""Coverage matrices, greedy and exact MCLP, p-median, what-if and scenarios: small exact cases,
brute-force cross-checks and invariants."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pulp
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from spopt.locate import MCLP

from atlas._errors import ConfigError, DataError
from atlas.location import (
    coverage_from_cost,
    coverage_from_points,
    covered_demand,
    greedy_mclp,
    marginal_gains,
    solve_mclp,
    solve_pmedian,
)
from atlas.whatif import Scenario, WhatIf, compare_scenarios, scenarios_from_json, scenarios_to_json

# 4 demand points × 3 candidate sites, hand-built; weights are people
#   site 0 covers d0, d1      (10 + 20)
#   site 1 covers d1, d2      (20 + 40)
#   site 2 covers d3          (5)
COVER = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
W = np.array([10.0, 20.0, 40.0, 5.0])


# --------------------------------------------------------------------------- matrices


def test_coverage_from_points_includes_the_boundary_and_zero_distance():
    demand = np.array([[0.0, 0.0], [3.0, 4.0], [100.0, 0.0]])
    sites = np.array([[0.0, 0.0], [6.0, 8.0]])
    m = coverage_from_points(demand, sites, 5.0).toarray()
    # d0 sits on site 0 (distance 0 must not vanish from a sparse matrix); d1 is exactly 5 from both
    assert m.tolist() == [[True, False], [True, True], [False, False]]


def test_coverage_from_cost_dense_and_sparse_agree():
    cost = np.array([[1.0, np.inf, 7.0], [0.0, 4.9, np.nan]])
    dense = coverage_from_cost(cost, 5.0).toarray()
    assert dense.tolist() == [[True, False, False], [True, True, False]]
    sp = sparse.csr_matrix((np.array([1.0, 0.0, 4.9]), (np.array([0, 1, 1]), np.array([0, 0, 1]))), shape=(2, 3))
    assert coverage_from_cost(sp, 5.0).toarray().tolist() == dense.tolist()


def test_bad_inputs_are_named():
    with pytest.raises(DataError, match="weights has 3 values"):
        greedy_mclp(COVER, [1, 2, 3], 1)
    with pytest.raises(ConfigError, match="k was 4 but there are only 3"):
        solve_mclp(COVER, W, 4)
    with pytest.raises(DataError, match="finite and ≥ 0"):
        greedy_mclp(COVER, [1, -2, 3, 4], 1)
    with pytest.raises(ConfigError, match="radius"):
        coverage_from_points(np.zeros((1, 2)), np.zeros((1, 2)), -1)


# --------------------------------------------------------------------------- MCLP


def test_known_optimum_k1_k2_and_marginal_gains():
    r1 = solve_mclp(COVER, W, 1)
    assert r1.selected == (1,) and r1.covered_after == 60.0 and r1.gap == 0.0
    r2 = solve_mclp(COVER, W, 2)
    assert set(r2.selected) == {0, 1}
    assert r2.covered_after == 70.0
    # ordered by marginal gain: site 1 adds 60, then site 0 adds only d0's 10
    assert r2.selected == (1, 0) and r2.gains == (60.0, 10.0)
    assert r2.status == "óptimo"


def test_existing_hospital_fixed_open_changes_the_choice():
    # an existing hospital already covers d1 and d2: site 1 is worth nothing new
    r = solve_mclp(COVER, W, 1, base=np.array([False, True, True, False]))
    assert r.covered_before == 60.0
    assert r.selected == (0,) and r.covered_after == 70.0 and r.gains == (10.0,)


def test_greedy_is_not_optimal_here_and_the_mip_fixes_it():
    # classic trap: site 0 is the biggest single site, but sites 1 + 2 together cover everything
    cover = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]], dtype=bool)
    w = np.array([1, 1, 1, 1, 0.9, 0.9])
    g = greedy_mclp(cover, w, 2)
    assert g.selected[0] == 0 and g.covered == pytest.approx(4.9)
    r = solve_mclp(cover, w, 2)
    assert set(r.selected) == {1, 2} and r.covered_after == pytest.approx(5.8)
    assert r.greedy_covered == pytest.approx(4.9)


def test_candidate_on_an_existing_hospital_adds_no_coverage():
    rng = np.random.default_rng(3)
    demand = rng.random((200, 2)) * 10_000
    hospitals = rng.random((5, 2)) * 10_000
    sites = np.vstack([hospitals[:1], rng.random((20, 2)) * 10_000])  # site 0 = hospital 0's spot
    w = rng.integers(1, 100, 200).astype(float)
    cover = coverage_from_points(demand, sites, 1500)
    base = coverage_from_points(demand, hospitals, 1500)
    assert marginal_gains(cover, w, base)[0] == 0.0
    assert covered_demand(cover, w, [0], base) == covered_demand(cover, w, [], base)


def test_sparse_model_matches_spopt_from_cost_matrix_with_predefined_facilities():
    rng = np.random.default_rng(7)
    n, m, h = 80, 14, 3
    cover = rng.random((n, m + h)) < 0.15
    w = rng.integers(1, 50, n).astype(float)
    cost = np.where(cover, 1.0, 10.0)
    pre = np.zeros(m + h, dtype=int)
    pre[m:] = 1
    ref = MCLP.from_cost_matrix(cost, w, service_radius=5, p_facilities=3 + h, predefined_facilities_arr=pre)
    ref = ref.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = solve_mclp(cover[:, :m], w, 3, base=cover[:, m:])
    assert ours.covered_after == pytest.approx(pulp.value(ref.problem.objective))
    # spopt's perc_cov counts points, ours counts people: they are different numbers
    assert ours.covered_after / ours.demand_total != pytest.approx(ref.perc_cov / 100)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_mclp_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(4, 25)), int(rng.integers(2, 7))
    k = int(rng.integers(1, m + 1))
    cover = rng.random((n, m)) < 0.35
    w = rng.integers(0, 30, n).astype(float)
    base = rng.random(n) < 0.2
    best = max(covered_demand(cover, w, c, base) for c in itertools.combinations(range(m), k))
    r = solve_mclp(cover, w, k, base=base, time_limit=10)
    assert r.covered_after == pytest.approx(best)
    assert sum(r.gains) == pytest.approx(r.covered_after - r.covered_before)
    assert r.upper_bound >= r.covered_after - 1e-9


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_coverage_never_falls_as_k_grows(seed):
    rng = np.random.default_rng(seed)
    cover = rng.random((40, 8)) < 0.2
    w = rng.random(40) * 100
    values = [solve_mclp(cover, w, k, time_limit=10).covered_after for k in range(0, 6)]
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))


def test_shortlist_path_keeps_a_valid_bound_and_beats_or_ties_greedy():
    rng = np.random.default_rng(11)
    demand = rng.random((3000, 2)) * 20_000
    sites = rng.random((400, 2)) * 20_000
    w = rng.lognormal(2, 1, 3000)
    cover = coverage_from_points(demand, sites, 2500)
    r = solve_mclp(cover, w, 4, time_limit=20, max_nnz=2000, shortlist=40)
    assert r.model["shortlist"] is not None and r.model["shortlist"] <= 40 + 4
    assert r.covered_after >= r.greedy_covered - 1e-9
    assert r.upper_bound >= r.covered_after
    # the bound must hold against the best any 4 sites can do; check against the full MIP
    full = solve_mclp(cover, w, 4, time_limit=30)
    assert full.covered_after <= r.upper_bound + 1e-6
    assert 0 <= r.gap < 0.2


# --------------------------------------------------------------------------- p-median


def test_pmedian_known_optimum_with_existing_hospital():
    # demand on a line at 0, 10, 20 km; existing hospital at 0; candidates at 10 and 20
    d = np.array([0.0, 10.0, 20.0])
    cost = np.abs(d[:, None] - np.array([10.0, 20.0])[None, :])
    r = solve_pmedian(cost, [1.0, 1.0, 3.0], 1, existing_cost=d)
    assert r.selected == (1,)
    assert r.mean_cost_before == pytest.approx((0 + 10 + 60) / 5)
    assert r.mean_cost_after == pytest.approx((0 + 10 + 0) / 5)
    assert r.gap == 0.0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_pmedian_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 15)), int(rng.integers(2, 6))
    k = int(rng.integers(1, m + 1))
    c = rng.random((n, m)) * 10
    d0 = rng.random(n) * 12
    w = rng.integers(0, 20, n).astype(float)
    best = min(float((w * np.minimum(d0, c[:, list(s)].min(axis=1))).sum()) for s in itertools.combinations(range(m), k))
    r = solve_pmedian(c, w, k, existing_cost=d0, time_limit=10)
    assert r.mean_cost_after * (w.sum() or 1.0) == pytest.approx(best)


# --------------------------------------------------------------------------- what-if


def _toy_whatif():
    # four demand points along a line 1 km apart (EPSG:6372 metres), one existing hospital at x=0
    crs = "EPSG:6372"
    pts = [shapely.Point(2_500_000 + 1000 * i, 1_000_000) for i in range(4)]
    demand = gpd.GeoDataFrame({"demanda": [100.0, 50.0, 30.0, 20.0]}, geometry=pts, crs=crs).to_crs(4326)
    hosp = gpd.GeoDataFrame({"nom_estab": ["H"]}, geometry=[pts[0]], crs=crs).to_crs(4326)
    return WhatIf(demand, hosp, 1500, crs=crs), demand


def test_whatif_add_remove_and_the_three_numbers():
    w, demand = _toy_whatif()
    assert w.figures() == {"total": 200.0, "atendida": 150.0, "en_competencia": 0.0, "sin_cobertura": 50.0,
                           "hospitales_existentes": 1, "hospitales_nuevos": 0}
    lat, lon = demand.geometry.iloc[2].y, demand.geometry.iloc[2].x
    new = w.add(lat, lon, nombre="Propuesta")
    f = w.figures()
    # the new hospital reaches d1, d2, d3; d1 was already served by the existing one
    assert (f["atendida"], f["en_competencia"], f["sin_cobertura"]) == (200.0, 50.0, 0.0)
    assert w.nearest(lat, lon) == new
    w.remove(new)
    assert w.figures()["sin_cobertura"] == 50.0
    w.remove("existente-1")
    assert w.figures()["atendida"] == 0.0
    with pytest.raises(ConfigError, match="not in the scenario"):
        w.remove("nuevo-9")


def test_scenarios_round_trip_and_compare():
    w, demand = _toy_whatif()
    base = w.scenario("Actual")
    w.add(demand.geometry.iloc[3].y, demand.geometry.iloc[3].x)
    w.remove("existente-1")
    alt = w.scenario("Mover")
    back = scenarios_from_json(scenarios_to_json([base, alt]))
    assert [s.nombre for s in back] == ["Actual", "Mover"]
    assert back[1].retirados == ["existente-1"] and len(back[1].agregados) == 1
    table = compare_scenarios(back)
    assert table["atendida"].tolist() == [150.0, 50.0]
    assert table["sin_cobertura"].tolist() == [50.0, 150.0]
    # replaying the saved scenario on a fresh what-if gives the same numbers
    fresh, _ = _toy_whatif()
    assert back[1].apply(fresh).figures()["atendida"] == 50.0


def test_scenarios_file_problems_are_reported_together():
    bad = '{"escenarios": [{"nombre": "A", "servicio_km": -1}, {"servicio_km": 5}, ' \
          '{"nombre": "C", "servicio_km": 5, "agregados": [{"lat": 200, "lon": 0}]}]}'
    with pytest.raises(DataError) as exc:
        scenarios_from_json(bad)
    msg = str(exc.value)
    assert "escenario 1 (A): servicio_km" in msg and "escenario 2: falta 'nombre'" in msg and "escenario 3 (C)" in msg
    with pytest.raises(DataError, match="not valid JSON"):
        scenarios_from_json("{")
    assert Scenario("x", 5.0).agregados == []


@pytest.mark.parametrize("fields", [
    '"agregados": null', '"retirados": null', '"cifras": [1]', '"cifras": {"total": "mucho"}',
])
def test_scenarios_file_with_wrong_shapes_is_a_data_error(fields):
    # a hand-edited scenarios file used to raise TypeError/ValueError/AttributeError past the view's handler
    with pytest.raises(DataError, match="escenario 1 \\(A\\)"):
        scenarios_from_json('{"escenarios": [{"nombre": "A", "servicio_km": 5, ' + fields + '}]}')


def test_scenarios_file_refuses_an_infinite_radius():
    with pytest.raises(DataError, match="servicio_km"):
        scenarios_from_json('{"escenarios": [{"nombre": "A", "servicio_km": "inf"}]}')
