"""``atlas sites``: rank candidate sites for a new hospital and place the optimal k (MCLP)."""

from __future__ import annotations

from pathlib import Path

from .._errors import DataError
from ..geo import municipalities_from_gpkg, region_polygon
from ..sites import parse_weights
from ._common import add_region_args, emit, region_from_args

__all__ = ["register", "run", "format_result"]


def register(sub) -> None:
    p = sub.add_parser("sites", help="screen candidate sites for new hospitals and place the optimal k",
                       description=__doc__)
    add_region_args(p, denue=False)
    p.add_argument("--k", type=int, default=None, help="new hospitals to place (default: config sites.k)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--service-km", type=float, default=None, help="service standard in km (straight line)")
    g.add_argument("--service-min", type=float, default=None,
                   help="service standard in minutes (converted to km with the catchment's access model)")
    p.add_argument("--candidates", type=Path, default=None, metavar="FILE",
                   help="CSV (lat, lon[, nombre]) or GeoJSON of points added to the H3 grid")
    p.add_argument("--only-file", action="store_true", help="screen only the --candidates, not the H3 grid")
    p.add_argument("--weights", default="", metavar="NAME=W,…",
                   help="override weights, e.g. demanda_local=2,competencia_privada=0")
    p.add_argument("--normalisation", choices=("minmax", "rango"), default=None)
    p.add_argument("--objective", choices=("mclp", "pmedian", "ambos"), default="mclp",
                   help="optimisation objective (default mclp)")
    p.add_argument("--time-limit", type=float, default=None, help="solver time limit in seconds")
    p.add_argument("--top", type=int, default=15, help="sites listed in the ranking (default 15)")
    p.add_argument("--no-reach", action="store_true", help="skip the regional-reach criteria (road times)")
    p.add_argument("--csv", type=Path, default=None, help="write the full ranking to this CSV")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..build import load_atlas
    from ..siting import siting_for_region
    from ..uploads import candidates_from_upload

    region = region_from_args(args)
    atlas = load_atlas(region, args.out)
    extra = None
    upload_report = None
    if args.candidates is not None:
        path = Path(args.candidates)
        if not path.is_file():
            raise DataError(f"{path}: candidates file not found.")
        munis = municipalities_from_gpkg(region.path(region.files.municipios))
        up = candidates_from_upload(
            path.read_bytes(), path.name, region_polygon=region_polygon(munis, region.municipios),
            max_rows=region.sites.max_upload_rows, max_bytes=int(region.sites.max_upload_mb * 2**20),
        )
        upload_report = {"aceptados": len(up.candidates), "rechazados": [{"linea": n, "motivo": m} for n, m in up.problems]}
        if up.candidates.empty:
            raise DataError(f"{path}: no valid candidate site.\n{up.report}")
        extra = up.candidates
    only = args.only_file and extra is not None
    result = siting_for_region(
        region, atlas,
        candidates=extra if only else None, extra_candidates=None if only else extra,
        weights=parse_weights(args.weights), normalisation=args.normalisation, k=args.k,
        service_km=args.service_km, service_min=args.service_min, objective=args.objective,
        with_reach=not args.no_reach, time_limit=args.time_limit,
    )
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        result.screening.ranking().to_csv(args.csv, index=False)
    out = result.to_dict(top=args.top)
    if upload_report is not None:
        out["archivo"] = upload_report
    emit(out, args.json, format_result(out))
    return 0


def _fmt(v: float) -> str:
    return f"{v:,.0f}"


def format_result(d: dict) -> str:
    dem = d["demanda"]
    lines = [
        f"Demanda: {dem['descripcion']}",
        f"  total {_fmt(dem['total'])} en {dem['puntos']:,} puntos",
        f"Candidatos: {d['candidatos']['n']:,} ({d['candidatos']['area']})",
        f"Servicio: {d['servicio']['nota']}",
        "Criterios (peso):",
    ]
    for n, c in d["criterios"]["usados"].items():
        lines.append(f"  {n:<24} {c['peso']:>5g}  {c['nombre']} ({c['sentido']})")
    for n in d["criterios"]["peso_cero"]:
        lines.append(f"  {n:<24}     0  (peso cero: no cuenta)")
    for n, why in d["criterios"]["ausentes"].items():
        lines.append(f"  {n:<24}     –  ausente: {why}")
    lines.append(f"Ranking (normalización {d['criterios']['normalizacion']}; empates comparten rango):")
    used = list(d["criterios"]["usados"])
    for r in d["ranking"]:
        parts = ", ".join(f"{n} {r[f'aporte_{n}']:.1f}" for n in used if r.get(f"aporte_{n}", 0) >= 0.05)
        label = f" {r['etiqueta']}" if r.get("etiqueta") else ""
        lines.append(f"  {r['rango']:>3}. {r['sitio']}{label} ({r['lat']:.5f}, {r['lon']:.5f})  "
                     f"puntaje {r['puntaje']:.1f}  [{parts}]")
    if "optimo" in d:
        o = d["optimo"]
        tot = o["demand_total"] or 1.0
        lines += [
            f"Óptimo MCLP, k = {o['k']} ({o['status']}; {o['solver']}; {o['seconds']:.1f} s):",
            f"  cubierta antes {_fmt(o['covered_before'])} ({100 * o['covered_before'] / tot:.1f} %) → "
            f"después {_fmt(o['covered_after'])} ({100 * o['covered_after'] / tot:.1f} %)",
            f"  voraz {_fmt(o['greedy_covered'])}; cota superior {_fmt(o['upper_bound'])}; brecha {100 * o['gap']:.2f} %",
        ]
        for s in o["sitios"]:
            lines.append(f"  {s['orden']}. {s['sitio']} ({s['lat']:.5f}, {s['lon']:.5f}) +{_fmt(s['ganancia'])}")
    if "p_mediana" in d:
        p = d["p_mediana"]
        lines.append(
            f"p-mediana, k = {p['k']} ({p['status']}): distancia media {p['mean_cost_before']:.2f} → "
            f"{p['mean_cost_after']:.2f} km (voraz {p['greedy_mean_cost']:.2f}; brecha {100 * p['gap']:.2f} %): "
            + ", ".join(p["sitios"])
        )
    if "archivo" in d:
        a = d["archivo"]
        lines.append(f"Archivo: {a['aceptados']} aceptados, {len(a['rechazados'])} rechazados")
        lines += [f"  línea {r['linea']}: {r['motivo']}" for r in a["rechazados"][:20]]
    for n in d["avisos"]:
        lines.append(f"Aviso: {n}")
    return "\n".join(lines)

