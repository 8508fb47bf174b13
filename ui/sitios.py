"""Vista "Sitios para nuevos hospitales": puntaje por criterios con pesos ajustables, los k sitios
óptimos (MCLP) y un "qué pasa si" al hacer clic en el mapa.

Only Streamlit code; the analysis is in ``atlas.siting``, ``atlas.sites``, ``atlas.location`` and
``atlas.whatif``, the map and the site sheet in ``atlas.maps.sitios``. Candidates, demand and raw
criteria are cached on small arguments (region, service radius, extra sites); moving a weight
slider only re-scores, which takes milliseconds.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from atlas._errors import AtlasError
from atlas.build import Atlas
from atlas.geo import municipalities_from_gpkg, region_polygon
from atlas.maps.base import ATTRIBUTION, localise_assets
from atlas.maps.sitios import site_sheet_html, sites_map
from atlas.settings import Region
from atlas.sites import CRITERIA, candidates_from_h3, candidates_from_points, criterion_info, resolve_weights, score_sites
from atlas.siting import (
    PARTIAL_PROXY_NOTE,
    candidate_area,
    cluster_areas,
    criteria_for_sites,
    demand_for_region,
    optimise_sites,
    region_localities,
    regional_reach,
)
from atlas.uploads import candidates_from_upload
from atlas.whatif import Scenario, WhatIf, compare_scenarios, scenarios_from_json, scenarios_to_json

from .common import census_localities, get_region, qp_number, qp_set, show_map

__all__ = ["render"]

CLICK_MODES = {
    "hipotetico": "Agregar un hospital hipotético (qué pasa si)",
    "candidato": "Agregar un sitio candidato",
    "quitar": "Quitar el hospital más cercano al clic",
}


# ------------------------------------------------------------------ cached analysis (small keys)


@st.cache_data(show_spinner="Preparando candidatos, demanda, clústeres y alcance regional…", max_entries=4)
def _base(region_id: str, _atlas: Atlas) -> dict:
    region = get_region(region_id)
    area, label = candidate_area(region, _atlas)
    cands = candidates_from_h3(area, region.sites.h3_resolution)
    all_loc = census_localities(region_id)
    demand = demand_for_region(region, _atlas, localities=region_localities(region, all_loc))
    areas, why_cluster = cluster_areas(region, _atlas)
    reach, why_reach = regional_reach(region, cands, localities_all=all_loc)
    munis = municipalities_from_gpkg(region.path(region.files.municipios))
    return {"cands": cands, "demand": demand, "areas": areas, "reach": reach, "label": label,
            "why_cluster": why_cluster, "why_reach": why_reach,
            "region_poly": region_polygon(munis, region.municipios)}


@st.cache_data(show_spinner="Calculando el alcance regional de los sitios agregados…", max_entries=32)
def _extra_reach(region_id: str, extra: tuple) -> pd.DataFrame | None:
    if not extra:
        return None
    cands = _extra_frame(extra)
    reach, _ = regional_reach(get_region(region_id), cands, localities_all=census_localities(region_id))
    return reach


def _extra_frame(extra: tuple) -> gpd.GeoDataFrame:
    sitio, origen, etiqueta, lat, lon = zip(*extra)
    g = candidates_from_points(lat, lon, origen="clic", etiquetas=etiqueta)
    return g.assign(sitio=list(sitio), origen=list(origen))


@st.cache_data(show_spinner="Evaluando criterios…", max_entries=16)
def _criteria(region_id: str, service_km: float, extra: tuple, _atlas: Atlas):
    region = get_region(region_id)
    b = _base(region_id, _atlas)
    cands, reach = b["cands"], b["reach"]
    if extra:
        more = _extra_frame(extra)
        cands = gpd.GeoDataFrame(pd.concat([cands, more], ignore_index=True), geometry="geometry", crs=4326)
        er = _extra_reach(region_id, extra)
        if reach is not None and er is not None:
            reach = pd.concat([reach, er], ignore_index=True)
        elif reach is not None:
            reach = None
    reasons = {}
    if b["areas"] is None:
        reasons["cluster"] = b["why_cluster"]
    if reach is None:
        reasons.update({f"alcance_{t}": b["why_reach"] or "sin tiempos por carretera" for t in region.catchment.minutes})
    table, reasons = criteria_for_sites(cands, region, _atlas.layers, b["demand"], service_m=service_km * 1000,
                                        areas=b["areas"], reach=reach, reasons=reasons)
    return cands, table, reasons


@st.cache_data(show_spinner="Resolviendo el problema de máxima cobertura (CBC)…", max_entries=32)
def _mclp(region_id: str, service_km: float, k: int, extra: tuple, _atlas: Atlas):
    region = get_region(region_id)
    cands, _, _ = _criteria(region_id, service_km, extra, _atlas)
    return optimise_sites(cands, _base(region_id, _atlas)["demand"], _atlas.layers["hospitales"], crs=region.crs_metric,
                          service_m=service_km * 1000, k=k, time_limit=region.sites.solver_time_limit_s)


# ------------------------------------------------------------------ state


def _init_state() -> None:
    for key, value in (("sitios_hipoteticos", []), ("sitios_retirados", []), ("sitios_candidatos_clic", []),
                       ("sitios_escenarios", []), ("sitios_ultimo_clic", None)):
        if key not in st.session_state:
            st.session_state[key] = value


def _fmt(v: float) -> str:
    return f"{v:,.0f}"


def _weights_panel(region: Region, names: list[str], absent: dict[str, str]) -> dict[str, float]:
    defaults = resolve_weights(names, region.sites.weights)
    out = {}
    with st.expander("Pesos de los criterios (0 = no cuenta)", expanded=False):
        cols = st.columns(3)
        for i, n in enumerate(names):
            info = criterion_info(n)
            with cols[i % 3]:
                disabled = n in absent
                help_text = f"{info.descripcion} ({'más' if info.sentido > 0 else 'menos'} es mejor)."
                if disabled:
                    help_text += f" Ausente: {absent[n]}."
                out[n] = st.slider(info.nombre, 0.0, 3.0, float(defaults[n]), 0.25, key=f"sitios_peso_{n}",
                                   help=help_text, disabled=disabled)
    return out


def _handle_click(clicked, mode: str, whatif: WhatIf) -> bool:
    """Apply a new map click once; returns True when the state changed."""
    if not clicked:
        return False
    key = (round(clicked["lat"], 6), round(clicked["lng"], 6), mode)
    if st.session_state["sitios_ultimo_clic"] == key:
        return False
    st.session_state["sitios_ultimo_clic"] = key
    lat, lon = key[0], key[1]
    if mode == "hipotetico":
        used = [int(h["id"].split("-")[1]) for h in st.session_state["sitios_hipoteticos"]]
        n = max(used, default=0) + 1
        st.session_state["sitios_hipoteticos"].append({"id": f"nuevo-{n}", "lat": lat, "lon": lon, "nombre": ""})
    elif mode == "candidato":
        n = len(st.session_state["sitios_candidatos_clic"]) + 1
        st.session_state["sitios_candidatos_clic"].append((f"clic-{n}", "clic", "", lat, lon))
    else:
        ident = whatif.nearest(lat, lon)
        if ident is None:
            return False
        if ident.startswith("existente-"):
            st.session_state["sitios_retirados"].append(ident)
        else:
            st.session_state["sitios_hipoteticos"] = [h for h in st.session_state["sitios_hipoteticos"] if h["id"] != ident]
    return True


def _whatif(region: Region, atlas: Atlas, demand, service_km: float) -> WhatIf:
    w = WhatIf(demand.points, atlas.layers["hospitales"], service_km * 1000, crs=region.crs_metric)
    for ident in st.session_state["sitios_retirados"]:
        if ident in w.ids():
            w.remove(ident)
    for h in st.session_state["sitios_hipoteticos"]:
        w.add(h["lat"], h["lon"], ident=h["id"], nombre=h.get("nombre", ""))
    return w


# ------------------------------------------------------------------ view


def render(region: Region, atlas: Atlas) -> None:
    st.subheader("Sitios para nuevos hospitales")
    st.caption(
        "Cada sitio candidato recibe un puntaje de 0 a 100 con criterios visibles y pesos ajustables; el modelo de "
        "máxima cobertura (MCLP) elige dónde poner k hospitales nuevos para cubrir más población, con los existentes "
        "fijos. Haga clic en el mapa para probar un hospital hipotético y ver el cambio de cobertura al instante."
    )
    _init_state()
    s = region.sites
    c1, c2, c3 = st.columns([1, 1, 1.4])
    with c1:
        k = st.number_input("Hospitales nuevos (k)", 1, 10, qp_number("sit_k", s.k, 1, 10, cast=int), key="sitios_k")
    with c2:
        service_km = st.slider("Estándar de servicio (km en línea recta)", 1.0, 15.0, float(s.service_km), 0.5,
                               key="sitios_servicio")
    with c3:
        mode = st.radio("Al hacer clic en el mapa", list(CLICK_MODES), format_func=CLICK_MODES.get, key="sitios_modo")
    qp_set(sit_k=str(int(k)))

    uploaded = st.file_uploader("Sitios candidatos propios (CSV con lat, lon[, nombre] o GeoJSON de puntos)",
                                type=["csv", "geojson", "json"], key="sitios_archivo")
    try:
        base = _base(region.id, atlas)
    except AtlasError as exc:
        st.error(f"No se pudo preparar el análisis de sitios: {exc}")
        return
    extra = list(st.session_state["sitios_candidatos_clic"])
    if uploaded is not None:
        try:
            up = candidates_from_upload(uploaded.getvalue(), uploaded.name, region_polygon=base["region_poly"],
                                        max_rows=s.max_upload_rows, max_bytes=int(s.max_upload_mb * 2**20))
        except AtlasError as exc:
            st.error(f"Archivo no válido: {exc}")
        else:
            (st.warning if up.problems else st.success)(up.report)
            extra += [(r.sitio, "archivo", r.etiqueta, round(r.geometry.y, 6), round(r.geometry.x, 6))
                      for r in up.candidates.itertuples()]
    extra_key = tuple(extra)

    demand = base["demand"]
    st.info(f"**Demanda usada:** {demand.label} Total {_fmt(demand.total)} en {len(demand.points):,} puntos.", icon="👥")
    if demand.kind == "proxy" and region.cobertura_parcial:
        st.warning(PARTIAL_PROXY_NOTE)
    for note in demand.notes:
        st.caption(note)
    cands, crit, reasons = _criteria(region.id, service_km, extra_key, atlas)
    weights = _weights_panel(region, list(crit.columns), {n: r for n, r in reasons.items() if crit[n].isna().all()})
    try:
        screening = score_sites(cands, crit, weights, normalisation=s.normalisation, absent_reasons=reasons)
    except AtlasError as exc:
        st.error(str(exc))
        return
    for note in screening.notes:
        st.caption(note)
    if screening.absent:
        st.caption("Criterios ausentes: " + "; ".join(f"{criterion_info(n).nombre} — {why}" for n, why in screening.absent.items()))

    mclp = _mclp(region.id, service_km, int(k), extra_key, atlas)
    table = screening.table
    optimal = table.iloc[list(mclp.selected)].assign(orden=range(1, len(mclp.selected) + 1), ganancia=list(mclp.gains))
    whatif = _whatif(region, atlas, demand, service_km)
    base_fig = WhatIf(demand.points, atlas.layers["hospitales"], service_km * 1000, crs=region.crs_metric).figures()

    tot = mclp.demand_total or 1.0
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Cubierta hoy", f"{100 * mclp.covered_before / tot:.1f} %", help=f"{_fmt(mclp.covered_before)} de {_fmt(tot)}")
    m2.metric(f"Con {len(mclp.selected)} óptimos", f"{100 * mclp.covered_after / tot:.1f} %",
              f"+{_fmt(mclp.covered_after - mclp.covered_before)}")
    m3.metric("Voraz", f"{100 * mclp.greedy_covered / tot:.1f} %",
              help="Solución voraz (punto de partida del solucionador).")
    m4.metric("Brecha de optimalidad", f"{100 * mclp.gap:.2f} %", help=f"{mclp.status}. {mclp.solver}. {mclp.seconds:.1f} s.")

    col_map, col_side = st.columns([3, 2])
    with col_map:
        m = sites_map(region, table, screening.used, optimal=optimal, hospitals=atlas.layers["hospitales"],
                      facilities=whatif.facilities(), demand=demand.points, service_m=service_km * 1000)
        localise_assets(m)
        out = show_map(m, height=620, returned_objects=["last_clicked"], key="sitios_mapa")
        st.caption(ATTRIBUTION)
        if _handle_click((out or {}).get("last_clicked"), mode, whatif):
            st.rerun()
    with col_side:
        f = whatif.figures()
        st.markdown("**Qué pasa si** (hospitales hipotéticos y retirados)")
        w1, w2, w3 = st.columns(3)
        w1.metric("Atendida", _fmt(f["atendida"]), _fmt(f["atendida"] - base_fig["atendida"]))
        w2.metric("En competencia", _fmt(f["en_competencia"]),
                  help="Población al alcance de un hospital nuevo que un hospital existente ya atiende.")
        w3.metric("Sin cobertura", _fmt(f["sin_cobertura"]), _fmt(f["sin_cobertura"] - base_fig["sin_cobertura"]),
                  delta_color="inverse")
        st.caption(f"{f['hospitales_nuevos']} hipotéticos · {len(st.session_state['sitios_retirados'])} retirados · "
                   f"radio {service_km:g} km")
        if st.button("Limpiar qué pasa si", key="sitios_limpiar"):
            st.session_state["sitios_hipoteticos"] = []
            st.session_state["sitios_retirados"] = []
            st.rerun()
        name = st.text_input("Nombre del escenario", f"Escenario {len(st.session_state['sitios_escenarios']) + 1}",
                             key="sitios_nombre_escenario")
        if st.button("Guardar escenario", key="sitios_guardar"):
            st.session_state["sitios_escenarios"].append(whatif.scenario(name))
        loaded = st.file_uploader("Cargar escenarios (JSON)", type=["json"], key="sitios_cargar")
        if loaded is not None:
            try:
                st.session_state["sitios_escenarios"] = scenarios_from_json(loaded.getvalue().decode("utf-8"))
            except (AtlasError, UnicodeDecodeError) as exc:
                st.error(f"Escenarios no válidos: {exc}")
        sc: list[Scenario] = st.session_state["sitios_escenarios"]
        if sc:
            st.dataframe(compare_scenarios(sc)[["escenario", "nuevos", "retirados", "atendida", "en_competencia", "sin_cobertura"]],
                         hide_index=True, width="stretch")
            st.download_button("Descargar escenarios (JSON)", scenarios_to_json(sc).encode("utf-8"),
                               file_name=f"escenarios_{region.id}.json", mime="application/json", key="sitios_json")

    st.markdown("**Ranking de sitios**")
    rank = screening.ranking()
    st.dataframe(rank.head(50), hide_index=True, width="stretch", height=360)
    d1, d2 = st.columns(2)
    with d1:
        st.download_button("Descargar ranking completo (CSV)", rank.to_csv(index=False).encode("utf-8"),
                           file_name=f"sitios_{region.id}.csv", mime="text/csv", key="sitios_csv")
    with d2:
        pick = st.selectbox("Ficha de un sitio", rank["sitio"].head(50).tolist(), key="sitios_ficha")
        row = table.loc[table["sitio"] == pick].iloc[0]
        sheet = site_sheet_html(region, row, screening.used, demand_label=demand.label,
                                service_note=f"{service_km:g} km en línea recta", weights=screening.weights,
                                absent=screening.absent, n_sites=len(table))
        st.download_button("Descargar ficha (HTML imprimible)", sheet.encode("utf-8"), file_name=f"ficha_{pick.replace(':', '_')}.html",
                           mime="text/html", key="sitios_ficha_html")
    with st.expander("Cómo se calcula", expanded=False):
        st.markdown(
            "- **Puntaje**: cada criterio se normaliza a 0–1 (1 = mejor; min–max), se multiplica por su peso y se promedia; "
            "×100. Un criterio sin variación vale 0 para todos; un valor faltante cuenta como el peor. Empates comparten rango.\n"
            f"- **Candidatos**: {base['label']} (hexágonos H3 res. {s.h3_resolution}), más los sitios del archivo y los clics.\n"
            "- **Cobertura**: población (o su proxy) a menos del estándar de servicio en línea recta; los hospitales "
            "existentes se fijan abiertos. El MCLP se resuelve con spopt y CBC, partiendo de la solución voraz, con "
            f"límite de {s.solver_time_limit_s:g} s; la brecha se mide contra una cota superior válida.\n"
            "- Criterios: " + "; ".join(f"**{c.nombre}** — {c.descripcion}" for c in CRITERIA.values())
        )
