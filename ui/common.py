"""Streamlit helpers shared by the views: cached loading, query-parameter state, notices."""

from __future__ import annotations

import copy

import streamlit as st
from streamlit_folium import st_folium

from atlas import load_region
from atlas.geo import localities_from_iter
from atlas.build import Atlas, load_atlas
from atlas.settings import Region

__all__ = ["census_localities", "qp_number", "show_map", "get_region", "get_atlas", "qp_get", "qp_list", "qp_set", "data_limits"]


@st.cache_resource(show_spinner=False)
def get_region(region_id: str) -> Region:
    return load_region(region_id)


# The built atlas is a large read-only object shared by every session: a resource, not data to copy.
@st.cache_resource(show_spinner="Construyendo las capas del atlas…")
def get_atlas(region_id: str) -> Atlas:
    return load_atlas(get_region(region_id))


# The 189,432 census localities (~1.4 s to read) are shared read-only by the catchment and sites views.
@st.cache_resource(show_spinner="Cargando las localidades del censo 2020…")
def census_localities(region_id: str):
    region = get_region(region_id)
    return localities_from_iter(region.path(region.files.localidades))


def qp_get(name: str, default: str = "") -> str:
    return st.query_params.get(name, default)


def qp_number(name: str, default: float, lo: float, hi: float, *, cast=float):
    """A number from the URL clamped to a widget's range; the default when missing or unreadable.

    A shared link may be stale or edited by hand (``?sit_k=abc``, ``?inf_radio=5``): it must never crash
    a view.
    """
    try:
        value = cast(float(qp_get(name, str(default))))
    except (TypeError, ValueError, OverflowError):
        value = cast(default)
    if value != value:  # NaN
        value = cast(default)
    return min(cast(hi), max(cast(lo), value))


def qp_list(name: str) -> list[str]:
    raw = st.query_params.get(name, "")
    return [v for v in raw.split(",") if v]


def qp_set(**values) -> None:
    """Mirror the view into the URL (only the keys whose value changed)."""
    for k, v in values.items():
        text = ",".join(v) if isinstance(v, (list, tuple)) else str(v)
        if st.query_params.get(k, "") != text:
            if text:
                st.query_params[k] = text
            elif k in st.query_params:
                del st.query_params[k]


def data_limits(region: Region, atlas: Atlas) -> str:
    s = atlas.summary
    lines = [
        f"**Fuente:** {s.get('fuente') or 'INEGI, DENUE'}. Filas leídas {s['filas']['leidas']:,}; "
        f"aceptadas {s['filas']['aceptadas']:,}; en cuarentena {s['filas']['en_cuarentena']:,} (con motivo, en quarantine.csv).",
        "El DENUE registra establecimientos, no camas ni personal; su cobertura no es completa y una torre médica "
        "aparece como decenas de consultorios en un mismo punto.",
    ]
    if region.id == "leon":
        lines.append(
            "La descarga de León proviene del servicio web del DENUE (agosto de 2025), que omite registros en celdas "
            "densas: los conteos por clase son aproximados."
        )
    if atlas.summary.get("sector_distinguible") is False:
        lines.append("Las actividades vienen por subrama SCIAN (5 dígitos): no se distingue el sector público del privado "
                     "y los hospitales figuran como «sin distinguir».")
    if atlas.summary.get("ciudad_historica", {}).get("aproximada", True):
        lines.append("La Ciudad Histórica es una delimitación **aproximada** construida con hitos del propio DENUE, no un límite oficial.")
    return "\n\n".join(lines)


def show_map(m, *, key: str, height: int = 620, returned_objects=()):
    """Show a folium map without rerunning on pan/zoom.

    st_folium renames the map's elements in place (``element._id``), so a cached map handed to it a second
    time produces scripts that call undefined variables: every view passes a copy (~20 ms for León).
    """
    return st_folium(copy.deepcopy(m), height=height, use_container_width=True,
                     returned_objects=list(returned_objects), key=key)
