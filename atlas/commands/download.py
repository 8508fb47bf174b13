"""``atlas download``: fetch INEGI's bulk DENUE files for the region's states (cached, resumable)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..download import default_download_dir, denue_sources, download_file
from ._common import emit, region_from_args

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("download", help="download the official DENUE bulk files", description=__doc__)
    p.add_argument("--region", default="leon")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--dest", type=Path, default=None, help=f"folder for the files (default {default_download_dir()})")
    p.add_argument("--url", default=None, help="URL pattern with {cve_ent} (default: the region's [download] denue_url)")
    p.add_argument("--sha256", default=None, help="expected checksum (one state only)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    region = region_from_args(args)
    results = []
    for url, dest in denue_sources(region, args.dest, args.url):
        def _progress(done, total, _name=dest.name):
            if not args.json:
                tot = f"/{total:,}" if total else ""
                sys.stderr.write(f"\r{_name}: {done:,}{tot} bytes")
        got = download_file(url, dest, sha256=args.sha256, progress=_progress)
        if not args.json:
            sys.stderr.write("\n")
        results.append({"url": got.url, "archivo": str(got.path), "bytes": got.bytes, "sha256": got.sha256,
                        "en_cache": got.cached, "reanudado_desde": got.resumed_from})
    text = "\n".join(
        f"{r['archivo']} ({r['bytes']:,} bytes, sha256 {r['sha256'][:12]}…{' , ya estaba' if r['en_cache'] else ''})" for r in results
    )
    text += "\nConstruya con: atlas build --region " + region.id + " " + " ".join(f"--denue {r['archivo']}" for r in results)
    emit(results, args.json, text)
    return 0
