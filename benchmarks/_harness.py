"""Timing helpers shared by the benchmarks: wall time, peak memory, ratios and growth exponents.

Every benchmark runs a baseline in the same process and reports ratios against it, so numbers from
different machines compare.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Measure", "measure", "growth_exponent", "report"]


@dataclass
class Measure:
    label: str
    size: float
    seconds: float
    peak_mb: float


def measure(label: str, size: float, fn: Callable[[], object], *, repeat: int = 1) -> Measure:
    """Best wall time of ``repeat`` runs and the peak of Python-tracked memory of one run."""
    gc.collect()
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measure(label, size, best, peak / 2**20)


def growth_exponent(rows: list[Measure]) -> float:
    """Slope of log(time) against log(size): 1 is linear, 2 quadratic."""
    if len(rows) < 2:
        return float("nan")
    x = np.log([r.size for r in rows])
    y = np.log([max(r.seconds, 1e-6) for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def report(title: str, rows: list[Measure]) -> str:
    """A table with time, memory and the ratio to the first (baseline) row."""
    base = rows[0].seconds or 1e-9
    lines = [f"## {title}", f"{'step':<40} {'size':>10} {'seconds':>9} {'ratio':>7} {'peak MB':>8}"]
    for r in rows:
        lines.append(f"{r.label:<40} {r.size:>10g} {r.seconds:>9.3f} {r.seconds / base:>7.2f} {r.peak_mb:>8.1f}")
    lines.append(f"growth exponent (time ~ size^k): k = {growth_exponent(rows):.2f}")
    return "\n".join(lines)
