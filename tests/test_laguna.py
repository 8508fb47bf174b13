"""La Laguna: the real 2017 extract of Torreón's historic centre (counts checked against the raw CSV by
hand), the subrama → layer mapping, INEGI's full bulk ZIPs for Coahuila and Durango (hand-made, Latin-1)
and the COVID-19 rates of the June 2020 round table (hand-computed)."""

from __future__ import annotations

import json
import zipfile

import folium
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from atlas import ConfigError, DataError
from atlas.build import build_region
from atlas.cli import main
from atlas.figures import published_figures
from atlas.geo import municipalities_from_gpkg
from atlas.layers import layers_from_establishments, load_layer_specs
from atlas.maps.base import base_map
from atlas.maps.covid import COLORS, add_cases_choropleth, cases_per_100k, covid_from_plan, rate_color
from atlas.scian import resolve_codes
from atlas.settings import load_region


@pytest.fixture(scope="module")
def laguna():
    region = load_region("laguna")
    if not region.denue_paths[0].is_file():
        pytest.fail(f"Torreón's DENUE is not at {region.denue_paths[0]}: set ATLAS_DATA_DIR to the shared data")
    return region


@pytest.fixture(scope="module")
def laguna_json(laguna, tmp_path_factory):
    """``atlas build --region laguna --json`` on the shared data, as a user runs it."""
    out = tmp_path_factory.mktemp("build")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["build", "--region", "laguna", "--out", str(out), "--json"])
    assert rc == 0
    return json.loads(buf.getvalue()), out


@pytest.fixture(scope="module")
def laguna_municipios(laguna):
    return municipalities_from_gpkg(laguna.path(laguna.files.municipios))


# -- configuration -------------------------------------------------------------------------------

def test_config_names_both_municipio_sets(laguna):
    assert laguna.municipios == ("05035", "05017", "05009", "10007", "10012")
    # the metropolitan zone proper: without Francisco I. Madero
    assert laguna.municipios_metropolitanos == ("05035", "05017", "10007", "10012")
    assert laguna.detalle_scian == "subrama" and laguna.crs_metric == "EPSG:6372"
    assert laguna.download.states == ("05", "10") == laguna.states
    assert "centro histórico de Torreón en 2017" in laguna.cobertura_parcial


def test_metropolitan_set_is_the_one_inegi_marks(laguna_municipios, laguna):
    zml = laguna_municipios[laguna_municipios["ZONA_METRO"] == "La Laguna"]["CVEGEO"]
    assert set(zml) == set(laguna.municipios_metropolitanos)


# -- the real 2017 extract -----------------------------------------------------------------------

@pytest.mark.slow
def test_build_json_counts_are_honest(laguna_json):
    s, out = laguna_json
    f = s["filas"]
    assert f["leidas"] == 4_263
    # 47 rows are exact copies; 11 more repeat a unit with its street typed differently
    assert s["cuarentena_por_motivo"] == {"duplicado_exacto": 47, "duplicado_direccion": 11}
    assert f["aceptadas"] == 4_205 and f["aceptadas"] + f["en_cuarentena"] == f["leidas"]
    assert s["capas"] == {"hospitales": 5, "unidades_auxiliares": 376, "universidades": 0,
                          "educacion_superior_otras": 6, "asistencia_social": 31, "establecimientos": 4_205}
    assert s["unidades_salud"] == {"621_623": 222, "621_624": 253, "hospitales_y_auxiliares": 381}
    assert s["cobertura_parcial"].startswith("El DENUE disponible para La Laguna es solo el centro histórico")
    assert s["detalle_scian"] == "subrama"
    assert [(m["cvegeo"], m["metropolitano"]) for m in s["municipios"]] == [
        ("05035", True), ("05017", True), ("05009", False), ("10007", True), ("10012", True)]
    assert s["municipios"][0] == {"cvegeo": "05035", "nombre": "Torreón", "poblacion_2020": 720_848, "metropolitano": True}
    quarantine = pd.read_csv(out / "laguna" / "quarantine.csv", dtype=str, keep_default_na=False)
    assert len(quarantine) == 58


@pytest.mark.slow
def test_address_variants_are_quarantined_not_distinct_classes(laguna_json):
    _, out = laguna_json
    q = pd.read_csv(out / "laguna" / "quarantine.csv", dtype=str, keep_default_na=False)
    variants = q[q["motivo"] == "duplicado_direccion"]
    assert set(variants["nom_estab"]) == {
        "ARECO CELLULAR STORE", "GRUPO SVENSKA", "MI TECNOLOGÍA", "LOCAL DE REPARACIONES DE CELULARES SIN NOMBRE",
        "CONSULTORIOS DE MEDICINA ESPECIALIZADA DEL SECTOR PRIVADO", "SERVICIOS DE INGENIERÍA", "BUFETES JURÍDICOS",
        "DESPACHO JURÍDICO", "GREEN CARE"}
    # same name and point but another class: separate units, kept (as in León's medical towers)
    import pyogrio

    est = pyogrio.read_dataframe(out / "laguna" / "atlas.gpkg", layer="establecimientos")
    med = est[est["nom_estab"] == "UNIDAD MEDICA QUIRÚRGICA"]
    assert sorted(med["nombre_act"]) == ["Consultorios dentales", "Consultorios médicos", "Consultorios médicos"]


@pytest.mark.slow
def test_subramas_map_to_the_right_layers(laguna_json):
    s, _ = laguna_json
    by = {(r["capa"], r["clase"]): r["n"] for r in s["por_clase"]}
    assert by[("hospitales", "62211")] == 4  # Hospitales generales
    assert by[("hospitales", "62231")] == 1  # de otras especialidades
    assert by[("unidades_auxiliares", "62111")] == 100  # consultorios médicos (137 rows, 37 repeats)
    assert by[("unidades_auxiliares", "62121")] == 78  # consultorios dentales
    assert by[("unidades_auxiliares", "62151")] == 18  # laboratorios
    assert by[("unidades_auxiliares", "46411")] == 97  # farmacias (productos farmacéuticos y naturistas)
    assert by[("unidades_auxiliares", "46412")] == 55  # ópticas (lentes y artículos ortopédicos)
    assert by[("unidades_auxiliares", "621320")] == 1  # optometría: its only class shares the name
    assert by[("educacion_superior_otras", "61131")] == 6  # no name says it teaches health
    assert by[("asistencia_social", "62419")] == 26


@pytest.mark.slow
def test_hospitals_are_sin_distinguir_and_the_summary_says_so(laguna_json):
    s, _ = laguna_json
    assert s["hospitales_por_tipo_y_sector"] == [
        {"tipo": "general", "sector": "sin distinguir", "n": 4},
        {"tipo": "otras especialidades", "sector": "sin distinguir", "n": 1},
    ]
    assert s["sector_distinguible"] is False
    assert set(s["por_sector"]["unidades_auxiliares"]) == {"sin distinguir"}
    from atlas.commands.build import format_summary

    text = format_summary(s)
    assert "no distinguen público de privado" in text
    assert "Torreón*, Matamoros*, Francisco I. Madero, Gómez Palacio*, Lerdo*" in text
    assert "AVISO cobertura parcial" in text


def test_university_name_rules_work_at_subrama_level():
    est = gpd.GeoDataFrame(
        {"nom_estab": ["FACULTAD DE MEDICINA UNIDAD TORREÓN", "INSTITUTO DE TRADUCTORES", "HOSPITAL X", "ÓPTICA Y"],
         "nombre_act": ["Escuelas de educación superiorT", "Escuelas de educación superiorT", "Hospitales generalesT",
                        "Comercio al por menor de lentes y artículos ortopédicos"]},
        geometry=[shapely.Point(-103.45, 25.54)] * 4, crs=4326,
    )
    est["clase"] = resolve_codes(pd.Series([""] * 4), est["nombre_act"])
    layers = layers_from_establishments(est, load_layer_specs())
    assert layers["universidades"]["nom_estab"].tolist() == ["FACULTAD DE MEDICINA UNIDAD TORREÓN"]
    assert layers["educacion_superior_otras"]["nom_estab"].tolist() == ["INSTITUTO DE TRADUCTORES"]
    assert layers["hospitales"]["sector"].tolist() == ["sin distinguir"]
    assert layers["unidades_auxiliares"]["clase"].tolist() == ["46412"]


@pytest.mark.slow
def test_historic_polygon_is_approximate_and_built_from_denue_landmarks(laguna, laguna_json):
    s, out = laguna_json
    ch = s["ciudad_historica"]
    assert ch["aproximada"] is True
    assert ch["nombre"] == "Centro Histórico de Torreón"
    assert "10 hitos (10 ubicados en el DENUE)" in ch["fuente"]
    assert 1.5 < ch["area_km2"] < 3.0
    # the extract was cut around the historic centre: most of it falls inside the landmarks' hull
    assert ch["dentro"]["establecimientos"] / s["capas"]["establecimientos"] > 0.85
    # each configured fallback position is the DENUE record the pattern finds (no invented points)
    import pyogrio

    from atlas.historic import landmarks_from_denue

    est = pyogrio.read_dataframe(out / "laguna" / "atlas.gpkg", layer="establecimientos")
    found = landmarks_from_denue(laguna, est).to_crs(6372)
    fallback = gpd.GeoSeries([shapely.Point(lm.lon, lm.lat) for lm in laguna.ciudad_historica.landmarks], crs=4326).to_crs(6372)
    assert found["origen"].str.startswith("DENUE").all()
    assert (found.geometry.distance(fallback, align=False) < 1.0).all()


# -- INEGI's full bulk files ---------------------------------------------------------------------

BULK_HEADER = (
    '"id","clee","nom_estab","raz_social","codigo_act","nombre_act","per_ocu","tipo_vial","nom_vial",'
    '"tipo_v_e_1","nom_v_e_1","tipo_v_e_2","nom_v_e_2","tipo_v_e_3","nom_v_e_3","numero_ext","letra_ext",'
    '"edificio","edificio_e","numero_int","letra_int","tipo_asent","nomb_asent","tipoCenCom","nom_CenCom",'
    '"num_local","cod_postal","cve_ent","entidad","cve_mun","municipio","cve_loc","localidad","ageb","manzana",'
    '"telefono","correoelec","www","tipoUniEco","latitud","longitud","fecha_alta"\n'
)


def _bulk_row(i, name, code, act, ent, entidad, mun, municipio, lat, lon):
    cells = [str(i), f"{ent}{mun}622111000000000000", name, f"{name} SA DE CV", code, act, "11 a 30 personas",
             "CALLE", "MORELOS", "CALLE", "JUÁREZ", "", "", "", "", "100", "", "", "", "", "", "COLONIA", "CENTRO",
             "", "", "", "27000", ent, entidad, mun, municipio, "0001", municipio, "0001", "001", "", "", "", "Fijo",
             f"{lat}", f"{lon}", "2019-11"]
    return ",".join(f'"{c}"' for c in cells) + "\n"


def _bulk_zip(path, ent, rows):
    """INEGI's layout: conjunto_de_datos/denue_inegi_<ent>_.csv (Latin-1) beside the dictionary."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"conjunto_de_datos/denue_inegi_{ent}_.csv", (BULK_HEADER + "".join(rows)).encode("latin-1"))
        zf.writestr(f"diccionario_de_datos/diccionario_datos_denue_inegi_{ent}_.csv",
                    "Nombre del campo,Descripción\nnom_estab,Nombre de la unidad económica\n".encode("latin-1"))
        zf.writestr(f"metadatos/metadatos_denue_inegi_{ent}_.txt", "Directorio Estadístico Nacional\n".encode("latin-1"))
    return path


@pytest.mark.slow
def test_full_bulk_zips_for_coahuila_and_durango(laguna, tmp_path):
    coah = _bulk_zip(tmp_path / "denue_05_csv.zip", "05", [
        _bulk_row(1, "HOSPITAL GENERAL DE TORREÓN", "622112", "Hospitales generales del sector público",
                  "05", "Coahuila de Zaragoza", "035", "Torreón", 25.5400, -103.4400),
        _bulk_row(2, "SANATORIO ESPAÑOL", "622111", "Hospitales generales del sector privado",
                  "05", "Coahuila de Zaragoza", "035", "Torreón", 25.5300, -103.4100),
        _bulk_row(3, "CONSULTORIO DENTAL PEÑA", "621211", "Consultorios dentales del sector privado",
                  "05", "Coahuila de Zaragoza", "009", "Francisco I. Madero", 25.7750, -103.2730),
        _bulk_row(4, "FARMACIA SALTILLO", "464111", "Farmacias sin minisúper",
                  "05", "Coahuila de Zaragoza", "030", "Saltillo", 25.4217, -100.9997),
    ])
    dgo = _bulk_zip(tmp_path / "denue_10_csv.zip", "10", [
        _bulk_row(5, "HOSPITAL DE GÓMEZ PALACIO", "622111", "Hospitales generales del sector privado",
                  "10", "Durango", "007", "Gómez Palacio", 25.5701, -103.4964),
        _bulk_row(6, "LABORATORIO LERDO", "621511", "Laboratorios médicos y de diagnóstico del sector privado",
                  "10", "Durango", "012", "Lerdo", 25.5366, -103.5248),
        _bulk_row(7, "CLÍNICA DURANGO", "621111", "Consultorios de medicina general del sector privado",
                  "10", "Durango", "005", "Durango", 24.0240, -104.6702),
    ])
    atlas = build_region(laguna, denue_paths=[coah, dgo])
    s = atlas.summary
    assert s["filas"]["leidas"] == 7
    assert s["cuarentena_por_motivo"] == {"fuera_de_region": 2}  # Saltillo and Durango city
    assert sorted(atlas.quarantine["nom_estab"]) == ["CLÍNICA DURANGO", "FARMACIA SALTILLO"]
    h = atlas.layers["hospitales"].set_index("nom_estab")
    assert h["sector"].to_dict() == {"HOSPITAL GENERAL DE TORREÓN": "público", "SANATORIO ESPAÑOL": "privado",
                                     "HOSPITAL DE GÓMEZ PALACIO": "privado"}
    assert h["cvegeo"].to_dict() == {"HOSPITAL GENERAL DE TORREÓN": "05035", "SANATORIO ESPAÑOL": "05035",
                                     "HOSPITAL DE GÓMEZ PALACIO": "10007"}
    aux = atlas.layers["unidades_auxiliares"].set_index("nom_estab")
    assert aux.loc["CONSULTORIO DENTAL PEÑA", "municipio"] == "Francisco I. Madero"
    assert aux.loc["LABORATORIO LERDO", "clase"] == "621511"
    # six-digit classes: public and private are known again
    assert s["sector_distinguible"] is True
    # no landmark is in these rows: the zone falls back to the configured positions and says so
    assert "(0 ubicados en el DENUE)" in s["ciudad_historica"]["fuente"]


# -- published figures ---------------------------------------------------------------------------

def test_published_figures_sit_beside_ours(laguna):
    summary = {"capas": {"hospitales": 5}, "unidades_salud": {"621_623": 222, "621_624": 253}}
    t = published_figures(laguna.plan, summary).set_index(["Indicador", "Ámbito"])
    assert len(t) == 14
    assert t.loc[("Hospitales", "ZML"), ["Publicado", "Este atlas"]].tolist() == ["15 unidades", "5 unidades"]
    assert t.loc[("Unidades médicas", "ZML"), "Publicado"] == "173 unidades"
    assert t.loc[("Unidades económicas de servicios de salud", "ZML"), "Este atlas"] == "253 unidades"
    assert t.loc[("Unidades médicas privadas", "ZML"), "Publicado"] == "22 %"
    assert t.loc[("Unidades médicas privadas", "ZML"), "Este atlas"] == "—"
    assert "no distingue público de privado" in t.loc[("Unidades médicas privadas", "ZML"), "Nota"]
    assert t.loc[("Personal ocupado en servicios de salud", "Torreón"), "Publicado"] == "4,667 personas"
    assert t.loc[("Productividad por persona ocupada", "Nacional"), "Publicado"] == "86 miles de pesos al año"
    assert t.loc[("Lugar nacional de Torreón en servicios privados de salud", "Nacional"), "Publicado"] == "4.º lugar"
    assert t["Fuente"].str.contains("15 ago 2015").all()


def test_published_figures_missing_key_is_said():
    plan = {"cifras": [{"indicador": "X", "valor": 1, "unidad": "unidades", "nuestra": "capas.no_existe"}]}
    t = published_figures(plan, {"capas": {}})
    assert t.loc[0, "Este atlas"] == "—" and "capas.no_existe" in t.loc[0, "Nota"]
    assert published_figures({}, {}).empty


# -- COVID-19 choropleth -------------------------------------------------------------------------

# cases / 2020 census population × 100,000, worked by hand
HAND_RATES = {
    "05035": 843 / 720_848 * 1e5,    # Torreón 116.95
    "05017": 61 / 118_337 * 1e5,     # Matamoros 51.55
    "05009": 167 / 59_035 * 1e5,     # Francisco I. Madero 282.88
    "10007": 544 / 372_750 * 1e5,    # Gómez Palacio 145.94
    "10012": 103 / 163_313 * 1e5,    # Lerdo 63.07
    "05030": 352 / 879_958 * 1e5,    # Saltillo 40.00 (reference)
    "10005": 578 / 688_697 * 1e5,    # Durango 83.93 (reference)
}


def test_covid_rates_hand_checked(laguna, laguna_municipios):
    rates, labels = covid_from_plan(laguna.plan, laguna_municipios)
    got = dict(zip(rates["cvegeo"], rates["tasa"]))
    assert got == pytest.approx(HAND_RATES)
    assert got["05035"] == pytest.approx(116.95, abs=0.01)
    assert got["05009"] == pytest.approx(282.88, abs=0.01)
    assert rates.loc[rates["referencia"], "cvegeo"].tolist() == ["05030", "10005"]
    assert rates["poblacion"].tolist()[:5] == [720_848, 118_337, 59_035, 372_750, 163_313]
    assert labels["fecha"] == "junio de 2020" and "Metrópoli Laguna" in labels["fuente"]
    assert rates.crs.to_epsg() == 4326


def test_rate_classes():
    assert rate_color(51.55) == COLORS[1]
    assert rate_color(116.95) == COLORS[2]
    assert rate_color(145.94) == COLORS[2]
    assert rate_color(282.88) == COLORS[4]
    assert rate_color(0.0) == COLORS[0] and rate_color(50.0) == COLORS[1]


def _toy_munis():
    return gpd.GeoDataFrame(
        {"CVEGEO": ["05035", "05017"], "NOMGEO": ["<b>Torreón</b>", "Matamoros"], "NOM_ENT": ["Coahuila", "Coahuila"],
         "POBTOT": [1000, 0]},
        geometry=[shapely.box(-103.5, 25.5, -103.4, 25.6), shapely.box(-103.3, 25.5, -103.2, 25.6)], crs=4326,
    )


def test_covid_errors_name_the_bad_value():
    munis = _toy_munis()
    with pytest.raises(DataError, match="99999"):
        cases_per_100k({"99999": 1}, munis)
    with pytest.raises(DataError, match="05017 has no population"):
        cases_per_100k({"05017": 1}, munis)
    with pytest.raises(ConfigError, match="expected to be a number >= 0"):
        cases_per_100k({"05035": -3}, munis)
    with pytest.raises(ConfigError, match="needs fuente"):
        covid_from_plan({"covid": {"casos": {"05035": 1}, "fecha": "junio de 2020"}}, munis)
    assert covid_from_plan({}, munis) is None


def test_choropleth_html_is_labelled_and_escaped(laguna):
    rates = cases_per_100k({"05035": 10}, _toy_munis())
    assert rates["tasa"].iloc[0] == pytest.approx(1000.0)
    m = base_map(laguna, tiles=False)
    folium.LayerControl().add_to(m)  # as atlas_map leaves it: the control exists before the layer
    group = add_cases_choropleth(m, rates, titulo="Casos por 100 000 hab.", fecha="junio de 2020",
                                 fuente="Mesa <i>Metrópoli Laguna</i>", fit=True)
    html = m.get_root().render()
    # the control's script must come after the group it lists, or Leaflet fails on an undefined layer
    assert html.index(f"var {group.get_name()} = L.featureGroup") < html.index("L.control.layers")
    assert "map-legend-covid" in html and "junio de 2020" in html
    assert "Mesa &lt;i&gt;Metrópoli Laguna&lt;/i&gt;" in html and "<i>Metrópoli" not in html
    # popups travel as JSON: the escaped name shows as \u0026lt;b\u0026gt;, never as markup
    assert "\\u0026lt;b\\u0026gt;Torre" in html and "<b>Torreón</b>" not in html
    assert "1,000.0 casos por 100 000 hab." in html
    assert COLORS[4] in html  # 1,000 per 100,000 is in the top class
    assert "fitBounds" in html


# -- every analysis command runs for the region ------------------------------------------------

def _cli_json(argv) -> dict:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    assert rc == 0, argv
    return json.loads(buf.getvalue())


@pytest.mark.slow
def test_density_runs_and_carries_the_partial_flag(laguna_json):
    _, out = laguna_json
    d = _cli_json(["density", "--region", "laguna", "--out", str(out), "--json"])
    assert d["capa"]["unidades"] == 222
    assert d["cobertura_parcial"].startswith("El DENUE disponible para La Laguna")
    assert d["lq_nacional"]["salud_621_623"]["total"] == 4_205
    rows = {(r["cvegeo"], r["categoria"]): r for r in d["tasas_100k"]["hospitales"]}
    assert rows[("05035", "sin distinguir")]["unidades"] == 5  # no public/private split invented
    assert ("05035", "privado") not in rows
    assert rows[("05035", "total")]["poblacion"] == 720_848


@pytest.mark.slow
def test_catchment_from_torreon_hospitals(laguna_json):
    _, out = laguna_json
    d = _cli_json(["catchment", "--region", "laguna", "--out", str(out), "--json", "--minutes", "60,180"])
    assert {o["nombre"] for o in d["origenes"]} == {
        "CLÍNICA DE REHABILITACIÓN SAN ANTONIO", "CLÍNICA DEL CENTRO MÉDICO", "HOSPITAL CENTRO MÉDICO",
        "HOSPITAL GREEN CARE", "ISSSTE"}
    # group 1 is the census population of the four ZML municipios, not of the five-municipio region
    assert d["poblacion_metropolitana"] == 720_848 + 118_337 + 372_750 + 163_313
    hour = d["bandas"][0]
    assert hour["minutos"] == 60
    assert {"05035", "10007", "10012", "05017"} <= {m["cvegeo"] for m in hour["municipios_principales"]}
    assert {e["estado"] for e in hour["por_estado"]} == {"Coahuila de Zaragoza", "Durango"}
    c = d["conciliacion"]
    assert sum(v for k, v in c.items() if k != "total") == c["total"]


@pytest.mark.slow
def test_sites_run_and_say_which_criteria_are_absent(laguna_json):
    _, out = laguna_json
    d = _cli_json(["sites", "--region", "laguna", "--out", str(out), "--json", "--no-reach", "--top", "3"])
    assert d["demanda"]["total"] == pytest.approx(720_848 + 118_337 + 59_035 + 372_750 + 163_313)
    assert set(d["criterios"]["ausentes"]) >= {"dist_hospital_publico", "dist_hospital_privado"}
    assert d["candidatos"]["n"] > 100 and "localidades urbanas" in d["candidatos"]["area"]
    assert any("parcial" in a for a in d["avisos"])
    assert len(d["optimo"]["sitios"]) == 3


@pytest.mark.slow
def test_export_carries_the_region_and_its_limits(laguna_json, tmp_path):
    _, out = laguna_json
    target = tmp_path / "laguna.zip"
    d = _cli_json(["export", "--region", "laguna", "--build-dir", str(out), "--view", "hospitales", "--format", "csv",
                   "--out", str(target), "--quiet", "--json"])
    assert d["region"] == "laguna" and target.is_file()
    with zipfile.ZipFile(target) as zf:
        meta = json.loads(zf.read("metadatos.json"))
        hosp = json.loads(zf.read("geojson/hospitales.geojson"))
        quarantine = pd.read_csv(zf.open("cuarentena.csv"), dtype=str)
    assert meta["region"]["municipios"] == ["05035", "05017", "05009", "10007", "10012"]
    assert any(n.startswith("Cobertura parcial: El DENUE disponible para La Laguna") for n in meta["vistas"]["hospitales"]["notas"])
    assert {f["properties"]["sector"] for f in hosp["features"]} == {"sin distinguir"} and len(hosp["features"]) == 5
    assert len(quarantine) == 58


def test_export_key_figures_do_not_invent_public_private(laguna, laguna_json):
    from atlas.build import read_atlas
    from atlas.export.views import hospitals_view

    _, out = laguna_json
    view = hospitals_view(read_atlas(laguna, out))
    figures = {f.label: f.value for f in view.figures}
    assert figures["Hospitales privados / públicos"] == "sin distinguir (SCIAN por subrama)"
    assert "Hospitales privados" not in figures and figures["Hospitales en el mapa"] == "5"
