"""``atlas build``: DENUE → atlas.gpkg, quarantine.csv and summary.json for a region."""

from __future__ import annotations

import time

from ..build import build_region, default_out_dir, is_current, read_atlas, write_atlas
from ._common import add_region_args, emit, region_from_args

__all__ = ["register", "run", "format_summary"]


def register(sub) -> None:
    p = sub.add_parser("build", help="build a region's layers from DENUE", description=__doc__)
    add_region_args(p)
    p.add_argument("--if-stale", action="store_true", help="only rebuild when inputs, config or code changed")
    p.set_defaults(func=run)


def run(args) -> int:
    region = region_from_args(args)
    out = args.out or default_out_dir()
    t0 = time.perf_counter()
    if args.if_stale and not args.denue and is_current(region, out):
        atlas = read_atlas(region, out)
        summary = dict(atlas.summary, reutilizado=True)
    else:
        atlas = build_region(region, denue_paths=args.denue)
        path = write_atlas(atlas, out)
        summary = dict(atlas.summary, salida=str(path), segundos=round(time.perf_counter() - t0, 2))
    emit(summary, args.json, format_summary(summary))
    return 0


def format_summary(s: dict) -> str:
    f = s["filas"]
    lines = [
        f"{s['nombre']} ({s['region']}) — {s.get('fuente', '')}",
    ]
    if s.get("municipios"):
        muns = ", ".join(f"{m['nombre'] or m['cvegeo']}{'*' if m['metropolitano'] else ''}" for m in s["municipios"])
        lines.append(f"municipios ({len(s['municipios'])}; * = zona metropolitana): {muns}")
    lines += [
        f"filas leídas {f['leidas']:,}; aceptadas {f['aceptadas']:,}; en cuarentena {f['en_cuarentena']:,}",
        f"  coordenadas invertidas corregidas {f['coordenadas_invertidas_corregidas']:,}; ubicadas por localidad {f['ubicadas_por_localidad']:,}",
    ]
    for motivo, n in s.get("cuarentena_por_motivo", {}).items():
        lines.append(f"  cuarentena · {motivo}: {n:,}")
    lines.append("capas (establecimientos):")
    for capa, n in s["capas"].items():
        lines.append(f"  {capa}: {n:,}")
    u = s["unidades_salud"]
    lines.append(f"unidades de salud 621–623: {u['621_623']:,}; con 624: {u['621_624']:,}")
    lines.append("hospitales por tipo y sector:")
    for r in s["hospitales_por_tipo_y_sector"]:
        lines.append(f"  {r['tipo']} / {r['sector']}: {r['n']}")
    if s.get("sector_distinguible") is False:
        lines.append("  (las clases del DENUE no distinguen público de privado: subrama SCIAN de 5 dígitos)")
    ch = s["ciudad_historica"]
    lines.append(f"{ch['nombre']} ({'aproximada' if ch['aproximada'] else 'oficial'}, {ch['area_km2']} km²) — dentro:")
    for capa, n in ch["dentro"].items():
        lines.append(f"  {capa}: {n:,}")
    if s.get("cobertura_parcial"):
        lines.append(f"AVISO cobertura parcial: {s['cobertura_parcial']}")
    if "salida" in s:
        lines.append(f"escrito en {s['salida']} ({s['segundos']} s)")
    return "\n".join(lines)
