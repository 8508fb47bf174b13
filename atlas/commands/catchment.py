"""``atlas catchment``: the road travel bands around the region's origin (default its hospitals) and
the census population inside them — total, by state, top municipios, metropolitan vs regional and
the "mercado potencial" (municipios of very low / low marginalisation) — next to the straight-line
circle, and how the road network was built."""

from __future__ import annotations

from .._errors import ConfigError
from ._common import add_region_args, emit, region_from_args

__all__ = ["register", "run", "parse_minutes", "format_catchment"]


def parse_minutes(text: str) -> tuple[int, ...]:
    """``"60,120,180"`` → ``(60, 120, 180)``; raises naming the value and the format."""
    try:
        values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise ConfigError(f'--minutes was "{text}" but is expected to be whole minutes separated by commas, e.g. 60,120,180.') from None
    if not values or values[0] <= 0:
        raise ConfigError(f'--minutes was "{text}" but is expected to hold positive minutes, e.g. 60,120,180.')
    return values


def add_origin_args(p) -> None:
    p.add_argument("--origin", default=None,
                   help='"hospitales" (the region\'s hospitals), "centro" or "LAT,LON" (default from config)')
    p.add_argument("--osm-xml", default=None, metavar="PATH",
                   help="route on an OpenStreetMap .osm extract instead of the configured Natural Earth roads")


def register(sub) -> None:
    p = sub.add_parser("catchment", help="road travel bands (60/120/180 min) and the population inside them",
                       description=__doc__)
    add_region_args(p)
    add_origin_args(p)
    p.add_argument("--minutes", default=None, help="band thresholds, e.g. 60,120,180 (default from config)")
    p.add_argument("--radius-km", type=float, default=None, help="straight-line radius in km (default from config, 300)")
    p.add_argument("--top", type=int, default=10, help="municipios listed per band (default 10)")
    p.set_defaults(func=run)


def network_from_args(region, args):
    """The configured (cached) line network, or an OSM extract given with ``--osm-xml``."""
    from ..network import network_for_region, network_from_osm

    if args.osm_xml:
        c = region.catchment
        return network_from_osm(xml=args.osm_xml, speeds_kmh=c.osm_speeds_kmh, crs_metric=region.crs_metric)
    return network_for_region(region)


def origins_from_args(region, args):
    from ..catchment import origins_for_region

    origin = args.origin or region.catchment.origin
    atlas = None
    if origin.strip() == "hospitales":
        from ..build import build_region, load_atlas

        atlas = build_region(region, denue_paths=args.denue) if getattr(args, "denue", None) else load_atlas(region, args.out)
    return origin, origins_for_region(region, origin, atlas=atlas)


def run(args) -> int:
    from ..catchment import catchment_for_region

    region = region_from_args(args)
    if args.radius_km is not None and not args.radius_km > 0:
        raise ConfigError(f"--radius-km was {args.radius_km} but is expected to be > 0.")
    if args.top < 1:
        raise ConfigError(f"--top was {args.top} but is expected to be >= 1.")
    minutes = parse_minutes(args.minutes) if args.minutes is not None else None
    origin, origins = origins_from_args(region, args)
    result = catchment_for_region(region, origin=origin, origins=origins, minutes=minutes, radius_km=args.radius_km,
                                  network=network_from_args(region, args))
    report = result.to_dict(top=args.top)
    emit(report, args.json, format_catchment(region, report))
    return 0


def format_catchment(region, r: dict) -> str:
    """Plain-text report of :meth:`CatchmentResult.to_dict`."""
    p, net, rec = r["parametros"], r["red"], r["conciliacion"]
    lines = [
        f"Área de influencia por carretera — {region.nombre}",
        f"Origen: {p.get('origen', '')} ({p['origenes']} punto(s) distinto(s))",
        f"Red: {net.get('fuente', '')}, {net.get('nodos', 0):,} nodos, {net.get('aristas', 0):,} aristas, "
        f"{net.get('km_lineas', 0):,.0f} km; {net.get('componentes', 0)} componente(s) "
        f"(la mayor con {net.get('componente_mayor_pct_km', 0)} % de los km); "
        f"{net.get('conectores', 0)} conectores y {net.get('puentes', 0)} puentes añadidos",
        f"Acceso fuera de la red: {p['velocidad_acceso_kmh']:g} km/h, circuidad {p['circuidad']:g}",
        f"Población metropolitana (grupo 1): {r['poblacion_metropolitana']:,}",
        "",
        f"{'banda':>8} {'población':>12} {'metrop.':>11} {'regional':>12} {'mercado pot.':>13} {'municipios':>10}",
    ]
    for b in r["bandas"]:
        lines.append(f"{b['minutos']:>5} min {b['poblacion']:>12,} {b['metropolitana']:>11,} {b['regional']:>12,} "
                     f"{b['mercado_potencial']:>13,} {b['municipios']:>10,}")
    c = r["circulo"]
    lines.append(f"{c['radio_km']:>5g} km {c['poblacion']:>12,}  (círculo geodésico en línea recta)")
    for d in r["discrepancias"]:
        lines.append(f"  {d['descripcion']}: {d['poblacion']:,} hab.")
    last = r["bandas"][-1]
    lines += ["", f"Por estado, hasta {last['minutos']} min:"]
    lines += [f"  {s['estado']:<32} {s['poblacion']:>12,}" for s in last["por_estado"]]
    lines += ["", f"Municipios principales, hasta {last['minutos']} min:"]
    lines += [f"  {m['cvegeo']} {m['municipio'][:28]:<28} {m['estado'][:20]:<20} {m['marginacion']:<9} {m['poblacion']:>11,}"
              for m in last["municipios_principales"]]
    lines += ["", f"Conciliación con las localidades (ITER 2020): total {rec['total']:,} = "
              + " + ".join(f"{k} {v:,}" for k, v in rec.items() if k != "total")]
    lines += [f"Aviso: {n}" for n in r["avisos"]]
    lines.append("Mercado potencial: población de municipios con grado de marginación "
                 + " o ".join(p["mercado_grados"]) + " (CONAPO 2020), aproximación a la capacidad de pago.")
    return "\n".join(lines)
