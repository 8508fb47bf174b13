"""``atlas density``: where health units concentrate — location quotients, rates per 100,000
inhabitants, kernel density, H3 hexagons, DBSCAN/HDBSCAN clusters, Gi* hot spots and the Ciudad
Histórica."""

from __future__ import annotations

import dataclasses

from .._errors import ConfigError
from ..build import build_region, load_atlas
from ..density import BANDWIDTH_RULES
from ..density_report import UNITS_LAYER, density_report, format_report
from ..geo import municipalities_from_gpkg
from ._common import add_region_args, emit, region_from_args

__all__ = ["register", "run"]


def _bandwidth(value: str) -> float | str:
    if value in BANDWIDTH_RULES:
        return value
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f'--bandwidth was "{value}" but is expected to be metres or one of {", ".join(BANDWIDTH_RULES)}.') from None


def register(sub) -> None:
    p = sub.add_parser("density", help="density, clusters, hot spots and location quotients", description=__doc__)
    add_region_args(p)
    p.add_argument("--layer", default=UNITS_LAYER,
                   help=f'atlas layer to analyse, or "{UNITS_LAYER}" (health units 621–623 from all establishments; default)')
    p.add_argument("--clase", default=None, help="keep units whose SCIAN code starts with this (e.g. 621211 or 622)")
    p.add_argument("--bandwidth", default=None, help="KDE bandwidth in metres, or scott / silverman (default from config)")
    p.add_argument("--cell", type=float, default=None, help="KDE cell size in metres (default from config)")
    p.add_argument("--h3", type=int, default=None, help="H3 resolution of hexagons (default from config)")
    p.add_argument("--eps", type=float, default=None, help="DBSCAN radius in metres (default from config)")
    p.add_argument("--min-points", type=int, default=None, help="DBSCAN minimum points (default from config)")
    p.add_argument("--permutations", type=int, default=None, help="Gi* permutations (default from config, 999)")
    p.set_defaults(func=run)


def run(args) -> int:
    region = region_from_args(args)
    changes = {
        "bandwidth_m": None if args.bandwidth is None else _bandwidth(args.bandwidth),
        "cell_m": args.cell,
        "h3_resolution": args.h3,
        "dbscan_eps_m": args.eps,
        "dbscan_min_points": args.min_points,
        "hotspot_permutations": args.permutations,
    }
    params = dataclasses.replace(region.density, **{k: v for k, v in changes.items() if v is not None})
    atlas = build_region(region, denue_paths=args.denue) if args.denue else load_atlas(region, args.out)
    municipios = municipalities_from_gpkg(region.path(region.files.municipios))
    report = density_report(region, atlas.layers, municipios, layer=args.layer, clase=args.clase, params=params)
    emit(report, args.json, format_report(report))
    return 0
