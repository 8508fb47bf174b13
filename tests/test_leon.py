"""The real León data: counts the data README states, named hospitals, files written and read back."""

from __future__ import annotations

import json

import pyogrio
import pytest

from atlas.build import is_current, read_atlas, write_atlas
from atlas.commands.build import format_summary

pytestmark = pytest.mark.slow


def test_rows_reconcile(leon_atlas):
    f = leon_atlas.summary["filas"]
    assert f["leidas"] == 105_278
    assert f["aceptadas"] + f["en_cuarentena"] == f["leidas"]
    assert len(leon_atlas.quarantine) == f["en_cuarentena"]
    # the dump carries three neighbouring municipios: they are outside León, not lost
    assert leon_atlas.summary["cuarentena_por_motivo"] == {"fuera_de_region": 20_477}
    assert f["aceptadas"] == 84_801


def test_layer_counts_match_the_data_readme(leon_atlas):
    layers = leon_atlas.layers
    assert len(layers["hospitales"]) == 60
    h = layers["hospitales"]
    by = h.groupby(["tipo", "sector"]).size().to_dict()
    assert by == {
        ("general", "privado"): 21,
        ("general", "público"): 24,
        ("otras especialidades", "privado"): 13,
        ("psiquiátrico", "privado"): 2,
    }
    u = leon_atlas.summary["unidades_salud"]
    assert u["621_623"] == 3_132
    assert u["621_624"] == 3_563
    assert 4_500 < len(layers["unidades_auxiliares"]) < 4_800
    assert 10 <= len(layers["universidades"]) <= 25
    assert len(layers["universidades"]) + len(layers["educacion_superior_otras"]) == 91


@pytest.mark.parametrize("name", ["HOSPITAL ARANDA DE LA PARRA", "HOSPITAL ANGELES LEON", "MEDICA CAMPESTRE",
                                  "HOSPITAL REGIONAL DE ALTA ESPECIALIDAD DEL BAJIO"])
def test_named_hospitals_present(leon_atlas, name):
    assert name in set(leon_atlas.layers["hospitales"]["nom_estab"])


def test_universities_include_the_health_faculties(leon_atlas):
    names = set(leon_atlas.layers["universidades"]["nom_estab"])
    assert "UNIVERSIDAD DE LA SALLE BAJIO" in names
    assert "UNIVERSIDAD DE GUANAJUATO DIVISION DE CIENCIAS DE LA SALUD  DEPARTAMENTO DE CIENCIAS APLICADAS AL TRABAJO SEDE GARZA SADA" in names
    assert not any(n.startswith("ESTACIONAMIENTO") for n in names)


def test_historic_centre_holds_the_cathedral(leon_atlas):
    zone = leon_atlas.layers["ciudad_historica"]
    assert bool(zone["aproximada"].iloc[0])
    area = zone.to_crs(6372).area.iloc[0] / 1e6
    assert 0.5 < area < 5  # km²: the centre and Barrio Arriba, not the city
    est = leon_atlas.layers["establecimientos"]
    cat = est[est["nom_estab"] == "CATEDRAL BASILICA DE LEON"]
    assert cat["en_ciudad_historica"].all()
    inside = leon_atlas.summary["ciudad_historica"]["dentro"]
    assert 0 < inside["hospitales"] < 60
    assert inside["establecimientos"] > 1000


def test_write_read_round_trip(leon_atlas, tmp_path):
    out = write_atlas(leon_atlas, tmp_path)
    assert {name for name, _ in pyogrio.list_layers(out / "atlas.gpkg")} == set(leon_atlas.layers)
    back = read_atlas(leon_atlas.region, tmp_path)
    for k, gdf in leon_atlas.layers.items():
        assert len(back.layers[k]) == len(gdf)
        assert back.layers[k].crs.to_epsg() == 4326
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["capas"]["hospitales"] == 60
    assert is_current(leon_atlas.region, tmp_path)
    assert "hospitales: 60" in format_summary(leon_atlas.summary)
