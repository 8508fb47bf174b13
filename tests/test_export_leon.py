"""Exports of León's real build: the GeoPackage round trip, the density view's counts, the CLI end
to end (a user's DENUE extract, a PDF report) and a print PNG whose legend carries the layer colours."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pyogrio
import pytest
from PIL import Image

from atlas.cli import main
from atlas.export.data import write_gpkg
from atlas.export.png import png_bytes
from atlas.export.views import density_view, hospitals_view
from atlas.filters import Filters

pytestmark = pytest.mark.slow


def test_gpkg_has_every_layer_with_the_rows_and_crs_as_built(leon_atlas, tmp_path):
    path = write_gpkg(tmp_path / "leon.gpkg", leon_atlas)
    listed = {name for name, _ in pyogrio.list_layers(path)}
    assert set(leon_atlas.layers) <= listed and {"cuarentena", "metadatos"} <= listed
    for name, built in leon_atlas.layers.items():
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == len(built), name
        assert info["crs"] == "EPSG:4326", name
        assert set(built.columns) - {"geometry"} <= set(info["fields"]), name
    hosp = pyogrio.read_dataframe(path, layer="hospitales")
    assert sorted(hosp["nom_estab"]) == sorted(leon_atlas.layers["hospitales"]["nom_estab"])
    assert info_rows(path, "cuarentena") == len(leon_atlas.quarantine) == 20_477


def info_rows(path, layer: str) -> int:
    return pyogrio.read_info(path, layer=layer)["features"]


def test_density_view_counts_the_same_units_as_the_build(leon_atlas):
    view = density_view(leon_atlas)
    figures = {f.label: f.value for f in view.figures}
    assert figures["Unidades de salud analizadas"] == f"{leon_atlas.summary['unidades_salud']['621_623']:,}" == "3,132"
    assert len(view.results["densidad_clusteres"]) >= 10
    hosp = next(lyr for lyr in view.layers if lyr.id == "hospitales")
    assert len(hosp.data) == 60


def test_print_png_of_leon_is_full_and_its_legend_has_the_layer_colours(leon_atlas):
    view = hospitals_view(leon_atlas, Filters(sectores=("privado",)))
    img = np.asarray(Image.open(io.BytesIO(png_bytes(view, size="impresion", basemap="propio"))).convert("RGB"))
    assert img.shape == (2550, 3300, 3)
    legend = img[int(0.1 * 2550):int(0.45 * 2550), int(0.73 * 3300):]
    for layer in ("hospitales", "unidades_auxiliares", "universidades"):
        rgb = np.array([int(leon_atlas.specs[layer].color[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(legend.astype(int) - rgb).max(axis=-1) <= 4).sum() > 100, layer
    assert "Hospitales (36)" in [lyr.legend_label for lyr in view.layers]  # 21 general + 13 specialty + 2 psychiatric


def test_cli_exports_a_users_extract_with_names_escaped(tmp_path, capsys):
    p = tmp_path / "mio.csv"
    p.write_text(
        "nom_estab,nombre_act,latitud,longitud\n"
        '"<script>alert(1)</script>",Hospitales generales del sector privado,21.1221,-101.6823\n'
        "CLINICA,Consultorios de medicina general del sector privado,21.13,-101.67\n",
        encoding="utf-8",
    )
    out = tmp_path / "mapa.html"
    rc = main(["export", "--region", "leon", "--denue", str(p), "--view", "hospitales", "--format", "html",
               "--out", str(out), "--json"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["archivos"] == [{"archivo": str(out), "bytes": out.stat().st_size}]
    html = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "Hospitales (1)" in html


def test_cli_pdf_report_of_leon_is_searchable(tmp_path, capsys):
    out = tmp_path / "informe.pdf"
    rc = main(["export", "--region", "leon", "--view", "hospitales", "--format", "pdf", "--basemap", "propio",
               "--out", str(out), "--quiet"])
    assert rc == 0 and out.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Hospitales y unidades de salud · León, Guanajuato" in text
    assert "Hospitales en el mapa" in text and "Métodos y límites de los datos" in text
    assert "escrito " + str(out) in capsys.readouterr().out


def test_app_export_panel_builds_a_download_from_the_current_filters():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=300)
    at.query_params["region"] = "leon"
    at.run()
    at.selectbox(key="exportar_hospitales_formato").set_value("Mapa interactivo HTML").run()
    at.button(key="exportar_hospitales_preparar").click().run()
    assert not at.exception
    labels = [d.proto.label for d in at.get("download_button")]
    assert len(labels) == 1 and labels[0].startswith("Descargar atlas_leon_hospitales.html")
    # a filter changed after the file was built: the old file is not offered as if it were current
    at.sidebar.multiselect(key="mapa_sector").set_value(["público"]).run()
    assert not at.get("download_button")
    assert any("prepare el archivo de nuevo" in i.value for i in at.info)
