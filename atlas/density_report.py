"""The density report of a region: every figure of ``atlas density`` in one dictionary.

:func:`density_report` strings together the analyses of :mod:`atlas.density` and
:mod:`atlas.clusters` with the region's settings; :func:`format_report` turns it into text where
every number names its unit.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from ._errors import ConfigError, DataError
from .clusters import (
    HOTSPOT_CLASSES,
    cluster_polygons,
    dbscan_labels,
    getis_ord_hotspots,
    hdbscan_labels,
    zone_concentration,
)
from .density import kde_grid
from .geo import area_km2
from .layers import ALL_LAYER
from .hexagons import cells_polygon, footprint_cells, hex_cells, hex_counts
from .quotients import class_lq, hex_lq, is_health, national_lq, rates_per_100k
from .settings import Density, Region

__all__ = ["UNITS_LAYER", "select_units", "density_report", "format_report"]

log = logging.getLogger(__name__)

#: pseudo-layer: health units (SCIAN ``health_prefixes``) taken from ``establecimientos``
UNITS_LAYER = "salud"


def select_units(layers: dict[str, gpd.GeoDataFrame], layer: str, *, prefixes: tuple[str, ...], clase: str | None = None) -> gpd.GeoDataFrame:
    """The points to analyse: an atlas layer, or ``"salud"`` (health units of ``prefixes``).

    ``clase`` keeps the units whose SCIAN code starts with it (a class, subrama or subsector).
    """
    if layer == UNITS_LAYER:
        if ALL_LAYER not in layers:
            raise DataError(f'The atlas has no "{ALL_LAYER}" layer; rebuild it with `atlas build`.')
        est = layers[ALL_LAYER]
        units = est[is_health(est["clase"], prefixes)]
    elif layer in layers:
        units = layers[layer]
    else:
        known = ", ".join([UNITS_LAYER, *sorted(k for k in layers if k != "ciudad_historica")])
        raise ConfigError(f'layer was "{layer}" but is expected to be one of {known}.')
    if clase:
        if not clase.isdigit():
            raise ConfigError(f'clase was "{clase}" but is expected to be a SCIAN code or prefix (digits, e.g. 621211).')
        units = units[units["clase"].fillna("").astype(str).str.startswith(clase)]
    if not (units.geometry.geom_type == "Point").all():
        raise ConfigError(f'layer "{layer}" is not a point layer.')
    return units.copy()


def _clusters_summary(gdf: gpd.GeoDataFrame, labels: pd.Series, top: int = 5) -> dict:
    rows = []
    for r in gdf.head(top).itertuples():
        c = r.geometry.centroid
        rows.append(
            {
                "cluster": int(r.cluster),
                "unidades": int(r.unidades),
                "area_km2": round(float(r.area_km2), 3),
                "hospitales": [h for h in r.hospitales.split("; ") if h],
                "participacion_ciudad_historica": None if math.isnan(r.en_ciudad_historica) else round(float(r.en_ciudad_historica), 4),
                "clases": r.clases,
                "centro": [round(c.y, 5), round(c.x, 5)],
            }
        )
    return {
        "clusters": int(len(gdf)),
        "unidades_en_clusters": int((labels >= 0).sum()),
        "ruido": int((labels < 0).sum()),
        "mayores": rows,
    }


def density_report(
    region: Region,
    layers: dict[str, gpd.GeoDataFrame],
    municipios: pd.DataFrame,
    *,
    layer: str = UNITS_LAYER,
    clase: str | None = None,
    params: Density | None = None,
) -> dict[str, Any]:
    """Every figure of the density view for one region and layer.

    Parameters
    ----------
    region
        The region's settings.
    layers
        The atlas layers (:attr:`atlas.build.Atlas.layers`): ``establecimientos``, ``hospitales``
        and ``ciudad_historica`` are used.
    municipios
        INEGI municipios with ``POBTOT`` for the rates per 100,000 inhabitants.
    layer, clase
        The points analysed (:func:`select_units`).
    params
        Overrides ``region.density``.

    Returns
    -------
    dict
        JSON-serialisable; keys ``capa``, ``lq_nacional``, ``lq_por_clase``, ``tasas_100k``,
        ``kde``, ``hexagonos``, ``dbscan``, ``hdbscan``, ``puntos_calientes``,
        ``ciudad_historica``.
    """
    p = params or region.density
    crs = region.crs_metric
    units = select_units(layers, layer, prefixes=p.health_prefixes, clase=clase)
    if len(units) == 0:
        raise DataError(f'layer "{layer}"{f" clase {clase}" if clase else ""} has no units in region {region.id}.')
    est = layers[ALL_LAYER]
    zone_gdf = layers.get("ciudad_historica")
    zone = zone_gdf.geometry.union_all() if zone_gdf is not None and len(zone_gdf) else None
    zone_note = str(zone_gdf["fuente"].iloc[0]) if zone is not None and "fuente" in zone_gdf.columns else ""
    res = p.h3_resolution

    # national location quotient: health care proper, and sector 62 as the national share counts it
    lq_health = national_lq(est, national_share=p.national_share_units, prefixes=p.health_prefixes)
    lq_sector = national_lq(est, national_share=p.national_share_units, prefixes=p.national_share_prefixes)

    # footprint: the urbanised area (hexagons with establishments of any sector)
    est_cells = hex_cells(est, res)
    cells = footprint_cells(est, res, min_points=p.footprint_min_establishments, point_cells=est_cells)
    city = cells_polygon(cells)

    # rates per 100,000 inhabitants
    hosp = layers.get("hospitales")
    rates = {}
    if hosp is not None:
        rates["hospitales"] = rates_per_100k(hosp, municipios, codes=region.municipios, by="sector").to_dict("records")
    rates["unidades"] = rates_per_100k(units, municipios, codes=region.municipios, by="sector").to_dict("records")

    # kernel density
    grid = kde_grid(units, crs=crs, bandwidth_m=p.bandwidth_m, cell_m=p.cell_m)
    iy, ix = np.unravel_index(int(np.argmax(grid.values)), grid.shape)
    peak = gpd.GeoSeries(gpd.points_from_xy([grid.x[ix]], [grid.y[iy]]), crs=crs).to_crs(4326).iloc[0]
    peak_in_zone = bool(zone.contains(peak)) if zone is not None else None

    # hexagons
    hexes = hex_counts(units, res, cells=cells)
    top_cell = hexes["n"].idxmax()
    lat, lon = h3.cell_to_latlng(top_cell)
    lq_hex = hex_lq(est, res, min_establishments=p.lq_min_establishments, prefixes=p.health_prefixes,
                    percentile=p.lq_strong_percentile, cells=cells, point_cells=est_cells)
    strong = lq_hex[lq_hex["fuerte"]].sort_values("lq", ascending=False)

    # density clusters
    db = dbscan_labels(units, crs=crs, eps_m=p.dbscan_eps_m, min_points=p.dbscan_min_points)
    db_poly = cluster_polygons(units, db, crs=crs, hospitals=hosp, zone=zone, ratio=p.concave_ratio, buffer_m=p.cluster_buffer_m)
    hd = hdbscan_labels(units, crs=crs, min_cluster_size=p.hdbscan_min_cluster_size, min_samples=p.hdbscan_min_samples or None)
    hd_poly = cluster_polygons(units, hd, crs=crs, hospitals=hosp, zone=zone, ratio=p.concave_ratio, buffer_m=p.cluster_buffer_m)

    # hot spots
    hs = getis_ord_hotspots(hexes, "n", ring=p.hotspot_ring, permutations=p.hotspot_permutations, seed=p.hotspot_seed)
    by_class = {c: int((hs["clase"] == c).sum()) for c in HOTSPOT_CLASSES}
    level = round(100 * (1 - p.hotspot_fdr))
    hot_cells = hs[(hs["confianza"] >= level) & (hs["gi_z"] > 0)].index
    hot_units = int(hexes.loc[hot_cells, "n"].sum())

    # Ciudad Histórica
    ch: dict[str, Any] = {"disponible": zone is not None, "nota": zone_note}
    if zone is not None:
        ch.update(zone_concentration(units, est, zone, city, crs=crs, prefixes=p.health_prefixes))
        inside = est[est.geometry.within(zone)]
        cl = class_lq(inside, est, prefixes=p.health_prefixes, min_units=5)
        ch["lq_por_clase"] = [
            {"clase": k, "nombre_act": r.nombre_act, "unidades_zona": int(r.unidades_zona), "unidades_ciudad": int(r.unidades_ref),
             "lq": None if math.isnan(r.lq) else round(float(r.lq), 3)}
            for k, r in cl.head(10).iterrows()
        ]
        centres = [h3.cell_to_latlng(c) for c in hot_cells]
        ch["hexagonos_calientes_en_zona"] = int(shapely.contains_xy(zone, [c[1] for c in centres], [c[0] for c in centres]).sum()) if centres else 0

    # location quotient per class: the city's class shares against the national share are not
    # available (Censo Económico per class is not in the data), so per class we report the
    # specialisation of the Ciudad Histórica against the city (above) and of the city per class
    # against all its establishments
    per_class = class_lq(est, est, prefixes=p.health_prefixes)
    return {
        "region": region.id,
        # partial DENUE coverage: shares, rates and the national LQ describe the covered area only
        "cobertura_parcial": region.cobertura_parcial,
        "capa": {"nombre": layer, "clase": clase or "", "unidades": int(len(units)), "prefijos_salud": list(p.health_prefixes)},
        "lq_nacional": {
            "salud_621_623": lq_health,
            "sector_62": lq_sector,
            "fuente": p.national_share_source,
            "empleo": "no disponible: el DENUE de la región no trae personal ocupado (per_ocu)"
            if "per_ocu" not in est.columns or pd.to_numeric(est["per_ocu"], errors="coerce").isna().all()
            else "ver per_ocu",
            "participacion_nacional_empleo": p.national_share_employment,
            "plan": {k: region.plan.get(k) for k in ("participacion_salud_leon", "participacion_salud_nacional") if k in region.plan},
        },
        "lq_por_clase": [
            {"clase": k, "nombre_act": r.nombre_act, "unidades": int(r.unidades_ref),
             "por_1000_establecimientos": round(1000 * float(r.participacion_ref), 3)}
            for k, r in per_class.head(15).iterrows()
        ],
        "tasas_100k": rates,
        "plan_tasas_100k": {k: region.plan[k] for k in ("hospitales_privados_por_100k", "hospitales_publicos_por_100k") if k in region.plan},
        "kde": {
            "ancho_banda_m": round(grid.bandwidth_m, 1),
            "regla": grid.bandwidth_rule,
            "celda_m": grid.cell_m,
            "max_unidades_km2": round(grid.max(), 2),
            "max_en": [round(peak.y, 5), round(peak.x, 5)],
            "max_en_ciudad_historica": peak_in_zone,
        },
        "hexagonos": {
            "resolucion_h3": res,
            "hexagonos_huella_urbana": len(cells),
            # equal-area, like the Ciudad Histórica (agrees with H3's geodesic cell areas)
            "area_huella_km2": round(area_km2(city), 2),
            "hexagonos_con_unidades": int((hexes["n"] > 0).sum()),
            "max_unidades": int(hexes.at[top_cell, "n"]),
            "max_h3": top_cell,
            "max_en": [round(lat, 5), round(lon, 5)],
            "max_distancia_centro_km": round(h3.great_circle_distance((lat, lon), tuple(region.center), unit="km"), 2),
            "lq_hexagonos_elegibles": int(lq_hex["lq"].notna().sum()),
            "lq_min_establecimientos": p.lq_min_establishments,
            "lq_percentil_corte": round(float(lq_hex.attrs["percentil_corte"]), 3),
            "lq_fuertes": int(len(strong)),
            "lq_fuertes_mayores": [
                {"h3": k, "lq": round(float(r.lq), 3), "salud": int(r.salud), "total": int(r.total)} for k, r in strong.head(5).iterrows()
            ],
        },
        "dbscan": {"eps_m": p.dbscan_eps_m, "min_puntos": p.dbscan_min_points, **_clusters_summary(db_poly, db)},
        "hdbscan": {"min_tamano": p.hdbscan_min_cluster_size, "min_muestras": p.hdbscan_min_samples or p.hdbscan_min_cluster_size,
                    **_clusters_summary(hd_poly, hd)},
        "puntos_calientes": {
            "pesos": hs.attrs["pesos"],
            "permutaciones": p.hotspot_permutations,
            "correccion": "FDR de Benjamini–Hochberg en cada nivel de confianza (bilateral)",
            "p_minimo": round(hs.attrs["p_minimo"], 5),
            "por_clase": by_class,
            "nivel_resumen": level,
            "calientes": int(len(hot_cells)),
            "unidades_en_calientes": hot_units,
        },
        "ciudad_historica": ch,
    }


def _pct(x: float | None) -> str:
    return "n/d" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def format_report(r: dict[str, Any]) -> str:
    """Text for the terminal: every number names its unit."""
    L: list[str] = []
    cap = r["capa"]
    L.append(f"Densidad y clústeres — región {r['region']}, capa {cap['nombre']}{' clase ' + cap['clase'] if cap['clase'] else ''}: "
             f"{cap['unidades']:,} unidades")
    if r.get("cobertura_parcial"):
        L.append("AVISO cobertura parcial: el LQ, las participaciones y las tasas por habitante describen sólo el área cubierta "
                 "por el DENUE, no la región. " + " ".join(r["cobertura_parcial"].split()))
    n = r["lq_nacional"]
    a, b = n["salud_621_623"], n["sector_62"]
    L.append("")
    L.append(f"Cociente de localización nacional (unidades; referencia {_pct(a['participacion_nacional'])} de {n['fuente']}):")
    L.append(f"  salud 621–623 (sin 624): {a['unidades']:,} de {a['total']:,} establecimientos = {_pct(a['participacion'])} → LQ {a['lq']:.3f}")
    L.append(f"  sector 62 (621–624, como el plan): {b['unidades']:,} de {b['total']:,} = {_pct(b['participacion'])} → LQ {b['lq']:.3f}")
    if n["plan"]:
        L.append(f"  el plan: {_pct(n['plan'].get('participacion_salud_leon'))} local frente a {_pct(n['plan'].get('participacion_salud_nacional'))} nacional")
    L.append(f"  empleo (referencia {_pct(n['participacion_nacional_empleo'])}): {n['empleo']}")
    L.append("")
    L.append("Participación por clase en la ciudad (unidades por cada 1,000 establecimientos de todos los sectores; "
             "no hay participaciones nacionales por clase en los datos, ver LQ por clase de la Ciudad Histórica):")
    for c in r["lq_por_clase"][:10]:
        L.append(f"  {c['clase']} {c['nombre_act'][:70]}: {c['unidades']:,} unidades, {c['por_1000_establecimientos']:.2f} por 1,000")
    L.append("")
    L.append("Tasas por 100,000 habitantes (población del Censo 2020):")
    for key, label in (("hospitales", "hospitales"), ("unidades", "unidades")):
        for row in r["tasas_100k"].get(key, []):
            L.append(f"  {row['municipio']} {label} {row['categoria']}: {row['unidades']:,} → {row['por_100k']:.2f} por 100,000 hab.")
    if r["plan_tasas_100k"]:
        L.append("  el plan: " + ", ".join(f"{k.replace('_', ' ')} = {v}" for k, v in r["plan_tasas_100k"].items()))
    k = r["kde"]
    L.append("")
    L.append(f"Densidad kernel (gaussiana, ancho de banda {k['ancho_banda_m']:.0f} m [{k['regla']}], celda {k['celda_m']:.0f} m): "
             f"máximo {k['max_unidades_km2']:.1f} unidades/km² en {k['max_en'][0]}, {k['max_en'][1]}"
             + ("" if k["max_en_ciudad_historica"] is None else (" (dentro de la Ciudad Histórica)" if k["max_en_ciudad_historica"] else " (fuera de la Ciudad Histórica)")))
    h = r["hexagonos"]
    L.append(f"Hexágonos H3 resolución {h['resolucion_h3']}: huella urbana {h['hexagonos_huella_urbana']:,} hexágonos ({h['area_huella_km2']:.1f} km²), "
             f"{h['hexagonos_con_unidades']:,} con unidades; el más denso tiene {h['max_unidades']:,} unidades en {h['max_en'][0]}, {h['max_en'][1]} "
             f"({h['max_distancia_centro_km']:.1f} km del centro)")
    L.append(f"  LQ intraurbano: {h['lq_hexagonos_elegibles']:,} hexágonos con ≥ {h['lq_min_establecimientos']} establecimientos; "
             f"{h['lq_fuertes']:,} fuertes (LQ ≥ 1 y ≥ percentil, corte LQ {h['lq_percentil_corte']:.2f})")
    for s in h["lq_fuertes_mayores"]:
        L.append(f"    {s['h3']}: LQ {s['lq']:.2f} ({s['salud']} de {s['total']} establecimientos)")
    for key, title in (("dbscan", f"DBSCAN (eps {r['dbscan']['eps_m']:.0f} m, mínimo {r['dbscan']['min_puntos']} puntos)"),
                       ("hdbscan", f"HDBSCAN (tamaño mínimo {r['hdbscan']['min_tamano']} unidades)")):
        d = r[key]
        L.append("")
        L.append(f"{title}: {d['clusters']} clústeres, {d['unidades_en_clusters']:,} unidades en clústeres, {d['ruido']:,} sueltas")
        for c in d["mayores"]:
            hosp = ", ".join(c["hospitales"][:3]) + (f" y {len(c['hospitales']) - 3} más" if len(c["hospitales"]) > 3 else "")
            L.append(f"  #{c['cluster']}: {c['unidades']:,} unidades, {c['area_km2']:.2f} km², centro {c['centro'][0]}, {c['centro'][1]}, "
                     f"{_pct(c['participacion_ciudad_historica'])} en la Ciudad Histórica; hospitales: {hosp or 'ninguno'}")
    hs = r["puntos_calientes"]
    L.append("")
    L.append(f"Puntos calientes Gi* ({hs['pesos']}, {hs['permutaciones']:,} permutaciones, {hs['correccion']}):")
    L.append("  " + ", ".join(f"{c}: {v:,} hexágonos" for c, v in hs["por_clase"].items()))
    L.append(f"  calientes al {hs['nivel_resumen']} % o más: {hs['calientes']:,} hexágonos con {hs['unidades_en_calientes']:,} unidades")
    L.append(f"  (p bilateral mínimo con {hs['permutaciones']:,} permutaciones: {hs['p_minimo']:g}; con FDR, el 99 % exige que al menos "
             f"{hs['p_minimo'] / 0.01:.0%} de los hexágonos lleguen a ese mínimo"
             + ("; use --permutations 9999 para distinguirlo)" if hs["p_minimo"] > 0.001 else ")"))
    ch = r["ciudad_historica"]
    L.append("")
    if not ch["disponible"]:
        L.append("Ciudad Histórica: sin polígono para esta región.")
    else:
        L.append(f"Ciudad Histórica ({ch['nota'][:90]}…):" if len(ch["nota"]) > 90 else f"Ciudad Histórica ({ch['nota']}):")
        L.append(f"  {ch['unidades_dentro']:,} unidades dentro ({_pct(ch['participacion_dentro'])}), {ch['unidades_fuera']:,} fuera; "
                 f"área {ch['area_zona_km2']:.2f} km²")
        L.append(f"  densidad {ch['densidad_zona_km2']:.1f} unidades/km² dentro frente a {ch['densidad_ciudad_km2']:.1f} unidades/km² en la huella urbana "
                 f"({ch['area_ciudad_km2']:.1f} km²): {ch['razon_densidad']:.1f} veces")
        L.append(f"  LQ de la zona frente a la ciudad: {ch['lq_zona']:.3f} ({ch['salud_zona']:,} de {ch['establecimientos_zona']:,} establecimientos son de salud)")
        L.append(f"  hexágonos calientes con centro en la zona: {ch['hexagonos_calientes_en_zona']}")
        for c in ch["lq_por_clase"][:8]:
            lq = "n/d (< 5 unidades)" if c["lq"] is None else f"{c['lq']:.2f}"
            L.append(f"    {c['clase']} {c['nombre_act'][:60]}: {c['unidades_zona']} de {c['unidades_ciudad']} unidades, LQ {lq}")
    return "\n".join(L)
