"""Exports on a small hand-built atlas: sizes, pixels, legend colours, scale bar, PDF/PPTX structure,
escaping, GeoPackage/ZIP round trips, tiles with a clean offline fallback, the CLI's argument checks."""

from __future__ import annotations

import dataclasses
import http.server
import io
import json
import re
import subprocess
import threading
import zipfile
from types import SimpleNamespace

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from atlas.build import Atlas
from atlas.catchment import catchment_from_network
from atlas.cli import main
from atlas.export.basemap import tiles_image
from atlas.export.data import data_zip_bytes, metadata, write_gpkg
from atlas.export.files import export_files
from atlas.export.html import html_document
from atlas.export.pdf import report_pdf
from atlas.export.png import SIZES, map_figure, metric_bounds, png_bytes, scale_bar
from atlas.export.pptx import slides_pptx
from atlas.export.views import (
    BAND_COLORS,
    catchment_view,
    density_view,
    describe_filters,
    hospitals_view,
    sites_view,
    views_from_atlas,
)
from atlas.filters import Filters
from atlas.layers import layers_from_establishments, load_layer_specs
from atlas.network import Network

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TO_M = pyproj.Transformer.from_crs(4326, 6372, always_xy=True)
TO_LL = pyproj.Transformer.from_crs(6372, 4326, always_xy=True)
X0, Y0 = TO_M.transform(-101.68, 21.12)


def _ll(x_km, y_km):
    return TO_LL.transform(X0 + np.asarray(x_km, float) * 1000, Y0 + np.asarray(y_km, float) * 1000)


@pytest.fixture(scope="module")
def tiny(leon) -> Atlas:
    """3 hospitals (one named with markup), 40 clinics in two tight groups, 1 university, 2 social
    assistance units and 30 shops around León's centre; a 1 km historic zone."""
    rng = np.random.default_rng(7)
    rows = []

    def add(n, clase, nombre_act, name, cx, cy, spread):
        for i in range(n):
            lon, lat = _ll(cx + rng.normal(0, spread), cy + rng.normal(0, spread))
            rows.append({"nom_estab": name.format(i=i), "nombre_act": nombre_act, "clase": clase, "codigo_act": clase,
                         "municipio": "León", "cvegeo": "11020", "ubicacion": "denue", "geometry": shapely.Point(lon, lat)})

    add(1, "622111", "Hospitales generales del sector privado", EVIL, 0, 0, 0.01)
    add(1, "622112", "Hospitales generales del sector público", "HOSPITAL GENERAL", 1.5, 0.5, 0.01)
    add(1, "622311", "Hospitales del sector privado de otras especialidades médicas", "HOSPITAL DE ESPECIALIDADES", -2, 1, 0.01)
    add(20, "621111", "Consultorios de medicina general del sector privado", "CONSULTORIO A{i}", 0, 0, 0.08)
    add(20, "621211", "Consultorios dentales del sector privado", "DENTAL B{i}", 3, -1, 0.08)
    add(1, "611312", "Escuelas de educación superior del sector privado", "UNIVERSIDAD DE LA SALLE BAJIO", 2, 2, 0.01)
    add(2, "624411", "Guarderías del sector privado", "GUARDERIA {i}", -1, -1, 0.2)
    add(30, "461110", "Comercio al por menor en tiendas de abarrotes", "ABARROTES {i}", 0, 0, 2.0)
    est = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    est["id"] = [str(i) for i in range(len(est))]
    est["en_ciudad_historica"] = est.to_crs(6372).distance(shapely.Point(X0, Y0)) < 500
    specs = load_layer_specs()
    layers = layers_from_establishments(est, specs)
    zone = gpd.GeoDataFrame({"nombre": ["Ciudad Histórica"], "aproximada": [True], "fuente": ["prueba"]},
                            geometry=[shapely.Point(X0, Y0).buffer(500)], crs=6372).to_crs(4326)
    layers["ciudad_historica"] = zone
    quarantine = pd.DataFrame({"nom_estab": ["SIN COORDENADAS"], "motivo": ["sin_coordenadas"]})
    summary = {"construido": "2025-08-23T12:00:00+00:00", "fuente": "DENUE de prueba",
               "filas": {"leidas": len(est) + 1, "aceptadas": len(est), "en_cuarentena": 1},
               "cuarentena_por_motivo": {"sin_coordenadas": 1}, "unidades_salud": {"621_623": 43},
               "ciudad_historica": {"aproximada": True}}
    return Atlas(region=leon, layers=layers, quarantine=quarantine, summary=summary, specs=specs)


@pytest.fixture(scope="module")
def dens(tiny):
    """The density view once (99 permutations: the test is about the export, not Gi*'s resolution)."""
    return density_view(tiny, params=dataclasses.replace(tiny.region.density, hotspot_permutations=99))


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])


def _pixels_of(img: np.ndarray, hex_color: str, tol: int = 4) -> int:
    return int((np.abs(img[..., :3].astype(int) - _rgb(hex_color)).max(axis=-1) <= tol).sum())


# --------------------------------------------------------------------------- PNG


def test_presentation_png_has_its_size_and_is_not_blank(tiny):
    data = png_bytes(hospitals_view(tiny), basemap="propio")
    img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert img.shape == (1080, 1920, 3)
    grey = img.mean(axis=-1)
    assert grey.std() > 20  # a blank or single-colour canvas has (almost) none
    assert (grey < 128).mean() > 0.005  # dark ink: title, legend, scale bar
    # the map area holds the basemap and points, not just the background
    map_area = img[140:780, 30:1330]
    assert len(np.unique(map_area.reshape(-1, 3), axis=0)) > 200


def test_print_png_is_letter_at_300_dpi(tiny):
    img = Image.open(io.BytesIO(png_bytes(hospitals_view(tiny), size="impresion", basemap="propio")))
    assert img.size == SIZES["impresion"].pixels == (3300, 2550)
    assert img.info.get("dpi", (0, 0))[0] == pytest.approx(300, abs=1)


def test_legend_colours_are_the_layer_styles(tiny):
    view = hospitals_view(tiny)
    img = np.asarray(Image.open(io.BytesIO(png_bytes(view, basemap="propio"))).convert("RGB"))
    legend = img[120:560, int(0.73 * 1920):]  # the side panel's top: the legend
    specs = tiny.specs
    for layer in ("hospitales", "unidades_auxiliares", "universidades"):
        assert _pixels_of(legend, specs[layer].color) > 30, layer
    # social assistance is hidden by default: its colour must not be in the legend
    assert specs["asistencia_social"].visible is False
    assert _pixels_of(legend, specs["asistencia_social"].color) == 0
    labels = [lyr.legend_label for lyr in view.layers]
    assert "Hospitales (3)" in labels and "Unidades auxiliares (40)" in labels


def test_scale_bar_is_a_round_length_true_on_the_ground():
    bounds = metric_bounds((-101.80, 21.05, -101.55, 21.20), "EPSG:6372", aspect=16 / 9)
    km, length = scale_bar(bounds, "EPSG:6372")
    assert km in {1, 2, 5, 10, 20}
    # the bar's two ends, back on the ellipsoid, are km × 1000 metres apart
    cy = (bounds[1] + bounds[3]) / 2
    x0 = (bounds[0] + bounds[2]) / 2 - length / 2
    lon, lat = TO_LL.transform([x0, x0 + length], [cy, cy])
    _, _, d = pyproj.Geod(ellps="WGS84").inv(lon[0], lat[0], lon[1], lat[1])
    assert d == pytest.approx(km * 1000, rel=2e-3)


def test_unavailable_view_says_why_on_the_map(tiny):
    view = sites_view(tiny, result=None, reason="prueba de ausencia")
    assert view.available is False and view.notes[0] == "Análisis no disponible: prueba de ausencia"
    img = np.asarray(Image.open(io.BytesIO(png_bytes(view, basemap="propio"))).convert("RGB"))
    assert _pixels_of(img, "#7a1f1f") > 200  # the notice's frame and text


# --------------------------------------------------------------------------- views


def test_filters_reach_every_layer_and_the_subtitle(tiny):
    f = Filters(sectores=("público",))
    view = hospitals_view(tiny, f)
    by_id = {lyr.id: lyr for lyr in view.layers}
    assert len(by_id["hospitales"].data) == 1 and by_id["hospitales"].data["nom_estab"].iloc[0] == "HOSPITAL GENERAL"
    assert len(by_id["unidades_auxiliares"].data) == 0
    assert view.subtitle.endswith("Sector: público")
    assert describe_filters(Filters(municipios=("11020",), nombre=" aranda "), tiny) == "Municipio: León · Nombre contiene «aranda»"


def test_density_view_finds_the_two_clinic_groups(dens):
    view = dens
    assert view.available
    clusters = view.results["densidad_clusteres"]
    assert sorted(clusters["unidades"].tolist()) == [20, 21]  # 20 dentists; 20 clinics + the hospital beside them
    figures = {f.label: f.value for f in view.figures}
    assert figures["Unidades de salud analizadas"] == "43"
    bands = view.results["densidad_kde_bandas"]
    assert len(bands) >= 2 and [lyr.id for lyr in view.layers if lyr.id.startswith("kde_")] == [f"kde_{v:g}" for v in bands["desde"]]


def test_density_view_with_no_units_left_is_unavailable(tiny):
    view = density_view(tiny, Filters(nombre="NO EXISTE"))
    assert not view.available
    assert "quedan 0 unidades de salud" in view.notes[0]


def _line_net(n=61):
    x = X0 + np.arange(n) * 1000.0
    xy = np.column_stack([x, np.full(n, Y0)])
    lon, lat = TO_LL.transform(xy[:, 0], xy[:, 1])
    t = np.arange(n - 1)
    return Network(xy, np.column_stack([lon, lat]), t, t + 1, np.ones(n - 1), np.full(n - 1, 1000.0), False, "EPSG:6372")


def test_catchment_view_shows_each_band_with_its_population(tiny):
    lon, lat = _ll([5, 50], [0, 3])
    locs = gpd.GeoDataFrame({"CVEGEO_MUN": ["11020", "14053"], "NOM_ENT": ["Guanajuato", "Jalisco"],
                             "NOM_MUN": ["León", "Lagos"], "POBTOT": [100, 20]},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)
    o_lon, o_lat = _ll([0], [0])
    origins = gpd.GeoDataFrame({"nombre": ["Origen"]}, geometry=gpd.points_from_xy(o_lon, o_lat), crs=4326)
    # 5 km of road at 60 km/h = 5 min; 50 km of road + 3 km off it at 30 km/h × 1.3 = 57.8 min
    res = catchment_from_network(_line_net(), origins, locs, minutes=(30, 60), radius_km=100)
    view = catchment_view(tiny, result=res)
    assert view.tables[0].frame["Población"].tolist() == [100, 120]
    bands = [lyr for lyr in view.layers if lyr.id.startswith("banda_")]
    assert [b.label for b in bands] == ["Hasta 60 min: 120 hab.", "Hasta 30 min: 100 hab."]
    assert [b.color for b in bands] == [BAND_COLORS[1], BAND_COLORS[0]]  # nearest band darkest, on top
    assert {f.label: f.value for f in view.figures}["Población a ≤ 30 min"] == "100"


def _fake_siting():
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(21.12, -101.68, 8), 2))  # 19 hexagons
    lat, lon = np.array([h3.cell_to_latlng(c) for c in cells]).T
    table = gpd.GeoDataFrame({"sitio": [f"h3:{c}" for c in cells], "puntaje": np.linspace(10, 90, len(cells))},
                             geometry=gpd.points_from_xy(lon, lat), crs=4326)
    table["rango"] = table["puntaje"].rank(ascending=False, method="min").astype(int)

    def optimal_sites():
        t = table.iloc[[18, 3]].copy()
        return t.assign(orden=[1, 2], ganancia=[500.0, 120.0])

    return SimpleNamespace(table=table, optimal_sites=optimal_sites,
                           mclp=SimpleNamespace(demand_total=1000.0, covered_before=600.0, covered_after=862.0),
                           service={"km": 5.0, "nota": "5 km en línea recta."}, demand=None)


def test_sites_view_draws_score_quintiles_as_hexagons(tiny):
    view = sites_view(tiny, result=_fake_siting())
    quint = [lyr for lyr in view.layers if lyr.id.startswith("puntaje_")]
    assert len(quint) == 5 and sum(len(q.data) for q in quint) == 19
    assert all((q.data.geom_type == "Polygon").all() for q in quint)
    assert view.tables[1].frame["Sitio"].tolist() == [view.results["sitios_candidatos"]["sitio"].iloc[i] for i in (18, 3)]
    figures = {f.label: f.value for f in view.figures}
    assert figures["Demanda cubierta hoy"] == "60.0 %" and figures["Con los sitios nuevos"] == "86.2 %"


# --------------------------------------------------------------------------- PDF and PowerPoint


def test_pdf_has_the_expected_pages_and_searchable_titles(tiny, tmp_path):
    views = [hospitals_view(tiny), sites_view(tiny, result=None, reason="no calculado")]
    rep = report_pdf(views, tiny, basemap="propio")
    reader = PdfReader(io.BytesIO(rep.data))
    # cover, hospital map, its tables (two pages: the plan's 14 classes do not fit beside the rest),
    # the unavailable sites map (no tables), methods
    assert len(reader.pages) == len(rep.pages) == 6
    assert rep.pages[2:4] == ["Hospitales y unidades de salud: cifras y tablas",
                              "Hospitales y unidades de salud: cifras y tablas (continuación)"]
    texts = [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]
    for text, title in zip(texts, rep.pages):
        assert title in text
    assert "Análisis no disponible: no calculado" in texts[4]
    path = tmp_path / "r.pdf"
    path.write_bytes(rep.data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Métodos y límites de los datos" in out and "Hospitales por tipo y sector" in out
    assert "pág. 6" in texts[0]  # the table of contents points at the methods page


def test_pptx_has_one_slide_per_map_and_editable_titles(tiny, dens):
    views = [hospitals_view(tiny), dens]
    prs = Presentation(io.BytesIO(slides_pptx(views, tiny, basemap="propio")))
    slides = list(prs.slides)
    assert len(slides) == 4
    titles = [s.shapes.title.text for s in slides]
    assert titles == [f"Atlas de servicios de salud — {tiny.region.nombre}", "Cifras clave", views[0].title, views[1].title]
    assert slides[2].notes_slide.notes_text_frame.text.startswith("DENUE: ")  # the view's notes for the speaker
    assert all(s.shapes.title.is_placeholder for s in slides)
    assert prs.slide_width / prs.slide_height == pytest.approx(16 / 9, rel=1e-3)
    for s in slides[2:]:
        pictures = [sh for sh in s.shapes if sh.shape_type == 13]
        assert len(pictures) == 1 and pictures[0].width > 0.9 * prs.slide_width
    for s in slides:  # every shape has a size and sits on the slide (a placeholder moved carelessly loses both)
        for sh in s.shapes:
            assert sh.width > 0 and sh.height > 0 and sh.left >= 0 and sh.top >= 0, sh.name
            assert sh.left + sh.width <= prs.slide_width and sh.top + sh.height <= prs.slide_height, sh.name
    table = next(sh for sh in slides[1].shapes if sh.has_table).table
    cells = [table.cell(r, 1).text for r in range(len(table.rows))]
    assert "Hospitales en el mapa" in cells and "Unidades de salud analizadas" in cells


# --------------------------------------------------------------------------- HTML


def test_html_escapes_names_and_opens_without_the_app(tiny):
    html = html_document(hospitals_view(tiny), tiles=False)
    assert "<script>alert" not in html and "<img src=x" not in html
    decoded = html.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in decoded
    assert "/app/static" not in html and "__LOCAL__" not in html and "url(images/" not in html
    assert "L.map(" in html and "municipales (INEGI)" in html


# --------------------------------------------------------------------------- data


def test_gpkg_round_trips_layers_rows_and_crs(tiny, dens, tmp_path):
    views = [dens]
    path = write_gpkg(tmp_path / "x.gpkg", tiny, Filters(), views)
    listed = {name for name, _ in pyogrio.list_layers(path)}
    assert set(tiny.layers) | {"densidad_clusteres", "densidad_kde_bandas", "cuarentena", "metadatos"} <= listed
    for name, gdf in tiny.layers.items():
        back = pyogrio.read_dataframe(path, layer=name)
        assert len(back) == len(gdf) and back.crs.to_epsg() == 4326, name
        assert back.geometry.geom_equals_exact(gdf.geometry.reset_index(drop=True), 1e-9).all(), name
    assert len(pyogrio.read_dataframe(path, layer="cuarentena")) == 1
    meta = pyogrio.read_dataframe(path, layer="metadatos")
    assert "capas_construidas" in set(meta["clave"])


def test_gpkg_holds_the_filtered_layers(tiny, tmp_path):
    path = write_gpkg(tmp_path / "f.gpkg", tiny, Filters(sectores=("público",)))
    assert len(pyogrio.read_dataframe(path, layer="hospitales")) == 1
    est = pyogrio.read_dataframe(path, layer="establecimientos")
    assert set(est["sector"]) == {"público"}


def test_data_zip_has_geojson_csv_quarantine_and_metadata(tiny, dens):
    zf = zipfile.ZipFile(io.BytesIO(data_zip_bytes(tiny, Filters(), [hospitals_view(tiny), dens])))
    names = set(zf.namelist())
    assert {"cuarentena.csv", "metadatos.json", "metadatos.csv", "LEEME.txt", "geojson/hospitales.geojson",
            "geojson/densidad_kde_bandas.geojson", "csv/tabla_hospitales_hospitales_por_tipo_y_sector.csv"} <= names
    hosp = json.loads(zf.read("geojson/hospitales.geojson"))
    assert len(hosp["features"]) == 3 and EVIL in {f["properties"]["nom_estab"] for f in hosp["features"]}
    bands = json.loads(zf.read("geojson/densidad_kde_bandas.geojson"))  # strict JSON: no Infinity
    assert bands["features"][-1]["properties"]["hasta"] is None
    meta = json.loads(zf.read("metadatos.json"))
    assert meta["capas_construidas"] == "2025-08-23T12:00:00+00:00"
    assert meta["region"]["id"] == "leon" and meta["configuracion"]["crs_metric"] == "EPSG:6372"
    assert any(f["archivo"] == "denue_leon_api_2025-08.csv" for f in meta["fuentes"]["archivos"])
    assert set(meta["vistas"]) == {"hospitales", "densidad"}


def test_metadata_names_the_filters(tiny):
    meta = metadata(tiny, Filters(clases=("622",)), [])
    assert meta["filtros"]["clases"] == ["622"] and meta["filtros"]["texto"] == "Clases SCIAN: 622"


# --------------------------------------------------------------------------- tiles


class _Tiles(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        buf = io.BytesIO()
        Image.new("RGB", (256, 256), (10, 200, 30)).save(buf, format="PNG")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(buf.getvalue())

    def log_message(self, *args):
        pass


def test_tiles_are_used_when_reachable_and_skipped_cleanly_when_not(tiny):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
        bounds = metric_bounds((-101.70, 21.10, -101.66, 21.14), "EPSG:6372")
        img = tiles_image(bounds, "EPSG:6372", 64, 48, url=url)
        assert img.shape == (48, 64, 3) and (img == (10, 200, 30)).all()
        fig = map_figure(hospitals_view(tiny), size="diapositiva", basemap="auto", chrome=False, tiles_url=url)
        assert fig._atlas_tiles is True
    finally:
        server.shutdown()
        server.server_close()
    dead = f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"  # nothing listens there now
    assert tiles_image(bounds, "EPSG:6372", 64, 48, url=dead, timeout=1) is None
    fig = map_figure(hospitals_view(tiny), size="diapositiva", basemap="auto", chrome=False, tiles_url=dead)
    assert fig._atlas_tiles is False


# --------------------------------------------------------------------------- entry points


def test_export_files_names_one_file_per_view_for_png_and_reports_progress(tiny):
    seen = []
    files, timing = export_files(tiny, Filters(), ["hospitales", "sitios"], "html",
                                 results={"sitios": _fake_siting()}, progress=lambda f, m: seen.append(f))
    assert [f.name for f in files] == ["atlas_leon_hospitales.html", "atlas_leon_sitios.html"]
    assert [f.view for f in files] == ["hospitales", "sitios"]
    assert seen == sorted(seen) and seen[-1] == 1.0 and set(timing) == {"vistas_s", "archivos_s"}


def test_views_from_atlas_rejects_unknown_views(tiny):
    with pytest.raises(Exception, match='view was "mapa" but is expected to be one of hospitales'):
        views_from_atlas(tiny, Filters(), ["mapa"])


@pytest.mark.parametrize("argv, message", [
    (["--clase", "abc"], '--clase was "abc"'),
    (["--municipio", "1102"], '--municipio was "1102"'),
])
def test_cli_rejects_bad_filters_in_one_sentence(argv, message, capsys):
    assert main(["export", "--view", "hospitales", "--format", "png", *argv]) == 2
    assert message in capsys.readouterr().err
