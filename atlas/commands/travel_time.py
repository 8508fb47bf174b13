"""``atlas travel-time``: minutes and road km from the region's origin (default its hospitals: the
fastest one) to each point given with ``--to LAT,LON``, with the snapping distances to the network."""

from __future__ import annotations

import numpy as np

from .._errors import ConfigError
from ._common import add_region_args, emit, region_from_args
from .catchment import add_origin_args, network_from_args, origins_from_args

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("travel-time", help="road minutes and km from the region's origin to given points",
                       description=__doc__)
    add_region_args(p)
    add_origin_args(p)
    p.add_argument("--to", action="append", required=True, metavar="LAT,LON",
                   help="destination in decimal degrees, latitude first (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..catchment import parse_latlon, reach_from_origins, times_to_points

    region = region_from_args(args)
    points = []
    for text in args.to:
        try:
            points.append(parse_latlon(text))
        except ConfigError as exc:
            raise ConfigError(f"--to {exc}") from None
    origin, origins = origins_from_args(region, args)
    net = network_from_args(region, args)
    c = region.catchment
    reach = reach_from_origins(net, origins, access_speed_kmh=c.access_speed_kmh, circuity=c.circuity, access_nodes=c.access_nodes)
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    t = times_to_points(reach, lon, lat)
    o = reach.origins
    rows = []
    for (la, lo), r in zip(points, t.itertuples(index=False)):
        src = o.iloc[int(r.origen)] if r.origen >= 0 else None
        rows.append({
            "lat": la, "lon": lo,
            "minutos": None if not np.isfinite(r.minutos) else round(float(r.minutos), 1),
            "km": None if not np.isfinite(r.km) else round(float(r.km), 1),
            "destino_a_red_m": round(float(r.acceso_m)),
            "directo_sin_red": bool(r.nodo < 0),
            "origen": None if src is None else src["nombre"],
            "origen_a_red_m": None if src is None else float(src["snap_m"]),
        })
    report = {"origen": origin, "red": net.info, "velocidad_acceso_kmh": c.access_speed_kmh, "circuidad": c.circuity,
              "destinos": rows}
    text = [f"Desde {origin} ({len(o)} punto(s)); red {net.info.get('fuente', '')} con {net.info.get('nodos', 0):,} nodos.",
            f"{'destino':>22} {'minutos':>8} {'km':>8} {'destino→red m':>14}  origen (origen→red m)"]
    for r in rows:
        mins = "—" if r["minutos"] is None else f"{r['minutos']:.0f}"
        km = "—" if r["km"] is None else f"{r['km']:.1f}"
        text.append(f"{r['lat']:>10.5f},{r['lon']:>11.5f} {mins:>8} {km:>8} {r['destino_a_red_m']:>14,}  "
                    f"{r['origen']} ({r['origen_a_red_m']:,.0f} m)")
    text.append(f"Tramos fuera de la red: línea recta × {c.circuity:g} a {c.access_speed_kmh:g} km/h.")
    emit(report, args.json, "\n".join(text))
    return 0
