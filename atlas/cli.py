"""``atlas`` command line. Each subcommand lives in ``atlas/commands/<name>.py`` and exposes
``register(subparsers)`` (adds its parser and sets ``func``)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ._errors import AtlasError

__all__ = ["main", "COMMANDS"]

#: subcommand modules in ``atlas.commands``, in the order ``atlas --help`` lists them
COMMANDS = ["build", "download", "density", "catchment", "travel_time", "sites", "export"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atlas", description="Atlas de servicios de salud (León, La Laguna).")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"atlas.commands.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except AtlasError as exc:
        print(f"atlas {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
