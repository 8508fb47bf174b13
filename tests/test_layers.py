"""Layer definitions and the classification of establishments into layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from atlas import ConfigError
from atlas.layers import ALL_LAYER, layers_from_establishments, load_layer_specs


def _est(rows):
    cols = ["id", "nom_estab", "codigo_act", "nombre_act", "clase"]
    return gpd.GeoDataFrame(
        [dict(zip(cols, r)) for r in rows], geometry=[shapely.Point(-101.7, 21.1)] * len(rows), crs=4326
    )


def test_specs_load_in_order_with_labels_and_colours():
    specs = load_layer_specs()
    assert list(specs)[:4] == ["ciudad_historica", "hospitales", "unidades_auxiliares", "universidades"]
    assert specs["hospitales"].etiqueta == "Hospitales"
    assert specs["hospitales"].tipo["6221"] == "general"
    assert not specs["ciudad_historica"].is_points
    assert all(s.color.startswith("#") for s in specs.values())


def test_classification_sector_and_type():
    est = _est([
        ("1", "HOSPITAL ÁNGELES", "622111", "Hospitales generales del sector privado", "622111"),
        ("2", "HOSPITAL PSIQUIÁTRICO", "622212", "Hospitales psiquiátricos y para el tratamiento por adicción del sector público", "622212"),
        ("3", "HOSPITAL DE LA MUJER", "622311", "Hospitales del sector privado de otras especialidades médicas", "622311"),
        ("4", "CONSULTORIO", "621113", "Consultorios de medicina especializada del sector privado", "621113"),
        ("5", "FACULTAD DE MEDICINA", "611312", "Escuelas de educación superior del sector público", "611312"),
        ("6", "INSTITUTO DE INGENIERÍA", "611311", "Escuelas de educación superior del sector privado", "611311"),
        ("7", "ESTACIONAMIENTO UNIVERSIDAD DE LA SALUD", "611311", "Escuelas de educación superior del sector privado", "611311"),
        ("8", "GRUPO AA", "", "Agrupaciones de autoayuda para alcohólicos y personas con otras adicciones", "624191"),
        ("9", "FARMACIA", "464111", "Farmacias sin minisúper", "464111"),
        ("10", "TACOS", "", "Restaurantes con servicio de preparación de tacos y tortas", ""),
        ("11", "HOSPITAL GENERAL", "", "Hospitales generalesT", "62211"),
    ])
    out = layers_from_establishments(est, load_layer_specs())
    by = {k: sorted(v["id"]) for k, v in out.items()}
    assert by["hospitales"] == ["1", "11", "2", "3"]
    assert by["unidades_auxiliares"] == ["4", "9"]
    assert by["universidades"] == ["5"]
    assert by["educacion_superior_otras"] == ["6", "7"]
    assert by["asistencia_social"] == ["8"]
    assert len(out[ALL_LAYER]) == 11
    h = out["hospitales"].set_index("id")
    assert (h.loc["1", "sector"], h.loc["1", "tipo"]) == ("privado", "general")
    assert (h.loc["2", "sector"], h.loc["2", "tipo"]) == ("público", "psiquiátrico")
    assert h.loc["3", "tipo"] == "otras especialidades"
    assert (h.loc["11", "sector"], h.loc["11", "tipo"]) == ("sin distinguir", "general")
    assert "capa" not in est.columns  # input untouched


def test_bad_layer_file_is_named(tmp_path):
    (tmp_path / "x.toml").write_text('id = "x"\netiqueta = "X"\ncolor = "red"\nscian = ["621"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r'x\.toml: color "red"'):
        load_layer_specs(tmp_path)
