"""``atlas export``: a view (or all of them) as PNG, a PDF report, a PowerPoint deck, a self-contained
HTML map, a GeoPackage or a ZIP of CSV/GeoJSON with the quarantine and a metadata sheet.

The filters are the app's (layers, SCIAN classes, sector, municipio, name). ``png`` and ``html`` write
one file per view (with ``--view todo``, ``--out FILE.png`` becomes ``FILE_<view>.png``); the other formats
write one file with every view. Progress goes to stderr; ``--quiet`` silences it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .._errors import ConfigError
from ..build import build_region, load_atlas
from ..export.files import FORMATS, export_files
from ..export.png import BASEMAPS, SIZES
from ..export.views import VIEWS
from ..filters import Filters
from ._common import BUILD_DIR_HELP, emit, region_from_args

__all__ = ["register", "run", "filters_from_args"]

SECTORES = ("privado", "público", "sin distinguir")


def register(sub) -> None:
    p = sub.add_parser("export", help="export a view as PNG, PDF, PowerPoint, HTML, GeoPackage or CSV", description=__doc__)
    p.add_argument("--region", default="leon", help="region id (config/<region>.toml); default leon")
    p.add_argument("--data-dir", type=Path, default=None, help="data directory (default $ATLAS_DATA_DIR or ../shared/data)")
    p.add_argument("--build-dir", type=Path, default=None, help=BUILD_DIR_HELP)
    p.add_argument("--denue", type=Path, action="append", default=None, metavar="PATH",
                   help="DENUE CSV/ZIP replacing the region's configured files (repeatable), as in atlas build")
    p.add_argument("--view", default="hospitales", choices=[*VIEWS, "todo"], help="view to export (default hospitales)")
    p.add_argument("--format", default="pdf", choices=list(FORMATS), help="file format (default pdf)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="output file (default atlas_<region>_<view>_<date>.<ext> in the current directory)")
    p.add_argument("--size", default="presentacion", choices=[s for s in SIZES if s != "diapositiva"],
                   help="PNG size: presentacion (1920×1080) or impresion (carta at 300 dpi)")
    p.add_argument("--basemap", default="auto", choices=BASEMAPS,
                   help="auto: web tiles when reachable, else the project's own layers; propio: never go online")
    p.add_argument("--capa", action="append", default=None, metavar="ID", help="visible layer (repeatable; default the layers' own)")
    p.add_argument("--clase", action="append", default=None, metavar="SCIAN", help="SCIAN code or prefix to keep (repeatable)")
    p.add_argument("--sector", action="append", default=None, choices=SECTORES, help="sector to keep (repeatable)")
    p.add_argument("--municipio", action="append", default=None, metavar="CVEGEO", help="five-digit municipio to keep (repeatable)")
    p.add_argument("--nombre", default="", help="keep establishments whose name contains this text")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def filters_from_args(args) -> Filters:
    for c in args.clase or ():
        if not c.isdigit():
            raise ConfigError(f'--clase was "{c}" but is expected to be a SCIAN code or prefix (digits, e.g. 622 or 621211).')
    for m in args.municipio or ():
        if len(m) != 5 or not m.isdigit():
            raise ConfigError(f'--municipio was "{m}" but is expected to be a five-digit CVEGEO (e.g. 11020).')
    return Filters(tuple(args.capa or ()), tuple(args.clase or ()), tuple(args.sector or ()), tuple(args.municipio or ()),
                   args.nombre or "")


def _progress(quiet: bool):
    if quiet:
        return None
    last = {"msg": None}

    def show(frac: float, msg: str) -> None:
        if msg != last["msg"]:
            print(f"[{100 * frac:5.1f} %] {msg}", file=sys.stderr, flush=True)
            last["msg"] = msg

    return show


def _paths(out: Path | None, files) -> list[Path]:
    if out is None:
        return [Path(f.name) for f in files]
    if len(files) == 1:
        return [out]
    # one file per view (png/html of every view): FILE_<view>.<ext> beside --out
    return [out.with_name(f"{out.stem}_{f.view}{out.suffix or Path(f.name).suffix}") for f in files]


def run(args) -> int:
    t0 = time.perf_counter()
    region = region_from_args(args)
    filters = filters_from_args(args)
    progress = _progress(args.quiet or args.json)
    if progress:
        progress(0.0, f"Cargando las capas de {region.nombre}…")
    atlas = build_region(region, denue_paths=args.denue) if args.denue else load_atlas(region, args.build_dir)
    files, timing = export_files(atlas, filters, [args.view], args.format, size=args.size, basemap=args.basemap,
                                 progress=progress)
    written = []
    for f, path in zip(files, _paths(args.out, files)):
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
        written.append({"archivo": str(path), "bytes": len(f.data)})
    total = round(time.perf_counter() - t0, 2)
    summary = {"region": region.id, "vista": args.view, "formato": args.format, "archivos": written,
               "segundos": {**timing, "total_s": total}}
    text = "\n".join(f"escrito {w['archivo']} ({w['bytes'] / 1e6:,.2f} MB)" for w in written)
    emit(summary, args.json, f"{text}\n{total} s (vistas {timing['vistas_s']} s, archivos {timing['archivos_s']} s)")
    return 0
