"""What-if: drop a hypothetical hospital on the map (or take one away) and see coverage change at once.

:class:`WhatIf` keeps, for every demand point, how many existing and how many hypothetical
hospitals reach it within the service radius. Adding or removing a hospital touches only the demand
points within its radius (a KD-tree query), so each change costs milliseconds; the hospitals
themselves live in an rtree index, which accepts insertions and deletions and answers "which
hospital did the user click on".

Every scenario reduces to three numbers, in demand units (people or the stated proxy):

* **atendida** — demand within reach of at least one hospital;
* **en competencia** — demand within reach of a *new* hospital that an existing hospital already
  serves: what the new site would have to win from incumbents rather than add;
* **sin cobertura** — demand no hospital reaches.

Scenarios are saved as JSON (:func:`scenarios_to_json`) and compared side by side
(:func:`compare_scenarios`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rtree
from scipy.spatial import cKDTree

from ._errors import ConfigError, DataError
from .geo import to_metric

__all__ = ["Scenario", "WhatIf", "compare_scenarios", "scenarios_from_json", "scenarios_to_json"]

log = logging.getLogger(__name__)

_FIGURES = ("atendida", "en_competencia", "sin_cobertura")


class WhatIf:
    """Incremental coverage of demand by existing plus hypothetical hospitals.

    Parameters
    ----------
    demand
        Points with a ``demanda`` column (EPSG:4326 or any CRS).
    hospitals
        Existing hospitals (points); their ids are ``existente-<n>`` in row order, names from
        ``nom_estab`` when present.
    radius_m
        Service standard in metres (straight line).
    crs
        Metric CRS used for distances.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"demanda": [10.0, 5.0]}, geometry=[Point(0, 0), Point(0, 0.1)], crs=4326)
    >>> h = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326)
    >>> w = WhatIf(d, h, 1000, crs="EPSG:3857")
    >>> w.figures()["sin_cobertura"]
    5.0
    >>> _ = w.add(0.1, 0.0)
    >>> w.figures()["sin_cobertura"]
    0.0
    """

    def __init__(self, demand: gpd.GeoDataFrame, hospitals: gpd.GeoDataFrame, radius_m: float, *, crs: str):
        if not (np.isfinite(radius_m) and radius_m > 0):
            raise ConfigError(f"radius_m was {radius_m!r} but is expected to be > 0 metres.")
        if "demanda" not in demand.columns:
            raise DataError("demand needs a 'demanda' column (people or the proxy).")
        self.radius_m = float(radius_m)
        self.crs = crs
        dm = to_metric(demand, crs).geometry
        self._w = demand["demanda"].to_numpy(dtype=float)
        self._xy = np.column_stack([dm.x.to_numpy(), dm.y.to_numpy()])
        self._tree = cKDTree(self._xy) if len(self._xy) else None
        self._existing = np.zeros(len(self._w), dtype=np.int32)
        self._new = np.zeros(len(self._w), dtype=np.int32)
        self._to_metric = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
        self._to_latlon = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        self._index = rtree.index.Index()
        self._facilities: dict[int, dict] = {}
        self._next = 0
        self._removed: list[str] = []
        hm = to_metric(hospitals, crs).geometry if len(hospitals) else gpd.GeoSeries([], crs=crs)
        names = hospitals["nom_estab"].astype(str).tolist() if "nom_estab" in hospitals.columns else [""] * len(hospitals)
        for i, (x, y, name) in enumerate(zip(hm.x, hm.y, names)):
            self._insert(float(x), float(y), f"existente-{i + 1}", name, existing=True)

    # ---------------------------------------------------------------- changes

    def _rows(self, x: float, y: float) -> np.ndarray:
        if self._tree is None:
            return np.zeros(0, dtype=int)
        return np.asarray(self._tree.query_ball_point([x, y], r=self.radius_m), dtype=int)

    def _insert(self, x: float, y: float, ident: str, name: str, *, existing: bool) -> str:
        if any(f["id"] == ident for f in self._facilities.values()):
            raise ConfigError(f'hospital id "{ident}" is already in the scenario.')
        key = self._next
        self._next += 1
        rows = self._rows(x, y)
        (self._existing if existing else self._new)[rows] += 1
        self._facilities[key] = {"id": ident, "nombre": name, "x": x, "y": y, "existente": existing}
        self._index.insert(key, (x, y, x, y))
        return ident

    def add(self, lat: float, lon: float, *, ident: str | None = None, nombre: str = "") -> str:
        """Add a hypothetical hospital at ``lat, lon`` (EPSG:4326); returns its id."""
        if not (np.isfinite(lat) and np.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConfigError(f"({lat!r}, {lon!r}) is not a valid latitude, longitude pair.")
        x, y = self._to_metric.transform(lon, lat)
        ident = ident or f"nuevo-{sum(not f['existente'] for f in self._facilities.values()) + 1}"
        return self._insert(float(x), float(y), ident, nombre, existing=False)

    def remove(self, ident: str) -> None:
        """Take a hospital (hypothetical or existing) out of the scenario."""
        for key, f in self._facilities.items():
            if f["id"] == ident:
                rows = self._rows(f["x"], f["y"])
                (self._existing if f["existente"] else self._new)[rows] -= 1
                self._index.delete(key, (f["x"], f["y"], f["x"], f["y"]))
                del self._facilities[key]
                if f["existente"]:
                    self._removed.append(ident)
                return
        raise ConfigError(f'hospital "{ident}" is not in the scenario; expected one of {", ".join(self.ids()) or "none"}.')

    def nearest(self, lat: float, lon: float) -> str | None:
        """Id of the hospital nearest to a clicked point (rtree nearest), or None when empty."""
        if not self._facilities:
            return None
        x, y = self._to_metric.transform(lon, lat)
        key = next(self._index.nearest((x, y, x, y), 1))
        return self._facilities[key]["id"]

    # ---------------------------------------------------------------- read

    def ids(self) -> list[str]:
        return [f["id"] for f in self._facilities.values()]

    def facilities(self) -> gpd.GeoDataFrame:
        """Every hospital in the scenario with ``id, nombre, existente`` (EPSG:4326)."""
        rows = list(self._facilities.values())
        lon, lat = self._to_latlon.transform([f["x"] for f in rows], [f["y"] for f in rows])
        df = pd.DataFrame({"id": [f["id"] for f in rows], "nombre": [f["nombre"] for f in rows],
                           "existente": [f["existente"] for f in rows]})
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=4326)

    def covered_mask(self) -> np.ndarray:
        return (self._existing + self._new) > 0

    def figures(self) -> dict[str, float]:
        """The three numbers (plus the total and counts) for the current scenario."""
        w = self._w
        served = self.covered_mask()
        comp = (self._new > 0) & (self._existing > 0)
        return {
            "total": float(w.sum()),
            "atendida": float(w[served].sum()),
            "en_competencia": float(w[comp].sum()),
            "sin_cobertura": float(w[~served].sum()),
            "hospitales_existentes": int(sum(f["existente"] for f in self._facilities.values())),
            "hospitales_nuevos": int(sum(not f["existente"] for f in self._facilities.values())),
        }

    def scenario(self, nombre: str) -> "Scenario":
        """Freeze the current state as a :class:`Scenario` (positions in EPSG:4326)."""
        fac = self.facilities()
        new = fac[~fac["existente"]]
        return Scenario(
            nombre=nombre,
            servicio_km=self.radius_m / 1000.0,
            agregados=[{"id": r.id, "nombre": r.nombre, "lat": round(r.geometry.y, 6), "lon": round(r.geometry.x, 6)}
                       for r in new.itertuples()],
            retirados=list(self._removed),
            cifras=self.figures(),
        )


@dataclass
class Scenario:
    """A saved what-if: hospitals added/removed, the service radius and its figures."""

    nombre: str
    servicio_km: float
    agregados: list[dict] = field(default_factory=list)
    retirados: list[str] = field(default_factory=list)
    cifras: dict[str, float] = field(default_factory=dict)

    def apply(self, whatif: WhatIf) -> WhatIf:
        """Replay this scenario on a fresh :class:`WhatIf` (same demand and hospitals)."""
        for ident in self.retirados:
            whatif.remove(ident)
        for a in self.agregados:
            whatif.add(float(a["lat"]), float(a["lon"]), ident=a.get("id"), nombre=a.get("nombre", ""))
        return whatif


def scenarios_to_json(scenarios: list[Scenario]) -> str:
    """Scenarios as a JSON document (``{"version": 1, "escenarios": [...]}``)."""
    return json.dumps({"version": 1, "escenarios": [asdict(s) for s in scenarios]}, ensure_ascii=False, indent=2)


def scenarios_from_json(text: str) -> list[Scenario]:
    """Read scenarios saved by :func:`scenarios_to_json`; every problem is reported together."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"scenarios file is not valid JSON ({exc}).") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("escenarios"), list):
        raise DataError('scenarios file is expected to be {"version": 1, "escenarios": [...]}.')
    out, problems = [], []
    for i, s in enumerate(doc["escenarios"], start=1):
        if not isinstance(s, dict) or not isinstance(s.get("nombre"), str):
            problems.append(f"escenario {i}: falta 'nombre'")
            continue
        try:
            km = float(s.get("servicio_km"))
            if not (km > 0 and np.isfinite(km)):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"escenario {i} ({s['nombre']}): servicio_km {s.get('servicio_km')!r} no es un número > 0")
            continue
        added, removed, figures = s.get("agregados", []), s.get("retirados", []), s.get("cifras") or {}
        # a hand-edited file may hold anything: every shape problem is reported, never raised raw
        if not isinstance(added, list) or not isinstance(removed, list) or not isinstance(figures, dict):
            problems.append(f"escenario {i} ({s['nombre']}): 'agregados' y 'retirados' deben ser listas y 'cifras' un objeto")
            continue
        bad = [a for a in added if not (isinstance(a, dict) and _is_latlon(a.get("lat"), a.get("lon")))]
        if bad:
            problems.append(f"escenario {i} ({s['nombre']}): {len(bad)} hospital(es) sin lat/lon válidos")
            continue
        try:
            cifras = {str(k): float(v) for k, v in figures.items()}
        except (TypeError, ValueError):
            problems.append(f"escenario {i} ({s['nombre']}): 'cifras' debe tener solo números")
            continue
        out.append(Scenario(s["nombre"], km, list(added), [str(r) for r in removed], cifras))
    if problems:
        raise DataError("scenarios file: " + "; ".join(problems) + ".")
    return out


def _is_latlon(lat, lon) -> bool:
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    return -90 <= lat <= 90 and -180 <= lon <= 180


def compare_scenarios(scenarios: list[Scenario]) -> pd.DataFrame:
    """Side by side: one row per scenario with the three numbers and their share of the total."""
    rows = []
    for s in scenarios:
        c = s.cifras
        total = c.get("total") or sum(c.get(k, 0.0) for k in ("atendida", "sin_cobertura")) or 1.0
        rows.append({
            "escenario": s.nombre, "servicio_km": s.servicio_km,
            "nuevos": len(s.agregados), "retirados": len(s.retirados),
            **{k: c.get(k, float("nan")) for k in _FIGURES},
            **{f"{k}_pct": 100.0 * c.get(k, float("nan")) / total for k in _FIGURES},
        })
    return pd.DataFrame(rows)
