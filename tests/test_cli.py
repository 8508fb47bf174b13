"""``atlas build`` end to end and its one-sentence errors."""

from __future__ import annotations

import json

import pytest

from atlas.cli import main


@pytest.mark.slow
def test_build_json_prints_honest_counts(tmp_path, capsys):
    rc = main(["build", "--region", "leon", "--out", str(tmp_path), "--json"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["capas"]["hospitales"] == 60
    assert s["filas"]["aceptadas"] + s["filas"]["en_cuarentena"] == s["filas"]["leidas"] == 105_278
    assert (tmp_path / "leon" / "atlas.gpkg").is_file()
    assert (tmp_path / "leon" / "quarantine.csv").is_file()
    rc = main(["build", "--region", "leon", "--out", str(tmp_path), "--json", "--if-stale"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["reutilizado"] is True


def test_build_with_a_user_extract(tmp_path, capsys):
    p = tmp_path / "mio.csv"
    p.write_text(
        "nom_estab,nombre_act,latitud,longitud\n"
        "HOSPITAL DE PRUEBA,Hospitales generales del sector privado,21.1221,-101.6823\n"
        "FUERA,Farmacias sin minisúper,19.43,-99.13\n",
        encoding="latin-1",
    )
    rc = main(["build", "--region", "leon", "--out", str(tmp_path), "--denue", str(p), "--json"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["capas"]["hospitales"] == 1
    assert s["cuarentena_por_motivo"] == {"fuera_de_region": 1}


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "--region", "atlantis"], 'Region "atlantis" is unknown'),
        (["build", "--region", "leon", "--denue", "/nonexistent/denue.csv"], "/nonexistent/denue.csv: DENUE file not found"),
    ],
)
def test_errors_exit_2_with_one_sentence(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_empty_and_malformed_files(tmp_path, capsys):
    empty = tmp_path / "vacio.csv"
    empty.write_text("")
    assert main(["build", "--denue", str(empty), "--out", str(tmp_path)]) == 2
    assert "vacio.csv: the DENUE file is empty" in capsys.readouterr().err
    bad = tmp_path / "cols.csv"
    bad.write_text("nombre_act,x\nFarmacias,1\n")
    assert main(["build", "--denue", str(bad), "--out", str(tmp_path)]) == 2
    assert "cols.csv: missing DENUE column(s): nom_estab" in capsys.readouterr().err


def test_build_dir_from_environment(tmp_path, monkeypatch, capsys):
    p = tmp_path / "mio.csv"
    p.write_text("nom_estab,nombre_act,latitud,longitud\nH,Hospitales generales del sector privado,21.1221,-101.6823\n")
    monkeypatch.setenv("ATLAS_BUILD_DIR", str(tmp_path / "builds"))
    assert main(["build", "--region", "leon", "--denue", str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["salida"] == str(tmp_path / "builds" / "leon")
    assert (tmp_path / "builds" / "leon" / "atlas.gpkg").is_file()
