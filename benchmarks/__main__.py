"""Run the benchmarks: ``python -m benchmarks`` (all) or ``python -m benchmarks build density …``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = argv or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; expected some of {', '.join(names)}", file=sys.stderr)
        return 2
    for name in wanted:
        print(importlib.import_module(f"benchmarks.bench_{name}").main(), flush=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
