"""Site screening for a region: candidates → demand → criteria → score → optimal k → report.

This module wires the pure pieces (:mod:`atlas.sites`, :mod:`atlas.demand`, :mod:`atlas.location`)
to a region's configuration and built atlas. Inputs from other analyses are optional and
separable: density clusters/hot spots (:mod:`atlas.clusters`) and road travel times
(:mod:`atlas.catchment`) feed their criteria when they can be computed; when they cannot, the
criterion is reported absent with the reason, and everything else still runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio

from ._errors import AtlasError, ConfigError, DataError
from .demand import Demand, demand_from_agebs, demand_from_localities
from .catchment import access_points, reach_from_origins, times_to_points
from .network import network_for_region
from .geo import conapo_ageb, localities_from_iter, municipalities_from_gpkg, region_polygon, to_metric
from .location import (
    MCLPResult,
    PMedianResult,
    coverage_from_points,
    solve_mclp,
    solve_pmedian,
)
from .sites import (
    CRITERIA,
    NORMALISATIONS,
    Screening,
    candidates_from_h3,
    criterion_auxiliary_units,
    criterion_cluster,
    criterion_competition,
    criterion_historic,
    criterion_info,
    criterion_local_demand,
    criterion_marginalisation,
    criterion_nearest_hospital,
    criterion_regional_reach,
    resolve_weights,
    score_sites,
)

__all__ = [
    "PARTIAL_PROXY_NOTE",
    "SitingResult",
    "candidate_area",
    "cluster_areas",
    "criteria_for_sites",
    "demand_for_region",
    "minutes_to_km",
    "optimise_sites",
    "region_localities",
    "regional_reach",
    "siting_for_region",
]

log = logging.getLogger(__name__)

OBJECTIVES = ("mclp", "pmedian", "ambos")

#: shown whenever the demand proxy rests on a DENUE that covers only part of the region
PARTIAL_PROXY_NOTE = (
    "El DENUE de esta región es parcial: la demanda proxy reparte la población de cada localidad grande "
    "solo donde hay establecimientos registrados, y las localidades sin registros quedan en su punto del "
    "ITER. El puntaje de demanda local y el óptimo reflejan esa cobertura; interprételos con cautela."
)


def region_localities(region, localities_all: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The census localities (ITER 2020) of the region's municipios, from ``localities_all`` when given."""
    loc = localities_all if localities_all is not None else localities_from_iter(region.path(region.files.localidades))
    return loc[loc["CVEGEO_MUN"].isin(set(region.municipios))].reset_index(drop=True)


def _locality_polygons(region) -> gpd.GeoDataFrame | None:
    """INEGI locality polygons (AGLOC files, one per municipio) of the region, or None when none is set."""
    frames = []
    for rel in region.sites.urban_mask:
        path = region.path(rel)
        if not path.is_file():
            log.warning("urban mask %s not found; skipped", path)
            continue
        try:
            poly = gpd.read_file(path)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise DataError(f"{path}: cannot read the locality polygons ({exc}).") from exc
        poly = poly.rename(columns={c: c.lower() for c in poly.columns if c != "geometry"})
        if "cvegeo" not in poly.columns or poly.crs is None:
            raise DataError(f"{path}: locality polygons need a 'cvegeo' column and a CRS.")
        poly["cvegeo"] = poly["cvegeo"].astype(str)
        frames.append(poly[poly["cvegeo"].str[:5].isin(set(region.municipios))].to_crs(4326))
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)


def candidate_area(region, atlas, *, mode: str | None = None):
    """Polygon (EPSG:4326) where the regular candidate grid goes, and a sentence saying what it is.

    ``mode`` ``"urbana"``: the urban localities of the configured INEGI polygons, or — without them
    — the H3 cells holding at least ``urban_min_establishments`` DENUE establishments;
    ``"municipio"``: the region's municipios.
    """
    mode = mode or region.sites.area
    if mode not in ("urbana", "municipio"):
        raise ConfigError(f'sites.area was "{mode}" but is expected to be "urbana" or "municipio".')
    munis = municipalities_from_gpkg(region.path(region.files.municipios))
    region_poly = region_polygon(munis, region.municipios)
    if mode == "municipio":
        return region_poly, f"Municipio(s) {', '.join(region.municipios)} completos."
    poly = _locality_polygons(region)
    if poly is not None and not poly.empty:
        urban = poly[poly["ambito"].astype(str).str.upper() == "URBANO"] if "ambito" in poly.columns else poly
        if not urban.empty:
            area = urban.geometry.union_all().intersection(region_poly)
            return area, f"{len(urban)} localidades urbanas (polígonos INEGI, Marco Geoestadístico)."
    from .hexagons import cells_polygon, footprint_cells

    n = region.sites.urban_min_establishments
    cells = footprint_cells(atlas.layers["establecimientos"], region.sites.h3_resolution, min_points=n)
    area = cells_polygon(cells).intersection(region_poly)
    return area, f"Huella urbana derivada del DENUE: hexágonos con ≥ {n} establecimientos."


def demand_for_region(region, atlas, *, localities: gpd.GeoDataFrame | None = None) -> Demand:
    """AGEB demand when AGEB polygons are configured, else the labelled DENUE proxy."""
    loc = localities if localities is not None else region_localities(region)
    if region.files.ageb_polygons:
        path = region.path(region.files.ageb_polygons)
        if not path.is_file():
            raise DataError(f"{path}: AGEB polygons configured but not found (files.ageb_polygons).")
        try:
            polys = gpd.read_file(path)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise DataError(f"{path}: cannot read the AGEB polygons ({exc}).") from exc
        table = conapo_ageb(region.path(region.files.conapo_ageb))
        return demand_from_agebs(polys, table, loc, region.municipios)
    s = region.sites
    return demand_from_localities(
        loc, atlas.layers["establecimientos"], crs=region.crs_metric, resolution=s.demand_resolution,
        split_min_pob=s.split_min_pob, locality_polygons=_locality_polygons(region),
    )


def cluster_areas(region, atlas) -> tuple[gpd.GeoDataFrame | None, str]:
    """Polygons of health-unit density clusters (DBSCAN) and hot hexagons (Gi*), from the density
    issue's functions; ``(None, reason)`` when they cannot be computed."""
    try:
        from .clusters import cluster_polygons, dbscan_labels, getis_ord_hotspots
        from .hexagons import footprint_cells, hex_counts
    except ImportError as exc:  # the density issue has not landed in this tree
        return None, f"análisis de densidad no disponible ({exc.name})"
    d = region.density
    health = pd.concat([atlas.layers["hospitales"], atlas.layers["unidades_auxiliares"]], ignore_index=True)
    if health.empty:
        return None, "no hay unidades de salud para agrupar"
    labels = dbscan_labels(health, crs=region.crs_metric, eps_m=d.dbscan_eps_m, min_points=d.dbscan_min_points)
    clusters = cluster_polygons(health, labels, crs=region.crs_metric)[["geometry"]].assign(tipo="clúster DBSCAN")
    cells = footprint_cells(atlas.layers["establecimientos"], d.h3_resolution)
    hexes = hex_counts(health, d.h3_resolution, cells=cells)
    hot = getis_ord_hotspots(hexes, permutations=d.hotspot_permutations)
    hot = hot[hot["clase"].str.startswith("caliente")]
    hot_areas = gpd.GeoDataFrame({"tipo": ["punto caliente Gi*"] * len(hot)}, geometry=hot.geometry.to_numpy(), crs=4326)
    out = pd.concat([clusters, hot_areas], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326), ""


def regional_reach(region, candidates: gpd.GeoDataFrame, *, localities_all: gpd.GeoDataFrame | None = None,
                   network=None) -> tuple[pd.DataFrame | None, str]:
    """Population within each of ``region.catchment.minutes`` by road, per candidate.

    Uses the catchment model (:mod:`atlas.catchment`): one Dijkstra per H3 cell of
    ``sites.reach_resolution`` (≈36 km² at 6) holding candidates, from the candidates' mean
    position; the candidates in a cell share its figure (the coarse national road network does
    not separate points a few kilometres apart). ``(None, reason)`` when the road network or the
    catchment module is missing.
    """
    c = region.catchment
    try:
        net = network if network is not None else network_for_region(region)
    except AtlasError as exc:
        return None, f"sin red carretera ({exc})"
    loc = localities_all if localities_all is not None else localities_from_iter(region.path(region.files.localidades))
    loc = loc[loc.geometry.notna() & ~loc.geometry.is_empty & (loc["POBTOT"] > 0)]
    k = int(getattr(c, "access_nodes", 8))
    acc = access_points(net, loc.geometry.x.to_numpy(), loc.geometry.y.to_numpy(), k=k)
    pob = loc["POBTOT"].to_numpy(dtype=float)
    res = int(region.sites.reach_resolution)
    parent = pd.Series(
        [h3.latlng_to_cell(y, x, res) for x, y in zip(candidates.geometry.x, candidates.geometry.y)],
        index=candidates.index,
    )
    out = pd.DataFrame(index=candidates.index, columns=[f"alcance_{t}" for t in c.minutes], dtype=float)
    for cell, idx in parent.groupby(parent).groups.items():
        pts = candidates.loc[idx]
        origin = gpd.GeoDataFrame({"nombre": [cell]}, geometry=gpd.points_from_xy(
            [pts.geometry.x.mean()], [pts.geometry.y.mean()]), crs=4326)
        reach = reach_from_origins(net, origin, access_speed_kmh=c.access_speed_kmh, circuity=c.circuity,
                                   access_nodes=k, limit=float(max(c.minutes)))
        minutes = times_to_points(reach, access=acc)["minutos"].to_numpy()
        for t in c.minutes:
            out.loc[idx, f"alcance_{t}"] = float(pob[np.nan_to_num(minutes, nan=np.inf) <= t].sum())
    return out, ""


def criteria_for_sites(
    candidates: gpd.GeoDataFrame,
    region,
    layers: dict[str, gpd.GeoDataFrame],
    demand: Demand,
    *,
    service_m: float,
    areas: gpd.GeoDataFrame | None = None,
    reach: pd.DataFrame | None = None,
    reasons: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every criterion for ``candidates`` (raw values) and why any is absent."""
    s, crs = region.sites, region.crs_metric
    hosp = layers["hospitales"]
    reasons = dict(reasons or {})
    cols = [
        criterion_nearest_hospital(candidates, hosp, crs=crs),
        criterion_nearest_hospital(candidates, hosp, crs=crs, sector="público"),
        criterion_nearest_hospital(candidates, hosp, crs=crs, sector="privado"),
        criterion_auxiliary_units(candidates, layers["unidades_auxiliares"], radius_m=s.synergy_radius_m, crs=crs),
        criterion_historic(candidates, layers.get("ciudad_historica"), crs=crs),
        criterion_cluster(candidates, areas),
        criterion_competition(candidates, hosp, radius_m=s.competition_radius_m, crs=crs),
        criterion_local_demand(candidates, demand.points, radius_m=service_m, crs=crs),
        criterion_marginalisation(candidates, demand.points, radius_m=service_m, crs=crs),
    ]
    cols += [criterion_regional_reach(candidates, reach, t) for t in region.catchment.minutes]
    table = pd.concat(cols, axis=1)
    if demand.kind != "ageb":
        reasons.setdefault("marginacion", "requiere polígonos de AGEB (files.ageb_polygons)")
    for t in region.catchment.minutes:
        reasons.setdefault(f"alcance_{t}", "sin tiempos por carretera")
    reasons.setdefault("cluster", "sin clústeres ni puntos calientes")
    for n in ("dist_hospital_publico", "dist_hospital_privado"):
        reasons.setdefault(n, "no hay hospitales de ese sector")
    reasons.setdefault("dist_centro_historico", "sin polígono de la Ciudad Histórica")
    return table, reasons


def minutes_to_km(region, minutes: float) -> float:
    """Straight-line km equivalent of a travel time inside the city, with the catchment's access
    model (``access_speed_kmh`` along a path ``circuity`` times the straight line)."""
    c = region.catchment
    if not minutes > 0:
        raise ConfigError(f"service minutes was {minutes!r} but is expected to be > 0.")
    return minutes / 60.0 * c.access_speed_kmh / c.circuity


def optimise_sites(
    candidates: gpd.GeoDataFrame,
    demand: Demand,
    hospitals: gpd.GeoDataFrame,
    *,
    crs: str,
    service_m: float,
    k: int,
    time_limit: float = 60.0,
) -> MCLPResult:
    """MCLP over the candidates with the existing hospitals fixed open (straight-line service radius)."""
    dxy = demand.xy(crs)
    w = demand.points["demanda"].to_numpy(dtype=float)
    sxy = np.column_stack([to_metric(candidates, crs).geometry.x, to_metric(candidates, crs).geometry.y])
    hm = to_metric(hospitals, crs).geometry
    cover = coverage_from_points(dxy, sxy, service_m)
    base = coverage_from_points(dxy, np.column_stack([hm.x, hm.y]), service_m)
    return solve_mclp(cover, w, k, base=base, time_limit=time_limit)


def _pmedian_sites(candidates, demand: Demand, hospitals, *, crs: str, k: int, time_limit: float) -> PMedianResult:
    """p-median on demand aggregated to the candidate grid's H3 resolution 8 cells (dense model)."""
    pts = demand.points
    cells = [h3.latlng_to_cell(y, x, 8) for x, y in zip(pts.geometry.x, pts.geometry.y)]
    dm = to_metric(pts, crs).geometry
    df = pd.DataFrame({"c": cells, "w": pts["demanda"].to_numpy(float), "x": dm.x.to_numpy(), "y": dm.y.to_numpy()})
    df = df[df["w"] > 0]
    g = df.assign(wx=df.w * df.x, wy=df.w * df.y).groupby("c")[["w", "wx", "wy"]].sum()
    dxy = np.column_stack([g.wx / g.w, g.wy / g.w])
    sm = to_metric(candidates, crs).geometry
    sxy = np.column_stack([sm.x, sm.y])
    hm = to_metric(hospitals, crs).geometry
    hxy = np.column_stack([hm.x, hm.y])
    cost = np.linalg.norm(dxy[:, None, :] - sxy[None, :, :], axis=2) / 1000.0
    base = np.linalg.norm(dxy[:, None, :] - hxy[None, :, :], axis=2).min(axis=1) / 1000.0 if len(hxy) else None
    return solve_pmedian(cost, g.w.to_numpy(), k, existing_cost=base, time_limit=time_limit)


@dataclass
class SitingResult:
    """Everything the CLI, the app and the site sheet show."""

    screening: Screening
    demand: Demand
    area_label: str
    service: dict
    mclp: MCLPResult | None = None
    pmedian: PMedianResult | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def table(self) -> gpd.GeoDataFrame:
        return self.screening.table

    def optimal_sites(self) -> gpd.GeoDataFrame:
        """The MCLP's sites in marginal-gain order with ``orden`` and ``ganancia``."""
        if self.mclp is None:
            return self.table.iloc[:0].assign(orden=[], ganancia=[])
        t = self.table.iloc[list(self.mclp.selected)].copy()
        return t.assign(orden=range(1, len(t) + 1), ganancia=list(self.mclp.gains))

    def to_dict(self, top: int = 20) -> dict:
        sc = self.screening
        rank = sc.ranking(top)
        out = {
            "demanda": {"tipo": self.demand.kind, "descripcion": self.demand.label, "total": self.demand.total,
                        "puntos": len(self.demand.points), "notas": list(self.demand.notes)},
            "candidatos": {"n": len(self.table), "area": self.area_label,
                           "por_origen": self.table["origen"].value_counts().to_dict()},
            "servicio": self.service,
            "criterios": {
                "usados": {n: {"nombre": criterion_info(n).nombre, "peso": sc.weights.get(n, 0.0),
                               "sentido": "más es mejor" if criterion_info(n).sentido > 0 else "menos es mejor"}
                           for n in sc.used},
                "peso_cero": [n for n, w in sc.weights.items() if w <= 0 and n not in sc.absent],
                "ausentes": sc.absent,
                "normalizacion": sc.normalisation,
            },
            "ranking": rank.to_dict("records"),
            "empates": int(sc.table["empate"].sum()),
            "avisos": sc.notes + self.notes,
            "segundos": round(self.seconds, 2),
        }
        if self.mclp is not None:
            m = self.mclp
            out["optimo"] = {
                **{k: v for k, v in m.to_dict().items() if k not in ("selected", "greedy_selected")},
                "sitios": [{"orden": i + 1, "sitio": self.table.iloc[j]["sitio"], "ganancia": g,
                            "lat": round(self.table.iloc[j].geometry.y, 6), "lon": round(self.table.iloc[j].geometry.x, 6)}
                           for i, (j, g) in enumerate(zip(m.selected, m.gains))],
                "voraz": [self.table.iloc[j]["sitio"] for j in m.greedy_selected],
            }
        if self.pmedian is not None:
            p = self.pmedian
            out["p_mediana"] = {
                **{k: v for k, v in p.to_dict().items() if k not in ("selected", "greedy_selected")},
                "sitios": [self.table.iloc[j]["sitio"] for j in p.selected],
                "voraz": [self.table.iloc[j]["sitio"] for j in p.greedy_selected],
            }
        return out


def siting_for_region(
    region,
    atlas,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    extra_candidates: gpd.GeoDataFrame | None = None,
    weights: dict[str, float] | None = None,
    normalisation: str | None = None,
    k: int | None = None,
    service_km: float | None = None,
    service_min: float | None = None,
    objective: str = "mclp",
    with_clusters: bool = True,
    with_reach: bool = True,
    time_limit: float | None = None,
    localities: gpd.GeoDataFrame | None = None,
    demand: Demand | None = None,
) -> SitingResult:
    """Screen candidate sites and place ``k`` new hospitals for a region (see module docstring).

    ``candidates`` replaces the regular H3 grid; ``extra_candidates`` (clicked or uploaded) is
    added to it. ``service_min`` is converted to km with :func:`minutes_to_km` (there is no urban
    street network; the conversion is stated in the result).
    """
    t0 = time.perf_counter()
    s = region.sites
    if objective not in OBJECTIVES:
        raise ConfigError(f'objective was "{objective}" but is expected to be one of {", ".join(OBJECTIVES)}.')
    norm = normalisation or s.normalisation
    if norm not in NORMALISATIONS:
        raise ConfigError(f'normalisation was "{norm}" but is expected to be one of {", ".join(NORMALISATIONS)}.')
    if service_km is not None and service_min is not None:
        raise ConfigError("give the service standard in km or in minutes, not both.")
    # weights are checked before any heavy work, so a typo fails at once
    resolve_weights([*CRITERIA, *(f"alcance_{t}" for t in region.catchment.minutes)], s.weights, weights)
    notes: list[str] = []
    if service_min is not None:
        km = minutes_to_km(region, service_min)
        service = {"km": km, "minutos": service_min, "nota": (
            f"{service_min:g} min ≈ {km:.2f} km en línea recta (sin red vial urbana: velocidad de acceso "
            f"{region.catchment.access_speed_kmh:g} km/h, circuidad {region.catchment.circuity:g}).")}
    else:
        km = float(service_km if service_km is not None else s.service_km)
        if not km > 0:
            raise ConfigError(f"service_km was {km!r} but is expected to be > 0.")
        service = {"km": km, "minutos": None, "nota": f"{km:g} km en línea recta."}
    area_label = "candidatos dados por el usuario"
    if candidates is None:
        area, area_label = candidate_area(region, atlas)
        candidates = candidates_from_h3(area, s.h3_resolution)
    if extra_candidates is not None and len(extra_candidates):
        candidates = pd.concat([candidates, extra_candidates.to_crs(4326)], ignore_index=True)
    candidates = gpd.GeoDataFrame(candidates.reset_index(drop=True), geometry="geometry", crs=4326)
    if candidates.empty:
        raise DataError("There are no candidate sites to screen.")
    # the ITER table (189,432 rows) is read once and shared by the demand and the regional reach
    all_loc = None
    if (localities is None and demand is None) or with_reach:
        all_loc = localities_from_iter(region.path(region.files.localidades))
    loc = localities if localities is not None else (None if demand is not None else region_localities(region, all_loc))
    demand = demand or demand_for_region(region, atlas, localities=loc)
    if demand.kind == "proxy" and region.cobertura_parcial:
        notes.append(PARTIAL_PROXY_NOTE)
    reasons: dict[str, str] = {}
    areas = None
    if with_clusters:
        areas, why = cluster_areas(region, atlas)
        if areas is None:
            reasons["cluster"] = why
    else:
        reasons["cluster"] = "desactivado"
    reach = None
    if with_reach:
        reach, why = regional_reach(region, candidates, localities_all=all_loc)
        if reach is None:
            for t in region.catchment.minutes:
                reasons[f"alcance_{t}"] = why
    else:
        for t in region.catchment.minutes:
            reasons[f"alcance_{t}"] = "desactivado"
    table, reasons = criteria_for_sites(candidates, region, atlas.layers, demand, service_m=km * 1000.0,
                                        areas=areas, reach=reach, reasons=reasons)
    w = resolve_weights(table.columns, s.weights, weights)
    screening = score_sites(candidates, table, w, normalisation=norm, absent_reasons=reasons)
    k = s.k if k is None else k
    limit = time_limit or s.solver_time_limit_s
    mclp = pmed = None
    hosp = atlas.layers["hospitales"]
    if objective in ("mclp", "ambos"):
        mclp = optimise_sites(candidates, demand, hosp, crs=region.crs_metric, service_m=km * 1000.0, k=k, time_limit=limit)
    if objective in ("pmedian", "ambos"):
        pmed = _pmedian_sites(candidates, demand, hosp, crs=region.crs_metric, k=k, time_limit=limit)
    return SitingResult(screening, demand, area_label, service, mclp, pmed, notes, time.perf_counter() - t0)
