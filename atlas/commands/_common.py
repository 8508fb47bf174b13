"""Arguments and output shared by the subcommands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..settings import load_region

__all__ = ["add_region_args", "region_from_args", "emit", "BUILD_DIR_HELP"]

#: the build directory is resolved by atlas.build.default_out_dir() when the option is not given
BUILD_DIR_HELP = "build directory (default $ATLAS_BUILD_DIR or data/build)"


def add_region_args(p, *, denue: bool = True) -> None:
    p.add_argument("--region", default="leon", help="region id (config/<region>.toml); default leon")
    p.add_argument("--data-dir", type=Path, default=None, help="data directory (default $ATLAS_DATA_DIR or ../shared/data)")
    p.add_argument("--out", type=Path, default=None, help=BUILD_DIR_HELP)
    if denue:
        p.add_argument("--denue", type=Path, action="append", default=None, metavar="PATH",
                       help="DENUE CSV/ZIP replacing the region's configured files (repeatable)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def region_from_args(args):
    return load_region(args.region, data_dir=args.data_dir)


def emit(obj: Any, as_json: bool, text: str) -> None:
    if as_json:
        json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
