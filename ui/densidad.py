"""Vista "Densidad y clústeres": densidad kernel, hexágonos H3, clústeres y puntos calientes.

Only Streamlit code; the analyses are in ``atlas.density``, ``atlas.hexagons``, ``atlas.quotients``
and ``atlas.clusters``, the maps in ``atlas.maps.densidad``. Every analysis is cached on small
arguments (region id, layer, parameters), so moving a slider back and forth recomputes nothing.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from atlas.build import Atlas
from atlas.clusters import HOTSPOT_CLASSES, cluster_polygons, dbscan_labels, getis_ord_hotspots, hdbscan_labels, zone_concentration
from atlas.density import kde_contours, kde_grid
from atlas.density_report import UNITS_LAYER, select_units
from atlas.geo import area_km2, municipalities_from_gpkg
from atlas.hexagons import cells_polygon, footprint_cells, hex_cells, hex_counts
from atlas.layers import ALL_LAYER
from atlas.maps.base import ATTRIBUTION, localise_assets
from atlas.maps.densidad import LQ_BREAKS, add_clusters, add_contours, add_heat, add_hex_choropleth, add_hotspots, density_map
from atlas.quotients import class_lq, hex_lq, national_lq, rates_per_100k
from atlas.settings import Region

from .common import qp_get, qp_number, qp_set, show_map

__all__ = ["render"]

VISTAS = ["Densidad kernel", "Hexágonos", "Clústeres", "Puntos calientes"]
HEX_VARIABLES = {"n": "Unidades por hexágono", "por_km2": "Unidades por km²", "lq": "Cociente de localización intraurbano"}

EXPLICA = {
    "Densidad kernel": (
        "Cada unidad reparte su peso en una campana gaussiana cuyo **ancho de banda** (desviación estándar, en metros) "
        "se elige aquí; la suma da unidades **por km²**, una estimación real que no cambia con el zoom (a diferencia del "
        "difuminado en píxeles de un mapa de calor de Leaflet). Se calcula en metros (EPSG:6372) sobre una rejilla y por FFT. "
        "Las reglas de Scott y Silverman suponen una sola mancha normal y suavizan de más una ciudad con varios centros."
    ),
    "Hexágonos": (
        "Conteo de unidades en hexágonos H3 de igual tamaño (resolución 8 ≈ 0.74 km², 9 ≈ 0.11 km²). El **cociente de "
        "localización (LQ)** compara la proporción de unidades de salud entre todos los establecimientos del hexágono con la "
        "de toda la ciudad; sólo se calcula donde hay suficientes establecimientos para que un conteo pequeño no grite. "
        "Contorno negro: clúster **fuerte** (LQ ≥ 1 y en el cuartil superior, regla del U.S. Cluster Mapping)."
    ),
    "Clústeres": (
        "**DBSCAN** une unidades a menos de *eps* metros cuando al menos *mínimo* de ellas se tocan; **HDBSCAN** encuentra "
        "grupos de densidad variable sin fijar el radio. Cada clúster se dibuja como la envolvente cóncava de sus unidades, "
        "con sus clases, los hospitales que contiene y la parte que cae en la Ciudad Histórica."
    ),
    "Puntos calientes": (
        "**Gi\\*** de Getis-Ord compara la suma de cada hexágono y sus seis vecinos con lo que daría repartir los mismos conteos "
        "al azar (permutaciones condicionales). Pesos binarios de contigüidad H3 sobre la huella urbana completa, ceros incluidos. "
        "Los valores p se corrigen por **tasa de falsos descubrimientos** (Benjamini–Hochberg), porque se prueban cientos de "
        "hexágonos a la vez. Con 999 permutaciones el p mínimo es 0.002: el 99 % sólo se alcanza con 9 999."
    ),
}


# ------------------------------------------------------------------------------------------------
# cached analyses: keyed on the region id and small parameters; the atlas itself is not hashed
# ------------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _units(region_id: str, layer: str, clase: str, _atlas: Atlas) -> gpd.GeoDataFrame:
    return select_units(_atlas.layers, layer, prefixes=_atlas.region.density.health_prefixes, clase=clase or None)


@st.cache_data(show_spinner=False, max_entries=8)
def _est_cells(region_id: str, resolution: int, _atlas: Atlas) -> pd.Series:
    """H3 cells of every establishment (0.3–0.7 s), indexed once per resolution for the footprint and the LQ.

    (Deriving coarser cells with ``cell_to_parent`` would be faster but is not the same binning:
    H3 children overhang their parent, and about 6 % of León's establishments would land in a
    neighbouring hexagon, so the view would disagree with ``atlas density``.)"""
    return hex_cells(_atlas.layers[ALL_LAYER], resolution)


@st.cache_data(show_spinner=False, max_entries=8)
def _footprint(region_id: str, resolution: int, min_points: int, _atlas: Atlas) -> list[str]:
    return footprint_cells(_atlas.layers[ALL_LAYER], resolution, min_points=min_points,
                           point_cells=_est_cells(region_id, resolution, _atlas))


@st.cache_data(show_spinner=False, max_entries=16)
def _municipios(region_id: str, _region: Region) -> pd.DataFrame:
    return pd.DataFrame(municipalities_from_gpkg(_region.path(_region.files.municipios)).drop(columns="geometry"))


@st.cache_data(show_spinner=False, max_entries=32)
def _kde(region_id: str, layer: str, clase: str, bandwidth, cell_m: float, _atlas: Atlas):
    units = _units(region_id, layer, clase, _atlas)
    grid = kde_grid(units, crs=_atlas.region.crs_metric, bandwidth_m=bandwidth, cell_m=cell_m)
    levels = list(_atlas.region.density.contour_levels) or None
    return grid, kde_contours(grid, levels)


@st.cache_data(show_spinner=False, max_entries=32)
def _hexes(region_id: str, layer: str, clase: str, resolution: int, _atlas: Atlas) -> gpd.GeoDataFrame:
    p = _atlas.region.density
    cells = _footprint(region_id, resolution, p.footprint_min_establishments, _atlas)
    units = _units(region_id, layer, clase, _atlas)
    hx = hex_counts(units, resolution, cells=cells)
    lq = hex_lq(_atlas.layers[ALL_LAYER], resolution, min_establishments=p.lq_min_establishments,
                prefixes=p.health_prefixes if layer == UNITS_LAYER and not clase else _prefixes(units),
                percentile=p.lq_strong_percentile, cells=cells, point_cells=_est_cells(region_id, resolution, _atlas))
    hx["por_km2"] = hx["n"] / hx["area_km2"]
    for col in ("lq", "fuerte", "total", "salud"):
        hx[col] = lq[col]
    return hx


def _prefixes(units: gpd.GeoDataFrame) -> tuple[str, ...]:
    """SCIAN codes of the analysed layer, for its LQ against all establishments."""
    codes = sorted({c for c in units["clase"].astype(str) if c})
    return tuple(codes) or ("621", "622", "623")


@st.cache_data(show_spinner=False, max_entries=32)
def _clusters(region_id: str, layer: str, clase: str, method: str, eps_m: float, min_points: int, min_size: int, _atlas: Atlas):
    p = _atlas.region.density
    crs = _atlas.region.crs_metric
    units = _units(region_id, layer, clase, _atlas)
    if method == "DBSCAN":
        labels = dbscan_labels(units, crs=crs, eps_m=eps_m, min_points=min_points)
    else:
        labels = hdbscan_labels(units, crs=crs, min_cluster_size=min_size, min_samples=p.hdbscan_min_samples or None)
    zone = _atlas.layers.get("ciudad_historica")
    polys = cluster_polygons(units, labels, crs=crs, hospitals=_atlas.layers.get("hospitales"),
                             zone=zone.geometry.union_all() if zone is not None and len(zone) else None,
                             ratio=p.concave_ratio, buffer_m=p.cluster_buffer_m)
    return polys, int((labels < 0).sum())


@st.cache_data(show_spinner=False, max_entries=32)
def _hotspots(region_id: str, layer: str, clase: str, resolution: int, permutations: int, ring: int, _atlas: Atlas) -> gpd.GeoDataFrame:
    hx = _hexes(region_id, layer, clase, resolution, _atlas)
    p = _atlas.region.density
    return getis_ord_hotspots(hx[["n", "geometry"]], "n", ring=ring, permutations=permutations, seed=p.hotspot_seed)


@st.cache_data(show_spinner=False, max_entries=16)
def _figures(region_id: str, layer: str, clase: str, _atlas: Atlas) -> dict:
    """National LQ, rates per 100,000 and the Ciudad Histórica figures (no map)."""
    region = _atlas.region
    p = region.density
    est = _atlas.layers[ALL_LAYER]
    units = _units(region_id, layer, clase, _atlas)
    out = {
        "lq": national_lq(est, national_share=p.national_share_units, prefixes=p.health_prefixes),
        "lq62": national_lq(est, national_share=p.national_share_units, prefixes=p.national_share_prefixes),
    }
    mun = _municipios(region_id, region)
    hosp = _atlas.layers.get("hospitales")
    tables = [rates_per_100k(units, mun, codes=region.municipios, by="sector").assign(capa="Capa analizada")]
    if hosp is not None:
        tables.insert(0, rates_per_100k(hosp, mun, codes=region.municipios, by="sector").assign(capa="Hospitales"))
    out["tasas"] = pd.concat(tables, ignore_index=True)
    zone = _atlas.layers.get("ciudad_historica")
    if zone is not None and len(zone):
        poly = zone.geometry.union_all()
        city = cells_polygon(_footprint(region_id, p.h3_resolution, p.footprint_min_establishments, _atlas))
        out["zona"] = zone_concentration(units, est, poly, city, crs=region.crs_metric, prefixes=p.health_prefixes)
        out["zona_clases"] = class_lq(est[est.geometry.within(poly)], est, prefixes=p.health_prefixes, min_units=5).head(12)
    return out


# Folium maps are shared read-only objects: built once per parameter combination (as in ui/mapa.py).
@st.cache_resource(show_spinner=False, max_entries=24)
def _map(region_id: str, vista: str, key: tuple, _atlas: Atlas) -> folium.Map:
    region = _atlas.region
    zone = _atlas.layers.get("ciudad_historica")
    m = density_map(region, zone=zone)
    layer, clase = key[0], key[1]
    if vista == "Densidad kernel":
        bandwidth, cell_m, heat, contours = key[2:]
        grid, bands = _kde(region_id, layer, clase, bandwidth, cell_m, _atlas)
        if heat:
            add_heat(m, grid)
        if contours:
            add_contours(m, bands)
    elif vista == "Hexágonos":
        resolution, variable = key[2:]
        hx = _hexes(region_id, layer, clase, resolution, _atlas)
        extra = {"n": "Unidades", "total": "Establecimientos (todos los sectores)", "lq": "LQ intraurbano"}
        if variable == "lq":
            add_hex_choropleth(m, hx, "lq", title=HEX_VARIABLES["lq"], unit="", extra=extra, breaks=LQ_BREAKS,
                               cmap="RdBu_r", highlight="fuerte")
        else:
            add_hex_choropleth(m, hx, variable, title=HEX_VARIABLES[variable], unit="por km²" if variable == "por_km2" else "unidades", extra=extra)
    elif vista == "Clústeres":
        polys, _ = _clusters(region_id, layer, clase, *key[2:], _atlas)
        add_clusters(m, polys)
    else:
        hs = _hotspots(region_id, layer, clase, *key[2:], _atlas)
        add_hotspots(m, hs)
    folium.LayerControl(collapsed=True).add_to(m)
    localise_assets(m)
    return m


# ------------------------------------------------------------------------------------------------
# widgets
# ------------------------------------------------------------------------------------------------


def _layer_picker(atlas: Atlas) -> tuple[str, str]:
    specs = {s.id: s.etiqueta for s in atlas.specs.values() if s.is_points}
    options = [UNITS_LAYER, *specs]
    labels = {UNITS_LAYER: "Unidades de salud (SCIAN 621–623)", **specs}
    wanted = qp_get("d_capa", UNITS_LAYER)
    c1, c2 = st.columns([1, 1])
    layer = c1.selectbox("Capa analizada", options, index=options.index(wanted) if wanted in options else 0,
                         format_func=labels.get, key="densidad_capa")
    units = _units(atlas.region.id, layer, "", atlas)
    names = units.drop_duplicates("clase").set_index("clase")["nombre_act"] if len(units) else pd.Series(dtype=str)
    counts = units["clase"].value_counts()
    clases = [""] + [c for c in counts.index if c]
    wanted_c = qp_get("d_clase", "")
    clase = c2.selectbox("Clase SCIAN", clases, index=clases.index(wanted_c) if wanted_c in clases else 0,
                         format_func=lambda c: "Todas las clases" if not c else f"{c} · {names.get(c, '')} ({counts.get(c, 0):,})",
                         key="densidad_clase")
    return layer, clase


def _controls(vista: str, region: Region) -> tuple:
    """Widgets of the chosen analysis, with its explanation beside them; returns the map key."""
    p = region.density
    col_w, col_txt = st.columns([1.2, 1])
    col_txt.info(EXPLICA[vista])
    with col_w:
        if vista == "Densidad kernel":
            regla = st.radio("Ancho de banda", ["fijo", "scott", "silverman"], horizontal=True, key="densidad_regla",
                             format_func={"fijo": "Fijo (m)", "scott": "Regla de Scott", "silverman": "Regla de Silverman"}.get)
            bw = st.slider("Ancho de banda (m)", 100, 3000, qp_number("d_bw", int(p.bandwidth_m), 100, 3000, cast=int), step=50, key="densidad_bw",
                           disabled=regla != "fijo", help="Desviación estándar del núcleo gaussiano, en metros.")
            cell = st.select_slider("Celda de la rejilla (m)", [25, 50, 100, 200, 400], value=int(p.cell_m) if int(p.cell_m) in (25, 50, 100, 200, 400) else 100,
                                    key="densidad_celda", help="Más fina = contornos más suaves; el valor por km² no cambia.")
            c1, c2 = st.columns(2)
            heat = c1.checkbox("Mapa de calor", value=True, key="densidad_calor")
            contours = c2.checkbox("Curvas (unidades por km²)", value=True, key="densidad_curvas")
            qp_set(d_bw=bw)
            return (float(bw) if regla == "fijo" else regla, float(cell), heat, contours)
        if vista == "Hexágonos":
            res = st.slider("Resolución H3", 7, 10, qp_number("d_h3", p.h3_resolution, 7, 10, cast=int), key="densidad_h3",
                            help="7 ≈ 5.2 km², 8 ≈ 0.74 km², 9 ≈ 0.11 km², 10 ≈ 0.015 km² por hexágono.")
            var = st.radio("Variable", list(HEX_VARIABLES), horizontal=True, format_func=HEX_VARIABLES.get, key="densidad_hexvar")
            qp_set(d_h3=res)
            return (res, var)
        if vista == "Clústeres":
            method = st.radio("Método", ["DBSCAN", "HDBSCAN"], horizontal=True, key="densidad_metodo")
            eps = st.slider("eps: radio de vecindad (m)", 50, 1000, qp_number("d_eps", int(p.dbscan_eps_m), 50, 1000, cast=int), step=25, key="densidad_eps",
                            disabled=method != "DBSCAN")
            mn = st.slider("Mínimo de unidades para un núcleo", 3, 60, p.dbscan_min_points, key="densidad_minpts", disabled=method != "DBSCAN")
            size = st.slider("Tamaño mínimo de clúster (HDBSCAN)", 5, 150, p.hdbscan_min_cluster_size, key="densidad_hdb",
                             disabled=method != "HDBSCAN")
            qp_set(d_eps=eps)
            return (method, float(eps), int(mn), int(size))
        res = st.slider("Resolución H3", 7, 10, qp_number("d_h3", p.h3_resolution, 7, 10, cast=int), key="densidad_gi_h3")
        perms = st.radio("Permutaciones", [p.hotspot_permutations, 9999] if p.hotspot_permutations != 9999 else [9999],
                         horizontal=True, key="densidad_perm", format_func=lambda n: f"{n:,}")
        ring = st.radio("Vecindad", [1, 2], horizontal=True, key="densidad_anillo",
                        format_func={1: "6 hexágonos contiguos", 2: "2 anillos (18 vecinos)"}.get)
        qp_set(d_h3=res)
        return (res, int(perms), int(ring))


def _side_figures(vista: str, region_id: str, layer: str, clase: str, key: tuple, atlas: Atlas) -> None:
    if vista == "Densidad kernel":
        grid, bands = _kde(region_id, layer, clase, *key[:2], atlas)
        st.metric("Máximo", f"{grid.max():,.1f} unidades/km²")
        st.caption(f"Ancho de banda {grid.bandwidth_m:,.0f} m ({'fijo' if grid.bandwidth_rule == 'fijo' else 'regla de ' + grid.bandwidth_rule.capitalize()}), "
                   f"celda {grid.cell_m:,.0f} m, {grid.n_points:,} unidades.")
        st.dataframe(bands.assign(area_km2=area_km2(bands))[["etiqueta", "area_km2"]]
                     .rename(columns={"etiqueta": "Banda", "area_km2": "Área (km²)"}), hide_index=True, width="stretch")
    elif vista == "Hexágonos":
        hx = _hexes(region_id, layer, clase, key[0], atlas)
        top = hx.sort_values("n", ascending=False).head(8)
        st.metric("Hexágono más denso", f"{int(top['n'].iloc[0]):,} unidades")
        st.metric("Clústeres fuertes (LQ)", f"{int(hx['fuerte'].sum()):,} hexágonos",
                  help=f"LQ ≥ 1, en el percentil {atlas.region.density.lq_strong_percentile:g} o más y con ≥ {atlas.region.density.lq_min_establishments} establecimientos.")
        st.dataframe(top[["n", "por_km2", "total", "lq"]].rename(columns={"n": "Unidades", "por_km2": "Unidades/km²", "total": "Establecimientos", "lq": "LQ"}),
                     width="stretch")
    elif vista == "Clústeres":
        polys, noise = _clusters(region_id, layer, clase, *key, atlas)
        st.metric("Clústeres", f"{len(polys):,}")
        st.caption(f"{int(polys['unidades'].sum()) if len(polys) else 0:,} unidades en clústeres; {noise:,} sueltas.")
        if len(polys):
            t = polys.drop(columns="geometry").head(10).assign(en_ciudad_historica=lambda d: (100 * d["en_ciudad_historica"]).round(0),
                                                                area_km2=lambda d: d["area_km2"].round(2))
            st.dataframe(t[["cluster", "unidades", "area_km2", "n_hospitales", "en_ciudad_historica"]]
                         .rename(columns={"cluster": "Clúster", "unidades": "Unidades", "area_km2": "km²", "n_hospitales": "Hospitales",
                                          "en_ciudad_historica": "% en C. Histórica"}), hide_index=True, width="stretch")
    else:
        hs = _hotspots(region_id, layer, clase, *key, atlas)
        counts = hs["clase"].value_counts()
        st.dataframe(pd.DataFrame({"Clase": list(HOTSPOT_CLASSES), "Hexágonos": [int(counts.get(c, 0)) for c in HOTSPOT_CLASSES]}),
                     hide_index=True, width="stretch")
        st.caption(f"{hs.attrs['pesos']}; {hs.attrs['permutaciones']:,} permutaciones; p bilateral mínimo {hs.attrs['p_minimo']:.4f}; "
                   "FDR de Benjamini–Hochberg.")


def _figures_block(region: Region, layer: str, clase: str, atlas: Atlas) -> None:
    f = _figures(region.id, layer, clase, atlas)
    p = region.density
    if region.cobertura_parcial:
        st.warning("Cobertura parcial del DENUE: el cociente de localización, las participaciones y las tasas por habitante "
                   "describen sólo el área cubierta, no la región completa.")
    st.subheader("¿Está sobrerrepresentada la salud? Cociente de localización nacional")
    c1, c2, c3 = st.columns(3)
    c1.metric("LQ salud 621–623", f"{f['lq']['lq']:.3f}", help=f"{f['lq']['unidades']:,} de {f['lq']['total']:,} establecimientos "
              f"({100 * f['lq']['participacion']:.2f} %) ÷ {100 * p.national_share_units:.2f} % nacional.")
    c2.metric("LQ sector 62 (con 624)", f"{f['lq62']['lq']:.3f}", help=f"{f['lq62']['unidades']:,} de {f['lq62']['total']:,} "
              f"({100 * f['lq62']['participacion']:.2f} %) ÷ {100 * p.national_share_units:.2f} %: el mismo alcance que la cifra del plan.")
    plan = region.plan or {}
    if "participacion_salud_leon" in plan:
        c3.metric("El plan", f"{100 * plan['participacion_salud_leon']:.1f} % vs {100 * plan.get('participacion_salud_nacional', p.national_share_units):.2f} %")
    st.caption(f"Referencia nacional: {p.national_share_source}. El LQ de empleo ({100 * p.national_share_employment:.2f} % nacional) no se "
               "puede calcular: el DENUE de esta región no trae personal ocupado.")
    st.subheader("Tasas por 100 000 habitantes (Censo 2020)")
    t = f["tasas"].rename(columns={"municipio": "Municipio", "categoria": "Sector", "unidades": "Unidades", "poblacion": "Población",
                                   "por_100k": "Por 100 000 hab.", "capa": "Capa"})
    st.dataframe(t[["Capa", "Municipio", "Sector", "Unidades", "Población", "Por 100 000 hab."]].round(2), hide_index=True, width="stretch")
    if "hospitales_privados_por_100k" in plan:
        st.caption(f"El plan: {plan['hospitales_privados_por_100k']} hospitales privados y {plan.get('hospitales_publicos_por_100k', '—')} "
                   "públicos por 100 000 habitantes. No hay población por hexágono (sin polígonos de AGEB y la ciudad es una sola "
                   "localidad del ITER), por eso las tasas son municipales.")
    if "zona" in f:
        z = f["zona"]
        st.subheader("Ciudad Histórica")
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Unidades dentro", f"{z['unidades_dentro']:,}", help=f"{z['unidades_fuera']:,} fuera.")
        c2.metric("Parte de la ciudad", f"{100 * z['participacion_dentro']:.1f} %")
        c3.metric("Densidad", f"{z['densidad_zona_km2']:,.1f} /km²",
                  help=f"Frente a {z['densidad_ciudad_km2']:,.1f} unidades/km² en la huella urbana ({z['area_ciudad_km2']:,.1f} km²).")
        c4.metric("LQ de la zona", f"{z['lq_zona']:.2f}", help="Proporción de salud entre los establecimientos de la zona ÷ la de la ciudad.")
        zc = f["zona_clases"].reset_index()[["clase", "nombre_act", "unidades_zona", "unidades_ref", "lq"]]
        st.dataframe(zc.rename(columns={"clase": "Clase", "nombre_act": "Nombre", "unidades_zona": "En la zona", "unidades_ref": "En la ciudad",
                                        "lq": "LQ (≥ 5 unidades)"}).round(2), hide_index=True, width="stretch")
        if atlas.summary.get("ciudad_historica", {}).get("aproximada", True):
            st.caption("La Ciudad Histórica es una delimitación aproximada (hitos del DENUE), no un límite oficial.")


def render(region: Region, atlas: Atlas) -> None:
    """The "Densidad y clústeres" tab."""
    st.subheader("Densidad y clústeres: dónde se concentran los servicios de salud")
    layer, clase = _layer_picker(atlas)
    units = _units(region.id, layer, clase, atlas)
    if units.empty:
        st.warning("La capa elegida no tiene unidades en esta región.")
        return
    wanted = qp_get("d_vista", VISTAS[0])
    vista = st.radio("Análisis", VISTAS, index=VISTAS.index(wanted) if wanted in VISTAS else 0, horizontal=True, key="densidad_vista")
    qp_set(d_vista=vista, d_capa=layer if layer != UNITS_LAYER else "", d_clase=clase)
    params = _controls(vista, region)
    col_map, col_fig = st.columns([3, 1.2])
    with col_map:
        with st.spinner("Calculando…"):
            m = _map(region.id, vista, (layer, clase, *params), atlas)
        show_map(m, height=600, key=f"densidad_mapa_{region.id}")
        st.caption(ATTRIBUTION)
    with col_fig:
        _side_figures(vista, region.id, layer, clase, params, atlas)
    _figures_block(region, layer, clase, atlas)
