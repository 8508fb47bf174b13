"""Catchment: road travel bands around the region's origins and the census population inside them.

The travel model, in one sentence: a place's time to the nearest origin is the best, over its
``k`` nearest network nodes (and the origins themselves), of the node's road time plus an
*access leg* — the straight-line distance times a circuity factor, driven at a slower access
speed. Origins reach the network the same way. The band polygons are the exact union of the
discs this model implies (each reached node, and each origin, with radius
``(T - t) · access_speed / circuity``), so bands for several thresholds are nested by
construction and every origin's bands are dissolved into one polygon per threshold.

Population comes from the census localities (INEGI ITER 2020): each locality counts in every band
its travel time falls within, so band totals, state and municipio tables reconcile exactly with
the localities table. "Mercado potencial" is the part living in municipios whose CONAPO 2020
marginalisation grade is in the configured list (default "Muy bajo"/"Bajo") — a stated proxy for
ability to pay, not a measure of income.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from ._errors import ConfigError, DataError
from .geo import area_km2
from .network import Network, nearest_nodes, shortest_paths

__all__ = [
    "Access",
    "CatchmentResult",
    "Reach",
    "access_points",
    "bands_from_network",
    "band_population",
    "calibration_table",
    "catchment_for_region",
    "catchment_from_network",
    "geodesic_circle",
    "origins_for_region",
    "parse_latlon",
    "reach_from_origins",
    "times_to_points",
]

log = logging.getLogger(__name__)
_GEOD = pyproj.Geod(ellps="WGS84")
_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True, eq=False)
class Reach:
    """Road time from the origins to every network node, plus the access model that produced it.

    ``origins`` (EPSG:4326, one row per distinct origin location) carries ``nombre``, ``n``
    (establishments at that point), ``nodo`` (nearest node), ``snap_m`` (distance to it) and
    ``lon_nodo``/``lat_nodo`` (the snapped position, for the map).
    """

    network: Network
    node_minutes: np.ndarray
    node_metres: np.ndarray
    node_origin: np.ndarray
    origins: gpd.GeoDataFrame
    origin_xy: np.ndarray
    access_speed_kmh: float
    circuity: float
    access_nodes: int

    def access_minutes(self, metres: np.ndarray) -> np.ndarray:
        """Minutes to cover a straight-line distance off the network."""
        return np.asarray(metres) * self.circuity / 1000.0 / self.access_speed_kmh * 60.0


@dataclass(frozen=True, eq=False)
class CatchmentResult:
    """Everything the catchment view, CLI and exports show.

    Attributes
    ----------
    bands
        One dissolved polygon per threshold: ``minutos, poblacion, area_km2, geometry`` (EPSG:4326).
    circle
        The geodesic circle(s) around the origins: ``radio_km, poblacion, geometry``.
    disagreement
        ``tipo`` ("solo_circulo": within the radius but beyond the largest band; "solo_banda":
        within the largest band but beyond the radius), ``poblacion``, ``geometry``.
    origins
        The distinct origins with their snapping (see :class:`Reach`).
    localities
        The localities table with ``minutos``, ``km``, ``acceso_m`` and ``en_circulo``
        (``minutos`` is NaN without coordinates, ``inf`` when no road reaches it).
    summary
        One row per threshold: population total, metropolitan (group 1), regional (group 2) and
        mercado potencial, localities and municipios.
    by_state, by_municipio
        Population per threshold (columns ``hasta_<T>``) by state and by municipio.
    reconciliation
        How the localities' total splits: inside the largest band, beyond it and without
        coordinates; the parts are computed separately and add up to ``total``.
    network_info, params, notes
        How the network was built, the parameters used and warnings for the reader.
    """

    bands: gpd.GeoDataFrame
    circle: gpd.GeoDataFrame
    disagreement: gpd.GeoDataFrame
    origins: gpd.GeoDataFrame
    localities: pd.DataFrame
    summary: pd.DataFrame
    by_state: pd.DataFrame
    by_municipio: pd.DataFrame
    reconciliation: dict[str, int]
    metro_population: int
    network_info: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """JSON-ready digest: bands with totals, by state, top municipios; network and params."""
        out = {
            "parametros": self.params,
            "red": self.network_info,
            "origenes": self.origins.drop(columns="geometry").to_dict("records"),
            "poblacion_metropolitana": self.metro_population,
            "bandas": [],
            "circulo": {
                "radio_km": float(self.circle["radio_km"].iloc[0]) if len(self.circle) else None,
                "poblacion": int(self.circle["poblacion"].sum()),
            },
            "discrepancias": self.disagreement.drop(columns="geometry").to_dict("records"),
            "conciliacion": self.reconciliation,
            "avisos": self.notes,
        }
        for row in self.summary.to_dict("records"):
            col = f"hasta_{int(row['minutos'])}"
            states = self.by_state.loc[self.by_state[col] > 0, ["NOM_ENT", col]].sort_values(col, ascending=False)
            munis = self.by_municipio.loc[self.by_municipio[col] > 0].sort_values(col, ascending=False).head(top)
            out["bandas"].append({
                **{k: (int(v) if isinstance(v, (np.integer, int)) else v) for k, v in row.items()},
                "por_estado": [{"estado": s, "poblacion": int(p)} for s, p in states.itertuples(index=False)],
                "municipios_principales": [
                    {"cvegeo": r.CVEGEO, "municipio": r.NOM_MUN, "estado": r.NOM_ENT, "marginacion": r.GM_2020,
                     "poblacion": int(getattr(r, col))}
                    for r in munis.itertuples(index=False)
                ],
            })
        return out


# --------------------------------------------------------------------------- origins


def parse_latlon(text: str) -> tuple[float, float]:
    """``"21.12,-101.68"`` → ``(21.12, -101.68)``; raises naming the value and the format.

    Examples
    --------
    >>> parse_latlon("21.1221, -101.6823")
    (21.1221, -101.6823)
    """
    m = _LATLON.match(str(text))
    if not m:
        raise ConfigError(f'"{text}" is not a point: expected "LAT,LON" in decimal degrees, e.g. "21.122,-101.682".')
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ConfigError(f'"{text}" is out of range: expected LAT in [-90, 90] and LON in [-180, 180] (LAT first).')
    return lat, lon


def origins_for_region(region, origin: str | None = None, atlas=None) -> gpd.GeoDataFrame:
    """The origin points: ``"hospitales"`` (the region's hospitals layer), ``"centro"`` or ``"LAT,LON"``.

    ``atlas`` is the built atlas (``atlas.build.load_atlas``); it is loaded only when the hospitals
    are asked for and none is given.
    """
    origin = (origin or region.catchment.origin).strip()
    if origin == "hospitales":
        if atlas is None:
            from .build import load_atlas  # only when the build is needed

            atlas = load_atlas(region)
        layer = atlas.layers.get("hospitales")
        if layer is None or layer.empty:
            raise DataError(f"The {region.id} atlas has no hospitals; use --origin LAT,LON or centro.")
        out = layer[["nom_estab", "geometry"]].rename(columns={"nom_estab": "nombre"})
        return gpd.GeoDataFrame(out, geometry="geometry", crs=layer.crs).to_crs(4326)
    if origin == "centro":
        lat, lon = region.center
        name = f"Centro de {region.nombre}"
    else:
        lat, lon = parse_latlon(origin)
        name = f"{lat:.5f}, {lon:.5f}"
    return gpd.GeoDataFrame({"nombre": [name]}, geometry=gpd.points_from_xy([lon], [lat]), crs=4326)


def _distinct_origins(origins: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(origins, gpd.GeoDataFrame):
        raise DataError(f"origins was a {type(origins).__name__} but is expected to be a GeoDataFrame of points.")
    if origins.crs is None:
        raise DataError("The origins have no CRS; set it (EPSG:4326 for lat/lon) before routing.")
    o = origins[~origins.geometry.isna() & ~origins.geometry.is_empty].to_crs(4326)
    if o.empty:
        raise DataError("No origin point to route from (the origins are empty or have no geometry).")
    if not (o.geom_type == "Point").all():
        raise DataError(f"origins must be points; found {sorted(set(o.geom_type))}.")
    names = o["nombre"].astype(str) if "nombre" in o.columns else pd.Series([f"origen {i + 1}" for i in range(len(o))], index=o.index)
    key = list(zip(np.round(o.geometry.x, 6), np.round(o.geometry.y, 6)))
    df = pd.DataFrame({"nombre": names.to_numpy(), "key": key, "geometry": o.geometry.to_numpy()})
    g = df.groupby("key", sort=False)
    out = pd.DataFrame({
        "nombre": g["nombre"].agg(lambda s: s.iloc[0] if len(s) == 1 else f"{s.iloc[0]} (+{len(s) - 1})"),
        "n": g.size(),
        "geometry": g["geometry"].first(),
    }).reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def reach_from_origins(
    network: Network,
    origins: gpd.GeoDataFrame,
    *,
    access_speed_kmh: float = 30.0,
    circuity: float = 1.3,
    access_nodes: int = 8,
    limit: float = np.inf,
) -> Reach:
    """Road minutes from the nearest origin to every node (one multi-source Dijkstra).

    Each origin enters the network through its ``access_nodes`` nearest nodes, starting late by
    its access leg, so an origin far from any road is honest about it.
    """
    _check_access(access_speed_kmh, circuity, access_nodes)
    o = _distinct_origins(origins)
    xy = _project(o.geometry.x.to_numpy(), o.geometry.y.to_numpy(), network.crs)
    dist, idx = nearest_nodes(network, xy, k=access_nodes)
    groups = np.repeat(np.arange(len(o)), dist.shape[1])
    leg = dist.ravel() * circuity
    ok = np.isfinite(leg)
    paths = shortest_paths(
        network,
        idx.ravel()[ok],
        seed_minutes=leg[ok] / 1000.0 / access_speed_kmh * 60.0,
        seed_metres=leg[ok],
        seed_group=groups[ok],
        limit=limit,
    )
    o = o.assign(
        nodo=idx[:, 0],
        snap_m=np.round(dist[:, 0], 1),
        lon_nodo=network.lonlat[idx[:, 0], 0],
        lat_nodo=network.lonlat[idx[:, 0], 1],
    )
    return Reach(network, paths.minutes, paths.metres, paths.seed, o, xy, access_speed_kmh, circuity, int(access_nodes))


def _check_access(speed: float, circuity: float, k: int) -> None:
    if not speed > 0:
        raise ConfigError(f"access_speed_kmh was {speed!r} but is expected to be > 0 km/h.")
    if not circuity >= 1:
        raise ConfigError(f"circuity was {circuity!r} but is expected to be >= 1 (road length / straight line).")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ConfigError(f"access_nodes was {k!r} but is expected to be an integer >= 1.")


def _project(lon: np.ndarray, lat: np.ndarray, crs: str) -> np.ndarray:
    t = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = t.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])


# --------------------------------------------------------------------------- points


@dataclass(frozen=True, eq=False)
class Access:
    """Where each point enters the network: its ``k`` nearest nodes, independent of the origin.

    Computing this is the costly part of timing 190,000 localities; build it once per network and
    point set with :func:`access_points` and reuse it for every origin and threshold.
    """

    network: Network
    xy: np.ndarray
    dist: np.ndarray
    idx: np.ndarray
    finite: np.ndarray


def access_points(network: Network, lon: np.ndarray, lat: np.ndarray, k: int = 8) -> Access:
    """The ``k`` nearest network nodes of each point (EPSG:4326 lon/lat arrays)."""
    xy = _project(lon, lat, network.crs)
    finite = np.isfinite(xy).all(axis=1)
    d, i = nearest_nodes(network, xy, k=k)
    return Access(network, xy, d, i, finite)


def times_to_points(reach: Reach, lon: np.ndarray | None = None, lat: np.ndarray | None = None, *,
                    access: Access | None = None) -> pd.DataFrame:
    """Travel time from the nearest origin to each point (EPSG:4326 coordinates or an :class:`Access`).

    Returns
    -------
    DataFrame
        One row per point, in order: ``minutos`` (NaN without coordinates, ``inf`` if no road
        reaches it), ``km`` (road km plus both access legs with circuity), ``acceso_m`` (straight
        distance to the node, or origin, it enters through), ``nodo`` (-1 when it goes straight to
        an origin) and ``origen`` (row of ``reach.origins``).
    """
    net = reach.network
    if access is None:
        if lon is None or lat is None:
            raise ConfigError("times_to_points needs lon and lat, or a precomputed access.")
        access = access_points(net, lon, lat, k=reach.access_nodes)
    elif access.network is not net:
        raise ConfigError("The access points were computed on another network than the reach.")
    xy, d, i, finite = access.xy, access.dist, access.idx, access.finite
    node_min = np.append(reach.node_minutes, np.inf)  # index n_nodes = "no node"
    node_m = np.append(reach.node_metres, np.inf)
    cand = node_min[i] + reach.access_minutes(d)
    best = np.argmin(cand, axis=1)
    rows = np.arange(len(xy))
    minutes = cand[rows, best]
    acc = d[rows, best]
    node = i[rows, best]
    metres = node_m[node] + acc * reach.circuity
    origin = np.append(reach.node_origin, -1)[node]
    # going straight to the nearest origin (no road) can be faster near it
    od, oi = cKDTree(reach.origin_xy).query(np.where(finite[:, None], xy, 0.0), k=1)
    direct = reach.access_minutes(od)
    straight = direct < minutes
    minutes = np.where(straight, direct, minutes)
    acc = np.where(straight, od, acc)
    node = np.where(straight, -1, node)
    metres = np.where(straight, od * reach.circuity, metres)
    origin = np.where(straight, oi, origin)
    reached = finite & np.isfinite(minutes)
    return pd.DataFrame({
        "minutos": np.where(finite, minutes, np.nan),
        "km": np.where(reached, metres / 1000.0, np.where(finite, np.inf, np.nan)),
        "acceso_m": np.where(finite, acc, np.nan),
        "nodo": np.where(finite, node, -1),
        "origen": np.where(reached, origin, -1),
    })


# --------------------------------------------------------------------------- polygons


def bands_from_network(reach: Reach, minutes: tuple[int, ...] | list[int], *, quad_segs: int = 8) -> gpd.GeoDataFrame:
    """One dissolved isochrone polygon per threshold (EPSG:4326), smallest first.

    The polygon for ``T`` is the set of places whose modelled time is at most ``T``: the union of
    discs around every node reached in ``t < T`` with radius ``(T - t)`` at the access speed over
    the circuity, and around every origin with radius ``T`` the same way.
    """
    thresholds = _check_minutes(minutes)
    net = reach.network
    t = np.concatenate([reach.node_minutes, np.zeros(len(reach.origin_xy))])
    xy = np.vstack([net.xy, reach.origin_xy])
    metres_per_min = reach.access_speed_kmh * 1000.0 / 60.0 / reach.circuity
    to_ll = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    geoms, areas = [], []
    for T in thresholds:
        r = (T - t) * metres_per_min
        keep = r > 1.0  # discs under a metre add nothing visible
        discs = shapely.buffer(shapely.points(xy[keep]), r[keep], quad_segs=quad_segs)
        poly = shapely.union_all(discs) if len(discs) else shapely.Polygon()
        areas.append(area_km2(poly, net.crs))
        geoms.append(shapely.transform(poly, lambda c: np.column_stack(to_ll.transform(c[:, 0], c[:, 1]))))
    return gpd.GeoDataFrame({"minutos": list(thresholds), "area_km2": np.round(areas, 1)}, geometry=geoms, crs=4326)


def _check_minutes(minutes) -> tuple[int, ...]:
    try:
        values = sorted({int(m) for m in minutes})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"minutes was {minutes!r} but is expected to be a list of whole minutes, e.g. 60,120,180.") from exc
    if not values or values[0] <= 0:
        raise ConfigError(f"minutes was {minutes!r} but is expected to hold positive minutes.")
    return tuple(values)


def geodesic_circle(origins: gpd.GeoDataFrame, radius_km: float, *, vertices: int = 360) -> shapely.Geometry:
    """Union of the geodesic circles of ``radius_km`` around each origin (EPSG:4326 polygon)."""
    if not radius_km > 0:
        raise ConfigError(f"radius_km was {radius_km!r} but is expected to be > 0 km.")
    o = _distinct_origins(origins)
    az = np.linspace(0, 360, vertices, endpoint=False)
    polys = []
    for lon, lat in zip(o.geometry.x, o.geometry.y):
        lons, lats, _ = _GEOD.fwd(np.full(vertices, lon), np.full(vertices, lat), az, np.full(vertices, radius_km * 1000.0))
        polys.append(shapely.Polygon(np.column_stack([lons, lats])))
    return shapely.union_all(polys)


# --------------------------------------------------------------------------- population


def band_population(
    localities: pd.DataFrame,
    minutes: tuple[int, ...] | list[int],
    *,
    metro: tuple[str, ...] | list[str] = (),
    marginacion: pd.DataFrame | None = None,
    mercado_grados: tuple[str, ...] | list[str] = ("Muy bajo", "Bajo"),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int], int]:
    """Population by band, state and municipio from localities with a ``minutos`` column.

    Parameters
    ----------
    localities
        ``CVEGEO_MUN, NOM_ENT, NOM_MUN, POBTOT, minutos`` (as from :func:`times_to_points`
        joined to :func:`atlas.geo.localities_from_iter`).
    metro
        Municipios of the metropolitan area (group 1); the rest of each band is group 2.
    marginacion
        CONAPO municipal table (``CVEGEO, GM_2020``) for the mercado potencial.

    Returns
    -------
    summary, by_state, by_municipio, reconciliation, metro_population
    """
    thresholds = _check_minutes(minutes)
    need = {"CVEGEO_MUN", "NOM_ENT", "NOM_MUN", "POBTOT", "minutos"}
    if not need <= set(localities.columns):
        raise DataError(f"localities need columns {sorted(need)}; missing {sorted(need - set(localities.columns))}.")
    # integer codes and bincount: pandas groupbys on 190,000 string keys cost more than the routing
    codes, uniques = pd.factorize(localities["CVEGEO_MUN"], sort=False)
    k = len(uniques)
    n = len(codes)
    first = np.empty(k, np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    cvegeo = np.asarray(uniques, dtype=object).astype(str).astype(object)
    grades = {}
    if marginacion is not None:
        grades = dict(zip(marginacion["CVEGEO"].astype(str), marginacion["GM_2020"]))
    gm = np.array([g if isinstance(g := grades.get(c), str) and g else "sin dato" for c in cvegeo], dtype=object)
    is_metro = np.isin(cvegeo, list(metro))
    is_market = np.isin(gm, list(mercado_grados))
    pop = localities["POBTOT"].to_numpy(np.int64)
    mins = localities["minutos"].to_numpy(float)
    by_mun = pd.DataFrame({
        "CVEGEO": cvegeo,
        "NOM_MUN": localities["NOM_MUN"].iloc[first].to_numpy(object),
        "NOM_ENT": localities["NOM_ENT"].iloc[first].to_numpy(object),
        "GM_2020": gm,
        "metro": is_metro,
        "poblacion_total": np.bincount(codes, weights=pop, minlength=k).astype(np.int64),
    })
    rows = []
    cols = []
    for T in thresholds:
        inside = mins <= T  # NaN (no coordinates) compares False
        per_mun = np.bincount(codes, weights=np.where(inside, pop, 0), minlength=k).astype(np.int64)
        col = f"hasta_{T}"
        cols.append(col)
        by_mun[col] = per_mun
        total = int(per_mun.sum())
        metro_pop_t = int(per_mun[is_metro].sum())
        rows.append({
            "minutos": T,
            "poblacion": total,
            "metropolitana": metro_pop_t,
            "regional": total - metro_pop_t,
            "mercado_potencial": int(per_mun[is_market].sum()),
            "mercado_potencial_regional": int(per_mun[is_market & ~is_metro].sum()),
            "localidades": int(inside.sum()),
            "municipios": int((per_mun > 0).sum()),
        })
    summary = pd.DataFrame(rows)
    by_mun["minutos_min"] = pd.Series(mins).groupby(codes).min().reindex(range(k)).round(1).to_numpy()
    state = by_mun["CVEGEO"].str[:2]
    by_state = (by_mun.assign(CVE_ENT=state).groupby("CVE_ENT", as_index=False, sort=False)
                .agg(NOM_ENT=("NOM_ENT", "first"), poblacion_total=("poblacion_total", "sum"), **{c: (c, "sum") for c in cols}))
    by_state = by_state.sort_values([cols[-1], "poblacion_total"], ascending=False, kind="stable").reset_index(drop=True)
    by_mun = by_mun.sort_values([cols[-1], "poblacion_total"], ascending=False, kind="stable").reset_index(drop=True)
    no_xy = int(pop[np.isnan(mins)].sum())
    beyond = int(pop[~np.isnan(mins) & (mins > thresholds[-1])].sum())
    recon = {"total": int(pop.sum()), f"hasta_{thresholds[-1]}": int(summary["poblacion"].iloc[-1]),
             "mas_lejos": beyond, "sin_coordenadas": no_xy}
    return summary, by_state, by_mun, recon, int(by_mun.loc[by_mun["metro"], "poblacion_total"].sum())


# --------------------------------------------------------------------------- whole analysis


def catchment_from_network(
    network: Network,
    origins: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame,
    *,
    minutes: tuple[int, ...] | list[int] = (60, 120, 180),
    radius_km: float = 300.0,
    access_speed_kmh: float = 30.0,
    circuity: float = 1.3,
    access_nodes: int = 8,
    metro: tuple[str, ...] | list[str] = (),
    marginacion: pd.DataFrame | None = None,
    mercado_grados: tuple[str, ...] | list[str] = ("Muy bajo", "Bajo"),
    snap_warning_m: float = 5000.0,
    access: Access | None = None,
    circle_center: tuple[float, float] | None = None,
) -> CatchmentResult:
    """Bands, circle, disagreement and population for given origins — no file access.

    ``localities`` is the census table as from :func:`atlas.geo.localities_from_iter` (points in
    EPSG:4326, empty geometry when a locality has no coordinates). ``access`` (from
    :func:`access_points` on the same localities and network) skips the nearest-node search.
    ``circle_center`` (lat, lon) draws the straight-line circle around one centre (the city, as
    plans state "300 km from León"); by default it surrounds every origin. Inputs are not modified.
    """
    thresholds = _check_minutes(minutes)
    if localities.crs is None:
        raise DataError("The localities have no CRS; expected EPSG:4326 points.")
    loc_ll = localities if localities.crs.equals("EPSG:4326") else localities.to_crs(4326)
    reach = reach_from_origins(network, origins, access_speed_kmh=access_speed_kmh, circuity=circuity, access_nodes=access_nodes)
    geom = loc_ll.geometry
    valid = ~geom.isna() & ~geom.is_empty
    arr = geom.to_numpy()[valid.to_numpy()]
    lon = np.full(len(geom), np.nan)
    lat = np.full(len(geom), np.nan)
    lon[valid.to_numpy()] = shapely.get_x(arr)
    lat[valid.to_numpy()] = shapely.get_y(arr)
    if access is not None and len(access.xy) != len(lon):
        raise ConfigError(f"access was computed for {len(access.xy)} points but there are {len(lon)} localities.")
    times = times_to_points(reach, lon, lat, access=access)
    if circle_center is None:
        circle = geodesic_circle(reach.origins, radius_km)
    else:
        lat_c, lon_c = circle_center
        circle = geodesic_circle(gpd.GeoDataFrame(geometry=gpd.points_from_xy([lon_c], [lat_c]), crs=4326), radius_km)
    in_circle = np.zeros(len(lon), bool)
    ok = np.isfinite(lon) & np.isfinite(lat)
    in_circle[ok] = shapely.contains_xy(circle, lon[ok], lat[ok])
    table = pd.DataFrame(loc_ll.drop(columns=loc_ll.geometry.name)).reset_index(drop=True)
    table = table.assign(minutos=times["minutos"].round(2).to_numpy(), km=times["km"].round(2).to_numpy(),
                         acceso_m=times["acceso_m"].round(0).to_numpy(), en_circulo=in_circle)
    summary, by_state, by_mun, recon, metro_pop = band_population(
        table, thresholds, metro=metro, marginacion=marginacion, mercado_grados=mercado_grados)
    bands = bands_from_network(reach, thresholds)
    bands.insert(1, "poblacion", summary["poblacion"].to_numpy())
    far = bands.geometry.iloc[-1]
    T = thresholds[-1]
    within = table["minutos"].to_numpy() <= T
    pobl = table["POBTOT"].to_numpy()
    disagreement = gpd.GeoDataFrame(
        {
            "tipo": ["solo_circulo", "solo_banda"],
            "descripcion": [f"a menos de {radius_km:g} km en línea recta pero a más de {T} min",
                            f"a {T} min o menos pero a más de {radius_km:g} km en línea recta"],
            "poblacion": [int(pobl[in_circle & ~within].sum()), int(pobl[within & ~in_circle].sum())],
        },
        geometry=[circle.difference(far), far.difference(circle)],
        crs=4326,
    )
    circle_gdf = gpd.GeoDataFrame({"radio_km": [float(radius_km)], "poblacion": [int(pobl[in_circle].sum())]},
                                  geometry=[circle], crs=4326)
    notes = []
    for r in reach.origins.itertuples():
        if r.snap_m > snap_warning_m:
            notes.append(f"El origen «{r.nombre}» está a {r.snap_m / 1000:.1f} km del camino más cercano de la red; "
                         "su tramo de acceso se modela en línea recta con circuidad.")
    if recon["sin_coordenadas"]:
        notes.append(f"{recon['sin_coordenadas']:,} habitantes viven en localidades sin coordenadas: cuentan en el total, no en las bandas.")
    params = {
        "minutos": list(thresholds), "radio_km": float(radius_km), "velocidad_acceso_kmh": access_speed_kmh,
        "circuidad": circuity, "nodos_acceso": access_nodes, "mercado_grados": list(mercado_grados),
        "municipios_metropolitanos": list(metro), "origenes": int(len(reach.origins)),
        "centro_circulo": list(circle_center) if circle_center is not None else "orígenes",
    }
    return CatchmentResult(
        bands=bands, circle=circle_gdf, disagreement=disagreement, origins=reach.origins, localities=table,
        summary=summary, by_state=by_state, by_municipio=by_mun, reconciliation=recon, metro_population=metro_pop,
        network_info=dict(network.info), params=params, notes=notes,
    )


def catchment_for_region(
    region,
    *,
    origin: str | None = None,
    minutes: tuple[int, ...] | list[int] | None = None,
    radius_km: float | None = None,
    atlas=None,
    origins: gpd.GeoDataFrame | None = None,
    network: Network | None = None,
    localities: gpd.GeoDataFrame | None = None,
    marginacion: pd.DataFrame | None = None,
    access: Access | None = None,
) -> CatchmentResult:
    """The region's catchment from its configuration; any input may be passed in to reuse it.

    ``origin`` is ``"hospitales"``, ``"centro"`` or ``"LAT,LON"`` (default: the config's); it names
    the origins and places the straight-line circle (the region's centre for hospitals/centro).
    ``origins`` (a GeoDataFrame of those points, e.g. already loaded) skips loading them.
    """
    from .geo import conapo_municipal, localities_from_iter
    from .network import network_for_region

    c = region.catchment
    origin = (origin or c.origin).strip()
    given = origins is not None
    if not given:
        origins = origins_for_region(region, origin, atlas=atlas)
    network = network or network_for_region(region)
    if localities is None:
        localities = localities_from_iter(region.path(region.files.localidades))
    if marginacion is None:
        marginacion = conapo_municipal(region.path(region.files.conapo_municipal))
    # the plan's "300 km from the city" is one circle around the city; a point origin gets its own
    center = tuple(region.center) if origin in ("hospitales", "centro") else None
    result = catchment_from_network(
        network, origins, localities,
        minutes=minutes or c.minutes, radius_km=radius_km or c.radius_km,
        access_speed_kmh=c.access_speed_kmh, circuity=c.circuity, access_nodes=c.access_nodes,
        metro=region.municipios_metropolitanos, marginacion=marginacion, mercado_grados=c.mercado_grados,
        access=access, circle_center=center,
    )
    result.params["origen"] = origin
    if origin == "hospitales" and region.cobertura_parcial:
        result.notes.insert(0, f"Los orígenes son solo los {len(origins)} hospitales del DENUE disponible, que es parcial: "
                               + " ".join(region.cobertura_parcial.split()))
    return result


# --------------------------------------------------------------------------- calibration


def calibration_table(region, network: Network, referencias=None) -> pd.DataFrame:
    """Model vs published road km and minutes from the region's centre to reference places.

    Uses the region's access speed and circuity. Errors are ``(model - reference) / reference``
    in percent; a reference without a figure (0) gets NaN.
    """
    c = region.catchment
    refs = c.referencias if referencias is None else referencias
    if not refs:
        raise ConfigError(f"Region {region.id} lists no [[catchment.referencias]] to calibrate against.")
    lat, lon = region.center
    origin = gpd.GeoDataFrame({"nombre": ["centro"]}, geometry=gpd.points_from_xy([lon], [lat]), crs=4326)
    reach = reach_from_origins(network, origin, access_speed_kmh=c.access_speed_kmh, circuity=c.circuity, access_nodes=c.access_nodes)
    t = times_to_points(reach, np.array([r.lon for r in refs]), np.array([r.lat for r in refs]))
    straight = np.asarray(_GEOD.inv(np.full(len(refs), lon), np.full(len(refs), lat), np.array([r.lon for r in refs]), np.array([r.lat for r in refs]))[2]) / 1000
    out = pd.DataFrame({
        "destino": [r.destino for r in refs],
        "linea_recta_km": np.round(straight, 1),
        "km_ref": [r.km or np.nan for r in refs],
        "km_modelo": t["km"].round(1).to_numpy(),
        "min_ref": [r.minutos or np.nan for r in refs],
        "min_modelo": t["minutos"].round(0).to_numpy(),
        "fuente": [r.fuente for r in refs],
    })
    out.insert(4, "error_km_pct", ((out["km_modelo"] - out["km_ref"]) / out["km_ref"] * 100).round(1))
    out.insert(7, "error_min_pct", ((out["min_modelo"] - out["min_ref"]) / out["min_ref"] * 100).round(1))
    return out

