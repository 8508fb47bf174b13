"""The main view: every health layer on one map, filters in the sidebar, key figures beside it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas.build import Atlas
from atlas.figures import class_counts, historic_centre_table, plan_comparison
from atlas.filters import Filters, filter_layers
from atlas.layers import ALL_LAYER
from atlas.maps.base import ATTRIBUTION, atlas_map, localise_assets
from atlas.settings import Region

from .common import data_limits, qp_get, qp_list, qp_set, show_map
from .region import add_covid_layer, published_panel

__all__ = ["sidebar_filters", "render"]

SECTORES = ["privado", "público", "sin distinguir"]


def _point_specs(atlas: Atlas):
    return [s for s in atlas.specs.values() if s.is_points]


def sidebar_filters(region: Region, atlas: Atlas) -> tuple[Filters, list[str]]:
    """Sidebar widgets, initialised from the URL and mirrored back into it."""
    st.sidebar.header("Capas y filtros")
    specs = list(atlas.specs.values())
    default_visible = qp_list("capas") or [s.id for s in specs if s.visible]
    visible = []
    for s in specs:
        n = len(atlas.layers.get(s.id, []))
        label = f"{s.etiqueta} ({n:,})" if s.is_points else s.etiqueta
        if st.sidebar.checkbox(label, value=s.id in default_visible, key=f"mapa_capa_{s.id}", help=s.descripcion):
            visible.append(s.id)
    health = pd.concat([atlas.layers[s.id] for s in _point_specs(atlas)], ignore_index=True)
    counts = class_counts(health)
    options = counts.drop_duplicates("clase").sort_values("clase")
    labels = {r.clase: f"{r.clase} · {r.nombre or 'sin nombre'}" for r in options.itertuples()}
    clases = st.sidebar.multiselect(
        "Clase SCIAN", list(labels), default=[c for c in qp_list("clase") if c in labels],
        format_func=labels.get, key="mapa_clases", placeholder="Todas las clases",
    )
    sectores = st.sidebar.multiselect(
        "Sector", SECTORES, default=[s for s in qp_list("sector") if s in SECTORES], key="mapa_sector",
        placeholder="Público y privado", help="El sector sale del nombre de la clase SCIAN; ‘sin distinguir’ cuando la clase no lo dice.",
    )
    muns = atlas.layers[ALL_LAYER][["cvegeo", "municipio"]].drop_duplicates().sort_values("municipio")
    mun_labels = dict(zip(muns["cvegeo"], muns["municipio"]))
    municipios = st.sidebar.multiselect(
        "Municipio", list(mun_labels), default=[m for m in qp_list("mun") if m in mun_labels],
        format_func=lambda c: mun_labels.get(c, c), key="mapa_mun", placeholder="Todos",
    )
    nombre = st.sidebar.text_input("Buscar por nombre", value=qp_get("q"), key="mapa_q", placeholder="p. ej. Aranda de la Parra")
    qp_set(capas=visible, clase=clases, sector=sectores, mun=municipios, q=nombre)
    return Filters(tuple(visible), tuple(clases), tuple(sectores), tuple(municipios), nombre), visible


# A folium map holds callables (style functions) and cannot be pickled by cache_data; once built it is
# only read, so it is shared as a resource, one per region and filter combination.
@st.cache_resource(show_spinner=False, max_entries=32)
def _map_html(region_id: str, _atlas: Atlas, filters: Filters, covid: bool = False):
    """Build the map once per filter combination; panning never reaches this."""
    specs = _atlas.specs
    point_ids = [s.id for s in specs.values() if s.is_points]
    layers = filter_layers({k: v for k, v in _atlas.layers.items() if k != ALL_LAYER}, filters, point_ids)
    m = atlas_map(_atlas.region, layers, specs, visible=filters.capas)
    if covid:
        add_covid_layer(m, _atlas.region)
    localise_assets(m)
    counts = {k: len(v) for k, v in layers.items() if k in point_ids}
    return m, counts


def render(region: Region, atlas: Atlas, filters: Filters, covid: bool = False) -> None:
    specs = atlas.specs
    point_ids = [s.id for s in specs.values() if s.is_points]
    m, counts = _map_html(region.id, atlas, filters, covid)
    col_map, col_fig = st.columns([3, 1.25])
    with col_map:
        show_map(m, height=640, key=f"mapa_{region.id}")
        st.caption(ATTRIBUTION)
    with col_fig:
        st.subheader("Cifras clave")
        s = atlas.summary
        hosp = atlas.layers["hospitales"]
        c1, c2 = st.columns(2)
        c1.metric("Hospitales", f"{len(hosp):,}")
        c2.metric("Unidades 621–623", f"{s['unidades_salud']['621_623']:,}",
                  help="Consultorios, hospitales y residencias (SCIAN 621–623). Con asistencia social (624): "
                  f"{s['unidades_salud']['621_624']:,}.")
        if s.get("sector_distinguible") is False:
            st.caption("Sector de los hospitales: **sin distinguir**. El DENUE de esta región viene por subrama "
                       "SCIAN (5 dígitos), que no separa lo público de lo privado.")
        else:
            priv = int((hosp["sector"] == "privado").sum())
            pub = int((hosp["sector"] == "público").sum())
            c1.metric("Hospitales privados", priv)
            c2.metric("Hospitales públicos", pub)
        shown = sum(counts.get(k, 0) for k in filters.capas if k in counts)
        st.caption(f"En el mapa con los filtros actuales: {shown:,} establecimientos.")
        ch = s["ciudad_historica"]
        inside = ch["dentro"]
        st.metric(f"En {ch['nombre']}", f"{inside.get('hospitales', 0)} hospitales",
                  help=f"{'Delimitación aproximada' if ch['aproximada'] else 'Polígono oficial'}, {ch['area_km2']} km². "
                       "La tabla completa está debajo del mapa.")
        st.caption(f"y {inside.get('unidades_auxiliares', 0):,} unidades auxiliares dentro de la zona.")
    ch = atlas.summary["ciudad_historica"]
    st.markdown(f"**{ch['nombre']}**: dentro y fuera ({'aproximada' if ch['aproximada'] else 'oficial'}, {ch['area_km2']} km²)")
    st.dataframe(historic_centre_table(atlas.layers, point_ids, {k: v.etiqueta for k, v in specs.items()}), hide_index=True, width="stretch")
    plan = region.plan or {}
    if plan.get("clases"):
        st.subheader("DENUE actual frente a las cifras del plan")
        st.caption(plan.get("fuente", ""))
        health = pd.concat([atlas.layers[k] for k in ("hospitales", "unidades_auxiliares")], ignore_index=True)
        st.dataframe(plan_comparison(plan, health), hide_index=True, width="stretch")
    published_panel(region, atlas)
    with st.expander("Límites de los datos", expanded=False):
        st.markdown(data_limits(region, atlas))
        q = atlas.quarantine
        if len(q):
            st.write("Filas en cuarentena por motivo:")
            st.dataframe(q["motivo"].value_counts().rename("filas"), width="stretch")
