"""Demand for site screening: who a new hospital would serve, as weighted points.

Two sources, and the result always says which one it used:

* **AGEB** — when the user supplies INEGI's urban AGEB polygons, each AGEB is a point (its
  representative point) weighted by CONAPO's ``POB_TOTAL``, carrying its marginalisation index;
  census localities that AGEBs do not describe stay as locality points.
* **Proxy** — without AGEB polygons (the case here), census localities (ITER 2020) are points
  weighted by their population, except the large ones (a city is *one* ITER point: León de los
  Aldama holds 1.58 million people at one coordinate). A large locality's population is spread
  over H3 cells in proportion to the number of establishments of **all sectors** (DENUE) in each
  cell. That is a proxy for where people are during the day, not where they live: it
  over-weights commercial centres and under-weights purely residential areas.

Totals always reconcile: the demand sums to the population of the region's localities.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ._errors import ConfigError, DataError
from .geo import _located, to_metric

__all__ = ["Demand", "DEMAND_KINDS", "demand_from_agebs", "demand_from_localities"]

log = logging.getLogger(__name__)

#: kind → the sentence shown in the CLI, UI and site sheet
DEMAND_KINDS = {
    "ageb": "Población por AGEB urbana (CONAPO 2020, polígonos INEGI) y localidades rurales (ITER 2020).",
    "proxy": (
        "Proxy: población de las localidades (ITER 2020); en las localidades grandes se reparte en "
        "hexágonos H3 según la densidad de establecimientos de todos los sectores del DENUE "
        "(no hay polígonos de AGEB). Mide actividad, no residencia."
    ),
}


@dataclass(frozen=True)
class Demand:
    """Weighted demand points (EPSG:4326): ``demanda`` (people), ``fuente``, ``clave``, ``nombre``.

    ``kind`` is ``"ageb"`` or ``"proxy"``; :attr:`label` is the sentence to show.
    """

    points: gpd.GeoDataFrame
    kind: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return DEMAND_KINDS[self.kind]

    @property
    def total(self) -> float:
        return float(self.points["demanda"].sum())

    def xy(self, crs: str) -> np.ndarray:
        """Metric coordinates of the points (``n × 2``)."""
        g = to_metric(self.points, crs).geometry
        return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def _check_localities(localities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    need = {"CVEGEO_LOC", "POBTOT"}
    if not need <= set(localities.columns):
        raise DataError(f"localities need columns {sorted(need)}; got {sorted(localities.columns)}.")
    if localities.crs is None:
        raise DataError("The localities have no CRS; expected EPSG:4326 (atlas.geo.localities_from_iter).")
    loc = localities[_located(localities) & (localities["POBTOT"] > 0).to_numpy()]
    return loc.to_crs(4326)


def demand_from_localities(
    localities: gpd.GeoDataFrame,
    establishments: gpd.GeoDataFrame,
    *,
    crs: str,
    resolution: int = 9,
    split_min_pob: int = 50_000,
    split_radius_km: float = 15.0,
    locality_polygons: gpd.GeoDataFrame | None = None,
) -> Demand:
    """Proxy demand: locality points, large localities spread by all-sector establishment density.

    Parameters
    ----------
    localities
        The region's census localities (``CVEGEO_LOC``, ``NOM_LOC``, ``POBTOT``, points).
    establishments
        All accepted establishments of every sector (the atlas ``establecimientos`` layer).
    crs
        Metric CRS for distances.
    resolution
        H3 resolution of the cells a large locality is spread over (9 ≈ 0.1 km²).
    split_min_pob
        Localities with at least this population are spread; smaller ones stay points.
    split_radius_km
        Without a polygon, a large locality takes the establishments whose nearest large locality
        it is, up to this distance.
    locality_polygons
        Optional INEGI locality polygons (``cvegeo`` 9 digits): a large locality then takes the
        establishments inside its polygon.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> loc = gpd.GeoDataFrame({"CVEGEO_LOC": ["110200001"], "NOM_LOC": ["A"], "POBTOT": [100]},
    ...                        geometry=[Point(-101.68, 21.12)], crs=4326)
    >>> est = gpd.GeoDataFrame(geometry=[Point(-101.68, 21.12), Point(-101.68, 21.12)], crs=4326)
    >>> d = demand_from_localities(loc, est, crs="EPSG:6372", split_min_pob=50)
    >>> d.total, d.kind
    (100.0, 'proxy')
    """
    if split_min_pob < 1 or resolution < 0 or resolution > 15:
        raise ConfigError(
            f"split_min_pob was {split_min_pob} and resolution {resolution}; expected ≥ 1 and 0–15."
        )
    loc = _check_localities(localities)
    if establishments.crs is None:
        raise DataError("The establishments have no CRS; expected EPSG:4326.")
    big = loc[loc["POBTOT"] >= split_min_pob]
    small = loc[loc["POBTOT"] < split_min_pob]
    rows = [
        pd.DataFrame({
            "demanda": small["POBTOT"].astype(float).to_numpy(),
            "fuente": "localidad",
            "clave": small["CVEGEO_LOC"].to_numpy(),
            "nombre": small.get("NOM_LOC", pd.Series("", index=small.index)).to_numpy(),
            "establecimientos": 0,
            "geometry": small.geometry.to_numpy(),
        })
    ]
    notes = []
    est = establishments[_located(establishments)].to_crs(4326)
    owner = _owner(big, est, crs, split_radius_km, locality_polygons)
    for code, pob, name, geom in zip(big["CVEGEO_LOC"], big["POBTOT"], big.get("NOM_LOC", big["CVEGEO_LOC"]), big.geometry):
        mine = est[owner == code]
        if mine.empty:
            notes.append(f"{name}: sin establecimientos para repartir; se usa su punto del ITER.")
            rows.append(pd.DataFrame({"demanda": [float(pob)], "fuente": "localidad", "clave": [code],
                                      "nombre": [name], "establecimientos": 0, "geometry": [geom]}))
            continue
        cells = pd.Series([h3.latlng_to_cell(y, x, resolution) for x, y in zip(mine.geometry.x, mine.geometry.y)])
        counts = cells.value_counts().sort_index()
        share = counts.to_numpy(dtype=float) / counts.sum()
        lat, lon = np.array([h3.cell_to_latlng(c) for c in counts.index]).T
        rows.append(pd.DataFrame({
            "demanda": pob * share,
            "fuente": "proxy_denue",
            "clave": counts.index.to_numpy(),
            "nombre": name,
            "establecimientos": counts.to_numpy(),
            "geometry": gpd.points_from_xy(lon, lat),
        }))
        notes.append(
            f"{name} ({int(pob):,} hab.) repartida en {len(counts):,} hexágonos H3 res. {resolution} "
            f"según {len(mine):,} establecimientos del DENUE."
        )
    df = pd.concat(rows, ignore_index=True)
    pts = gpd.GeoDataFrame(df, geometry="geometry", crs=4326)
    return Demand(pts, "proxy", tuple(notes))


def _owner(big, est, crs, radius_km, polygons) -> np.ndarray:
    """The large locality each establishment is attributed to ('' = none)."""
    owner = np.full(len(est), "", dtype=object)
    if big.empty or est.empty:
        return owner
    if polygons is not None and not polygons.empty:
        poly = polygons.rename(columns={c: c.lower() for c in polygons.columns if c != "geometry"})
        if "cvegeo" not in poly.columns:
            raise DataError("locality polygons need a 'cvegeo' column (9-digit locality code).")
        poly = poly[poly["cvegeo"].astype(str).isin(set(big["CVEGEO_LOC"]))].to_crs(4326)
        if not poly.empty:
            hit = gpd.sjoin(est[["geometry"]], poly[["cvegeo", "geometry"]], predicate="within", how="left")
            hit = hit[~hit.index.duplicated()]
            owner = hit["cvegeo"].fillna("").astype(str).to_numpy(dtype=object)
            missing = set(big["CVEGEO_LOC"]) - set(poly["cvegeo"].astype(str))
            if not missing:
                return owner
            big = big[big["CVEGEO_LOC"].isin(missing)]
    bxy = to_metric(big, crs).geometry
    exy = to_metric(est, crs).geometry
    d, i = cKDTree(np.column_stack([bxy.x, bxy.y])).query(np.column_stack([exy.x, exy.y]))
    codes = big["CVEGEO_LOC"].to_numpy()
    near = (d <= radius_km * 1000.0) & (owner == "")
    owner[near] = codes[i[near]]
    return owner


def demand_from_agebs(
    ageb_polygons: gpd.GeoDataFrame,
    conapo: pd.DataFrame,
    localities: gpd.GeoDataFrame,
    municipios: tuple[str, ...] | list[str],
) -> Demand:
    """AGEB demand: urban AGEBs (CONAPO ``POB_TOTAL``, ``IM_2020``) plus the localities they don't cover.

    ``ageb_polygons`` are INEGI's urban AGEBs with a 13-character ``CVEGEO`` (``CVE_AGEB`` is also
    accepted). A locality whose 9-digit code prefixes any AGEB is replaced by its AGEBs.
    """
    if ageb_polygons.crs is None:
        raise DataError("The AGEB polygons have no CRS; INEGI publishes them in EPSG:6372 or 4326.")
    cols = {c.upper(): c for c in ageb_polygons.columns if c != "geometry"}
    key = cols.get("CVEGEO") or cols.get("CVE_AGEB")
    if key is None:
        raise DataError(f"AGEB polygons need a CVEGEO (13 characters) column; got {sorted(ageb_polygons.columns)}.")
    ag = ageb_polygons[[key, "geometry"]].rename(columns={key: "CVE_AGEB"}).to_crs(4326)
    ag["CVE_AGEB"] = ag["CVE_AGEB"].astype(str).str.strip()
    ag = ag[ag["CVE_AGEB"].str[:5].isin(set(municipios))]
    if ag.empty:
        raise DataError(f"No AGEB polygon falls in the region's municipios {', '.join(municipios)}.")
    bad = ag["CVE_AGEB"].str.len() != 13
    if bad.any():
        raise DataError(f"{int(bad.sum())} AGEB codes are not 13 characters, e.g. {ag.loc[bad, 'CVE_AGEB'].iloc[0]!r}.")
    table = conapo[["CVE_AGEB", "POB_TOTAL", "IM_2020", "GM_2020"]]
    joined = ag.merge(table, on="CVE_AGEB", how="left")
    unmatched = int(joined["POB_TOTAL"].isna().sum())
    notes = []
    if unmatched:
        notes.append(f"{unmatched} AGEB sin fila en la tabla de CONAPO: demanda 0.")
    pts = gpd.GeoDataFrame({
        "demanda": joined["POB_TOTAL"].fillna(0).astype(float).to_numpy(),
        "fuente": "ageb",
        "clave": joined["CVE_AGEB"].to_numpy(),
        "nombre": joined["CVE_AGEB"].to_numpy(),
        "marginacion": joined["IM_2020"].to_numpy(dtype=float),
        "grado": joined["GM_2020"].to_numpy(),
        "establecimientos": 0,
    }, geometry=joined.geometry.representative_point().to_numpy(), crs=4326)
    loc = _check_localities(localities)
    loc = loc[loc["CVEGEO_LOC"].str[:5].isin(set(municipios))]
    urban = set(ag["CVE_AGEB"].str[:9])
    rest = loc[~loc["CVEGEO_LOC"].isin(urban)]
    rural = gpd.GeoDataFrame({
        "demanda": rest["POBTOT"].astype(float).to_numpy(),
        "fuente": "localidad",
        "clave": rest["CVEGEO_LOC"].to_numpy(),
        "nombre": rest.get("NOM_LOC", rest["CVEGEO_LOC"]).to_numpy(),
        "marginacion": np.nan,
        "grado": "",
        "establecimientos": 0,
    }, geometry=rest.geometry.to_numpy(), crs=4326)
    out = gpd.GeoDataFrame(pd.concat([pts, rural], ignore_index=True), geometry="geometry", crs=4326)
    return Demand(out, "ageb", tuple(notes))
