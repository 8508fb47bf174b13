"""SCIAN 2018 (México) classes the atlas layers use, with their official names.

DENUE dumps sometimes leave ``codigo_act`` blank (the León web-API dump does for every class outside
621–623, 4641 and 6113) and older extracts carry only the five-digit *subrama* name, with INEGI's
trailing ``T`` marker ("Hospitales generalesT"). :func:`resolve_codes` turns names into codes through
this table; names are compared without accents, case or the ``T`` marker.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["CLASES", "SUBRAMAS", "normalise_name", "resolve_codes", "sector_from_name"]

#: six-digit classes: code -> official name (SCIAN México 2018)
CLASES: dict[str, str] = {
    # 621 Servicios médicos de consulta externa y servicios relacionados
    "621111": "Consultorios de medicina general del sector privado",
    "621112": "Consultorios de medicina general del sector público",
    "621113": "Consultorios de medicina especializada del sector privado",
    "621114": "Consultorios de medicina especializada del sector público",
    "621115": "Clínicas de consultorios médicos del sector privado",
    "621116": "Clínicas de consultorios médicos del sector público",
    "621211": "Consultorios dentales del sector privado",
    "621212": "Consultorios dentales del sector público",
    "621311": "Consultorios de quiropráctica del sector privado",
    "621312": "Consultorios de quiropráctica del sector público",
    "621320": "Consultorios de optometría",
    "621331": "Consultorios de psicología del sector privado",
    "621332": "Consultorios de psicología del sector público",
    "621341": "Consultorios del sector privado de audiología y de terapia ocupacional, física y del lenguaje",
    "621342": "Consultorios del sector público de audiología y de terapia ocupacional, física y del lenguaje",
    "621391": "Consultorios de nutriólogos y dietistas del sector privado",
    "621392": "Consultorios de nutriólogos y dietistas del sector público",
    "621398": "Otros consultorios del sector privado para el cuidado de la salud",
    "621399": "Otros consultorios del sector público para el cuidado de la salud",
    "621411": "Centros de planificación familiar del sector privado",
    "621412": "Centros de planificación familiar del sector público",
    "621421": "Centros del sector privado de atención médica externa para enfermos mentales y adictos",
    "621422": "Centros del sector público de atención médica externa para enfermos mentales y adictos",
    "621491": "Otros centros del sector privado para la atención de pacientes que no requieren hospitalización",
    "621492": "Otros centros del sector público para la atención de pacientes que no requieren hospitalización",
    "621511": "Laboratorios médicos y de diagnóstico del sector privado",
    "621512": "Laboratorios médicos y de diagnóstico del sector público",
    "621610": "Servicios de enfermería a domicilio",
    "621910": "Servicios de ambulancias",
    "621991": "Servicios de bancos de órganos, bancos de sangre y otros servicios auxiliares al tratamiento médico prestados por el sector privado",
    "621992": "Servicios de bancos de órganos, bancos de sangre y otros servicios auxiliares al tratamiento médico prestados por el sector público",
    # 622 Hospitales
    "622111": "Hospitales generales del sector privado",
    "622112": "Hospitales generales del sector público",
    "622211": "Hospitales psiquiátricos y para el tratamiento por adicción del sector privado",
    "622212": "Hospitales psiquiátricos y para el tratamiento por adicción del sector público",
    "622311": "Hospitales del sector privado de otras especialidades médicas",
    "622312": "Hospitales del sector público de otras especialidades médicas",
    # 623 Residencias de asistencia social y para el cuidado de la salud
    "623111": "Residencias del sector privado con cuidados de enfermeras para enfermos convalecientes, en rehabilitación, incurables y terminales",
    "623112": "Residencias del sector público con cuidados de enfermeras para enfermos convalecientes, en rehabilitación, incurables y terminales",
    "623211": "Residencias del sector privado para el cuidado de personas con problemas de retardo mental",
    "623212": "Residencias del sector público para el cuidado de personas con problemas de retardo mental",
    "623221": "Residencias del sector privado para el cuidado de personas con problemas de trastorno mental y adicción",
    "623222": "Residencias del sector público para el cuidado de personas con problemas de trastorno mental y adicción",
    "623311": "Asilos y otras residencias del sector privado para el cuidado de ancianos",
    "623312": "Asilos y otras residencias del sector público para el cuidado de ancianos",
    "623991": "Orfanatos y otras residencias de asistencia social del sector privado",
    "623992": "Orfanatos y otras residencias de asistencia social del sector público",
    # 624 Otros servicios de asistencia social
    "624111": "Servicios de orientación y trabajo social para la niñez y la juventud prestados por el sector privado",
    "624112": "Servicios de orientación y trabajo social para la niñez y la juventud prestados por el sector público",
    "624121": "Centros del sector privado dedicados a la atención y cuidado diurno de ancianos y discapacitados",
    "624122": "Centros del sector público dedicados a la atención y cuidado diurno de ancianos y discapacitados",
    "624191": "Agrupaciones de autoayuda para alcohólicos y personas con otras adicciones",
    "624198": "Otros servicios de orientación y trabajo social prestados por el sector privado",
    "624199": "Otros servicios de orientación y trabajo social prestados por el sector público",
    "624211": "Servicios de alimentación comunitarios prestados por el sector privado",
    "624212": "Servicios de alimentación comunitarios prestados por el sector público",
    "624221": "Refugios temporales comunitarios del sector privado",
    "624222": "Refugios temporales comunitarios del sector público",
    "624231": "Servicios de emergencia comunitarios prestados por el sector privado",
    "624232": "Servicios de emergencia comunitarios prestados por el sector público",
    "624311": "Servicios de capacitación para el trabajo prestados por el sector privado para personas desempleadas, subempleadas o discapacitadas",
    "624312": "Servicios de capacitación para el trabajo prestados por el sector público para personas desempleadas, subempleadas o discapacitadas",
    "624411": "Guarderías del sector privado",
    "624412": "Guarderías del sector público",
    # 4641 Comercio al por menor de artículos para el cuidado de la salud
    "464111": "Farmacias sin minisúper",
    "464112": "Farmacias con minisúper",
    "464113": "Comercio al por menor de productos naturistas, medicamentos homeopáticos y de complementos alimenticios",
    "464121": "Comercio al por menor de lentes",
    "464122": "Comercio al por menor de artículos ortopédicos",
    # 6113 Escuelas de educación superior
    "611311": "Escuelas de educación superior del sector privado",
    "611312": "Escuelas de educación superior del sector público",
    # medical wholesale
    "433110": "Comercio al por mayor de productos farmacéuticos",
    "435419": "Comercio al por mayor de mobiliario, equipo e instrumental médico y de laboratorio",
}

#: five-digit subramas (DENUE extracts that only carry them), code -> official name
SUBRAMAS: dict[str, str] = {
    "62111": "Consultorios médicos",
    "62121": "Consultorios dentales",
    "62131": "Consultorios de quiropráctica",
    "62132": "Consultorios de optometría",
    "62133": "Consultorios de psicología",
    "62134": "Consultorios de audiología y de terapia ocupacional, física y del lenguaje",
    "62139": "Otros consultorios para el cuidado de la salud",
    "62141": "Centros de planificación familiar",
    "62142": "Centros de atención médica externa para enfermos mentales y adictos",
    "62149": "Otros centros para la atención de pacientes que no requieren hospitalización",
    "62151": "Laboratorios médicos y de diagnóstico",
    "62161": "Servicios de enfermería a domicilio",
    "62191": "Servicios de ambulancias",
    "62199": "Servicios de bancos de órganos, bancos de sangre y otros servicios auxiliares al tratamiento médico",
    "62211": "Hospitales generales",
    "62221": "Hospitales psiquiátricos y para el tratamiento por adicción",
    "62231": "Hospitales de otras especialidades médicas",
    "62311": "Residencias con cuidados de enfermeras para enfermos convalecientes, en rehabilitación, incurables y terminales",
    "62321": "Residencias para el cuidado de personas con problemas de retardo mental, trastorno mental y adicciones",
    "62331": "Asilos y otras residencias para el cuidado de ancianos",
    "62399": "Orfanatos y otras residencias de asistencia social",
    "62411": "Servicios de orientación y trabajo social para la niñez y la juventud",
    "62412": "Centros dedicados a la atención y cuidado diurno de ancianos y discapacitados",
    "62419": "Otros servicios de orientación y trabajo social",
    "62421": "Servicios de alimentación comunitarios",
    "62422": "Refugios temporales comunitarios",
    "62423": "Servicios de emergencia comunitarios",
    "62431": "Servicios de capacitación para el trabajo para personas desempleadas, subempleadas o discapacitadas",
    "62441": "Guarderías",
    "46411": "Comercio al por menor de productos farmacéuticos y naturistas",
    "46412": "Comercio al por menor de lentes y artículos ortopédicos",
    "61131": "Escuelas de educación superior",
    "43311": "Comercio al por mayor de productos farmacéuticos",
    "43541": "Comercio al por mayor de mobiliario, equipo e instrumental médico y de laboratorio",
}


def normalise_name(name: object) -> str:
    """Lower case, no accents, no INEGI ``T`` marker, single spaces."""
    if not isinstance(name, str):
        return ""
    text = name.strip()
    if text.endswith("T") and len(text) > 1 and text[-2].islower():
        text = text[:-1]
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s,]+", " ", text).strip()


_BY_NAME: dict[str, str] = {normalise_name(v): k for k, v in SUBRAMAS.items()}
_BY_NAME.update({normalise_name(v): k for k, v in CLASES.items()})


def resolve_codes(codigo: pd.Series, nombre: pd.Series) -> pd.Series:
    """The SCIAN code of each row: ``codigo_act`` when it holds digits, else looked up by name.

    Returns a string Series on the same index, ``""`` where neither gives a code (a class outside the
    table, which the atlas keeps in the all-establishments layer only).
    """
    code = codigo.fillna("").astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    code = code.where(code.str.fullmatch(r"\d{5,6}"), "")
    lut = {n: _BY_NAME.get(normalise_name(n), "") for n in nombre.dropna().unique()}
    by_name = nombre.map(lut).fillna("")
    return code.where(code != "", by_name).rename("clase")


def sector_from_name(nombre: pd.Series) -> pd.Series:
    """"público" / "privado" from the class name, "sin distinguir" when the name does not say."""
    norm = nombre.map({n: normalise_name(n) for n in nombre.dropna().unique()}).fillna("")
    out = pd.Series("sin distinguir", index=nombre.index, name="sector")
    out[norm.str.contains("sector privado", regex=False)] = "privado"
    out[norm.str.contains("sector publico", regex=False)] = "público"
    return out
