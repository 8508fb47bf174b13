"""The "Área de influencia" view: road travel bands around the hospitals (or a point), the population
inside them and how it compares with the straight-line circle."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from atlas._errors import AtlasError
from atlas.build import Atlas
from atlas.catchment import CatchmentResult, access_points, calibration_table, catchment_for_region, origins_for_region, parse_latlon
from atlas.geo import conapo_municipal
from atlas.maps.base import ATTRIBUTION, localise_assets
from atlas.maps.influencia import influence_map
from atlas.network import network_for_region
from atlas.settings import Region

from .common import census_localities, get_region, qp_get, qp_number, qp_set, show_map

__all__ = ["render"]

MINUTE_CHOICES = [30, 45, 60, 90, 120, 150, 180, 240, 300]
ORIGINS = {"hospitales": "Hospitales de la región", "centro": "Centro de la ciudad", "punto": "Un punto (lat, lon)"}
COARSE_NOTE = (
    "Natural Earth (escala 1:10 millones) solo trae carreteras principales: sirve para una banda regional de "
    "horas, no para tiempos dentro de la ciudad. Los tramos fuera de la red se modelan en línea recta con un "
    "factor de circuidad a una velocidad de acceso menor. Con conexión a internet, la red puede construirse "
    "desde OpenStreetMap (`network_from_osm`)."
)


# Shared, read-only inputs: one road graph and one localities table (with their nearest nodes) per
# region, reused by every session — resources, never mutated by the analysis.
@st.cache_resource(show_spinner="Construyendo la red carretera…")
def _network(region_id: str):
    return network_for_region(get_region(region_id))


@st.cache_resource(show_spinner="Preparando el acceso de las localidades a la red…")
def _localities(region_id: str):
    region = get_region(region_id)
    loc = census_localities(region_id)
    net = _network(region_id)
    acc = access_points(net, loc.geometry.x.to_numpy(), loc.geometry.y.to_numpy(), k=region.catchment.access_nodes)
    return loc, acc


@st.cache_data(show_spinner=False)
def _marginacion(region_id: str) -> pd.DataFrame:
    region = get_region(region_id)
    return conapo_municipal(region.path(region.files.conapo_municipal))


@st.cache_data(show_spinner="Calculando tiempos de viaje…", max_entries=16)
def _catchment(region_id: str, origin: str, minutes: tuple[int, ...], radius_km: float, _atlas: Atlas) -> CatchmentResult:
    """Keyed on the small arguments; the 190,000-row localities table is dropped from what is cached."""
    region = get_region(region_id)
    loc, acc = _localities(region_id)
    origins = origins_for_region(region, origin, atlas=_atlas)
    res = catchment_for_region(region, origin=origin, origins=origins, minutes=minutes, radius_km=radius_km,
                               network=_network(region_id), localities=loc, marginacion=_marginacion(region_id), access=acc)
    return dataclasses.replace(res, localities=res.localities.iloc[:0])


# folium maps hold style callables and cannot be pickled: built once per choice and shared.
@st.cache_resource(show_spinner=False, max_entries=16)
def _map(region_id: str, origin: str, minutes: tuple[int, ...], radius_km: float, _result: CatchmentResult):
    m = influence_map(get_region(region_id), _result)
    localise_assets(m)
    return m


@st.cache_data(show_spinner=False)
def _calibration(region_id: str) -> pd.DataFrame:
    return calibration_table(get_region(region_id), _network(region_id))


def _controls(region: Region) -> tuple[str, tuple[int, ...], float]:
    c = region.catchment
    default_origin = qp_get("inf_origen", c.origin)
    kind = default_origin if default_origin in ("hospitales", "centro") else "punto"
    col1, col2, col3 = st.columns([1.3, 1.6, 0.8])
    with col1:
        kind = st.radio("Origen", list(ORIGINS), index=list(ORIGINS).index(kind), format_func=ORIGINS.get,
                        key="influencia_origen", horizontal=False)
        origin = kind
        if kind == "punto":
            lat, lon = region.center
            text = st.text_input("Latitud, longitud", value=default_origin if "," in default_origin else f"{lat:.5f},{lon:.5f}",
                                 key="influencia_punto", help="Grados decimales, latitud primero; p. ej. 21.1221,-101.6823")
            try:
                lat, lon = parse_latlon(text)
                origin = f"{lat:.6f},{lon:.6f}"
            except AtlasError:
                st.error(f"«{text}» no es un punto: escriba latitud y longitud en grados decimales, "
                         "latitud primero, p. ej. 21.1221,-101.6823.")
                st.stop()
    with col2:
        wanted = [int(v) for v in qp_get("inf_min", "").split(",") if v.isdigit() and 0 < int(v) <= 1440] or list(c.minutes)
        choices = sorted(set(MINUTE_CHOICES) | set(wanted))
        minutes = st.multiselect("Bandas (minutos por carretera)", choices, default=wanted, key="influencia_minutos",
                                 help="Sin límite: la red permite bandas de 180 minutos y más.")
        if not minutes:
            st.warning("Elija al menos una banda de minutos.")
            st.stop()
    with col3:
        radius0 = qp_number("inf_radio", c.radius_km, 10.0, 1000.0)
        radius = st.number_input("Radio en línea recta (km)", min_value=10.0, max_value=1000.0, value=radius0, step=10.0,
                                 key="influencia_radio")
    minutes = tuple(sorted(int(m) for m in minutes))
    qp_set(inf_origen=origin, inf_min=[str(m) for m in minutes], inf_radio=f"{radius:g}")
    return origin, minutes, float(radius)


def _fmt(n) -> str:
    return f"{int(n):,}"


def render(region: Region, atlas: Atlas) -> None:
    st.subheader("Área de influencia por carretera")
    st.caption(
        "El plan distingue tres grupos de pacientes: la población metropolitana (grupo 1), quienes viven a menos de "
        "300 km o 3 horas por carretera (grupo 2) y pacientes del extranjero. Esta vista dibuja y cuenta el grupo 2."
    )
    origin, minutes, radius = _controls(region)
    try:
        res = _catchment(region.id, origin, minutes, radius, atlas)
    except AtlasError as exc:
        st.error(f"No se pudo calcular el área de influencia: {exc}")
        return
    st.info(COARSE_NOTE, icon="🛣️")
    for note in res.notes:
        st.warning(note)

    last = res.summary.iloc[-1]
    cols = st.columns(4)
    cols[0].metric("Población metropolitana (grupo 1)", _fmt(res.metro_population),
                   help="Todas las localidades de los municipios de la zona metropolitana (censo 2020).")
    cols[1].metric(f"Hasta {int(last['minutos'])} min, fuera de la metrópoli (grupo 2)", _fmt(last["regional"]))
    cols[2].metric("Mercado potencial del grupo 2", _fmt(last["mercado_potencial_regional"]),
                   help="Población de municipios con marginación " + " o ".join(region.catchment.mercado_grados)
                   + " (CONAPO 2020): aproximación a la capacidad de pago, no un dato de ingreso.")
    cols[3].metric(f"A {radius:g} km en línea recta", _fmt(res.circle["poblacion"].iloc[0]))

    col_map, col_tab = st.columns([3, 2])
    with col_map:
        m = _map(region.id, origin, minutes, radius, res)
        show_map(m, height=600, key=f"influencia_mapa_{region.id}")
        st.caption(ATTRIBUTION)
    with col_tab:
        table = res.summary.rename(columns={
            "minutos": "Minutos", "poblacion": "Población", "metropolitana": "Metropolitana",
            "regional": "Regional (grupo 2)", "mercado_potencial": "Mercado potencial",
            "mercado_potencial_regional": "Mercado potencial regional", "localidades": "Localidades", "municipios": "Municipios",
        })
        st.dataframe(table, hide_index=True, width="stretch")
        chart = res.summary.set_index("minutos")[["metropolitana", "regional"]].rename(
            columns={"metropolitana": "Metropolitana (grupo 1)", "regional": "Regional (grupo 2)"})
        chart.index = [f"{m} min" for m in chart.index]
        st.bar_chart(chart, height=240)
        st.caption(" · ".join(f"{d.descripcion}: {_fmt(d.poblacion)} hab." for d in res.disagreement.itertuples()))

    band = st.selectbox("Tablas para la banda de", list(minutes), index=len(minutes) - 1,
                        format_func=lambda v: f"{v} minutos", key="influencia_banda")
    col = f"hasta_{band}"
    c1, c2 = st.columns([1, 2])
    with c1:
        st.markdown("**Por estado**")
        st.dataframe(res.by_state.loc[res.by_state[col] > 0, ["NOM_ENT", col, "poblacion_total"]]
                     .rename(columns={"NOM_ENT": "Estado", col: "En la banda", "poblacion_total": "Total del estado"}),
                     hide_index=True, width="stretch")
    with c2:
        st.markdown("**Municipios**")
        mun = res.by_municipio.loc[res.by_municipio[col] > 0].sort_values(col, ascending=False)
        shown = mun[["CVEGEO", "NOM_MUN", "NOM_ENT", "GM_2020", col, "poblacion_total", "minutos_min"]].rename(columns={
            "NOM_MUN": "Municipio", "NOM_ENT": "Estado", "GM_2020": "Marginación", col: "En la banda",
            "poblacion_total": "Total del municipio", "minutos_min": "Minutos (localidad más cercana)"})
        st.dataframe(shown, hide_index=True, width="stretch", height=360)
        st.download_button("Descargar municipios (CSV)", shown.to_csv(index=False).encode("utf-8"),
                           file_name=f"influencia_{region.id}_{band}min.csv", mime="text/csv", key="influencia_csv")

    rec = res.reconciliation
    st.caption("Conciliación con las localidades del censo 2020 (ITER): " + f"total {_fmt(rec['total'])} = "
               + " + ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in rec.items() if k != "total") + ".")
    with st.expander("Cómo se construyó la red y su calibración", expanded=False):
        info = res.network_info
        st.markdown(
            f"- Fuente: {info.get('fuente', '')} ({info.get('nodos', 0):,} nodos, {info.get('aristas', 0):,} aristas, "
            f"{info.get('km_lineas', 0):,.0f} km).\n"
            f"- Extremos unidos a menos de {info.get('tolerancia_m', 0):,.0f} m: {info.get('conectores', 0)} conectores; "
            f"{info.get('puentes', 0)} puentes entre piezas sueltas.\n"
            f"- Quedan {info.get('componentes', 0)} componentes; el mayor reúne el {info.get('componente_mayor_pct_km', 0)} % de los km.\n"
            f"- Acceso fuera de la red: {region.catchment.access_speed_kmh:g} km/h con circuidad {region.catchment.circuity:g}."
        )
        if region.catchment.referencias:
            st.dataframe(_calibration(region.id), hide_index=True, width="stretch")
