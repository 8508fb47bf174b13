"""DENUE reading and validation on small hand-made files with exact answers."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas import DataError
from atlas.denue import establishments_from_denue, read_denue, validate_establishments

HEADER = "id,nom_estab,codigo_act,nombre_act,cve_ent,cve_mun,cve_loc,latitud,longitud\n"


def _write(tmp_path, text, name="denue.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _validate(raw, toy_municipios, toy_localities=None):
    geom = toy_municipios.loc[toy_municipios.CVEGEO == "11020"].union_all()
    return validate_establishments(
        raw, region_geom=geom, municipios=toy_municipios, localities=toy_localities,
        region_codes=("11020",), tolerance_m=100.0,
    )


def test_latin1_file_keeps_accents(tmp_path):
    p = _write(tmp_path, HEADER + "1,FARMACIA SEÑOR DE LA MISERICORDIA,464111,Farmacias sin minisúper,11,020,0001,21.1,-101.7\n", encoding="latin-1")
    df = read_denue(p)
    assert df.loc[0, "nom_estab"] == "FARMACIA SEÑOR DE LA MISERICORDIA"
    assert df.loc[0, "nombre_act"] == "Farmacias sin minisúper"
    assert df.attrs["encoding"] == "latin-1"


def test_utf8_bom_and_upper_case_headers(tmp_path):
    text = "\ufeff" + HEADER.upper() + "1,CLÍNICA,621115,x,11,020,0001,21.1,-101.7\n"
    df = read_denue(_write(tmp_path, text))
    assert list(df.columns[:3]) == ["id", "nom_estab", "codigo_act"]
    assert df.loc[0, "nom_estab"] == "CLÍNICA"


def test_empty_file_is_a_clear_error(tmp_path):
    p = _write(tmp_path, "")
    with pytest.raises(DataError, match=r"denue\.csv.*empty"):
        read_denue(p)


def test_header_only_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no rows"):
        read_denue(_write(tmp_path, HEADER))


def test_missing_columns_named(tmp_path):
    p = _write(tmp_path, "nom_estab,latitud\nX,21.1\n")
    with pytest.raises(DataError) as exc:
        read_denue(p)
    msg = str(exc.value)
    assert "codigo_act or nombre_act" in msg and "longitud" in msg and "denue.csv" in msg


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_denue(tmp_path / "nope.csv")


def test_inegi_zip_is_read(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("conjunto_de_datos/denue_inegi_11_.csv", (HEADER + "1,HOSPITAL,622111,x,11,020,0001,21.1,-101.7\n").encode("latin-1"))
        zf.writestr("diccionario_de_datos/diccionario.csv", "campo,descripcion\n")
    p = tmp_path / "denue_11_csv.zip"
    p.write_bytes(buf.getvalue())
    df = read_denue(p)
    assert len(df) == 1 and df.loc[0, "fuente"].endswith("denue_inegi_11_.csv")


ROWS = {
    "ok": "1,HOSPITAL A,622111,Hospitales generales del sector privado,11,020,0001,21.10,-101.70",
    "swapped": "2,HOSPITAL B,622112,Hospitales generales del sector público,11,020,0001,-101.70,21.10",
    "zero": "3,C,621111,x,11,020,0001,0,0",
    "text": "4,D,621111,x,11,020,0001,veintiuno,-101.7",
    "abroad": "5,E,621111,x,11,020,0001,40.4,-3.7",
    "neighbour": "6,F,621111,x,11,037,0001,21.10,-101.60",
    "blank_code": "7,G,,Consultorios dentales del sector privado,11,020,0001,21.11,-101.71",
    "by_locality": "8,H,621211,x,11,020,0001,,",
    "no_position": "9,I,621211,x,11,020,,,",
    "unknown_locality": "10,J,621211,x,11,020,0999,,",
    "no_class": "11,K,,,11,020,0001,21.1,-101.7",
}


def test_every_row_is_accepted_or_quarantined_with_its_reason(tmp_path, toy_municipios, toy_localities):
    text = HEADER + "\n".join(ROWS.values()) + "\n" + ROWS["ok"] + "\n"  # last line duplicates the first
    res = establishments_from_denue(
        [_write(tmp_path, text)], region_geom=toy_municipios.geometry.iloc[0], municipios=toy_municipios,
        localities=toy_localities, region_codes=("11020",),
    )
    assert res.read == 12
    assert len(res.accepted) + len(res.quarantine) == 12
    reasons = dict(zip(res.quarantine["id"], res.quarantine["motivo"]))
    assert reasons == {
        "3": "coordenadas_cero",
        "4": "coordenadas_no_numericas",
        "5": "fuera_de_mexico",
        "6": "fuera_de_region",
        "9": "sin_coordenadas",
        "10": "localidad_no_encontrada",
        "11": "sin_clase",
        "1": "duplicado_exacto",
    }
    acc = res.accepted.set_index("id")
    assert sorted(acc.index) == ["1", "2", "7", "8"]
    assert acc.loc["2", "ubicacion"] == "coordenadas_invertidas"
    assert acc.loc["2"].geometry.y == pytest.approx(21.10) and acc.loc["2"].geometry.x == pytest.approx(-101.70)
    assert acc.loc["8", "ubicacion"] == "localidad"
    assert (acc.loc["8"].geometry.x, acc.loc["8"].geometry.y) == pytest.approx((-101.70, 21.10))
    assert acc.loc["7", "clase"] == "621211"  # resolved from the class name
    assert acc.loc["1", "cvegeo"] == "11020"
    assert res.counts["coordenadas_invertidas_corregidas"] == 1
    assert res.counts["ubicadas_por_localidad"] == 1
    assert res.accepted.crs.to_epsg() == 4326


def test_missing_id_gets_a_stable_key(tmp_path, toy_municipios):
    text = "nom_estab,codigo_act,latitud,longitud\nA,621111,21.1,-101.7\nB,621111,21.1,-101.7\n"
    raw = read_denue(_write(tmp_path, text))
    first = _validate(raw, toy_municipios).accepted["id"].tolist()
    again = _validate(read_denue(_write(tmp_path, text, name="again.csv")), toy_municipios).accepted["id"].tolist()
    assert first == again
    assert len(set(first)) == 2 and all(i.startswith("h") for i in first)


def test_subrama_names_with_t_marker_resolve():
    from atlas.scian import resolve_codes

    out = resolve_codes(pd.Series(["", "", "622111"]), pd.Series(["Hospitales generalesT", "Consultorios dentalesT", "x"]))
    assert out.tolist() == ["62211", "62121", "622111"]


_KINDS = ["ok", "swapped", "zero", "text", "abroad", "neighbour", "blank_code", "no_position", "no_class"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=30))
def test_accepted_plus_quarantined_equals_input(kinds):
    import geopandas as gpd
    import shapely

    munis = gpd.GeoDataFrame(
        {"CVEGEO": ["11020", "11037"], "NOMGEO": ["León", "Silao"]},
        geometry=[shapely.box(-101.75, 21.05, -101.65, 21.15), shapely.box(-101.65, 21.05, -101.55, 21.15)], crs=4326,
    )
    text = HEADER + "\n".join(ROWS[k] for k in kinds) + "\n"
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raw["fuente"], raw["linea"] = "mem", range(2, len(raw) + 2)
    res = _validate(raw, munis)
    assert len(res.accepted) + len(res.quarantine) == len(kinds)
    n_ok = sum(k in ("ok", "swapped", "blank_code") for k in dict.fromkeys(kinds))
    assert len(res.accepted) == n_ok  # repeats of the same row are exact duplicates


def test_inegi_title_marker_is_dropped_from_class_names(tmp_path, toy_municipios):
    text = "nom_estab,nombre_act,latitud,longitud\nH,Hospitales generalesT,21.1,-101.7\nX,Comercio al por menor de ropa de bebéT,21.1,-101.7\n"
    acc = _validate(read_denue(_write(tmp_path, text)), toy_municipios).accepted
    assert acc["nombre_act"].tolist() == ["Hospitales generales", "Comercio al por menor de ropa de bebé"]
    assert acc["clase"].tolist() == ["62211", ""]


def test_declared_municipio_wins_over_simplified_polygons(tmp_path, toy_municipios):
    # 50 m across the (simplified) boundary into the neighbour, but declared in León: León's unit
    text = HEADER + "1,A,621111,x,11,020,0001,21.10,-101.6495\n"
    acc = _validate(read_denue(_write(tmp_path, text)), toy_municipios).accepted
    assert acc[["cvegeo", "municipio"]].values.tolist() == [["11020", "León"]]
    # without a declared municipio, the polygons decide
    text2 = "nom_estab,codigo_act,latitud,longitud\nB,621111,21.10,-101.70\n"
    acc2 = _validate(read_denue(_write(tmp_path, text2, name="b.csv")), toy_municipios).accepted
    assert acc2[["cvegeo", "municipio"]].values.tolist() == [["11020", "León"]]
