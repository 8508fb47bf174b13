"""``atlas build`` for León, then the DENUE read + validation step on 1×, 2× and 4× the rows.

The 1× full build is the baseline; the growth exponent is fitted over the validation sizes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from atlas.build import build_region, write_atlas
from atlas.denue import establishments_from_denue
from atlas.geo import localities_from_iter, municipalities_from_gpkg, region_polygon
from atlas.settings import load_region

from ._harness import measure, report


def _replicated(src: Path, times: int, out: Path) -> Path:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(0)
    parts = []
    for i in range(times):
        part = df.copy()
        if i:
            # jitter of ~10 m so replicas are distinct rows, not exact duplicates
            lat = pd.to_numeric(part["latitud"]) + rng.normal(0, 1e-4, len(part))
            lon = pd.to_numeric(part["longitud"]) + rng.normal(0, 1e-4, len(part))
            part["latitud"], part["longitud"] = lat.round(6).astype(str), lon.round(6).astype(str)
        parts.append(part)
    pd.concat(parts, ignore_index=True).to_csv(out, index=False)
    return out


def main() -> str:
    region = load_region("leon")
    src = region.denue_paths[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows.append(measure("atlas build León (1×, read+validate+layers+write)", 1, lambda: write_atlas(build_region(region), tmp)))
        munis = municipalities_from_gpkg(region.path(region.files.municipios))
        geom = region_polygon(munis, region.municipios)
        locs = localities_from_iter(region.path(region.files.localidades))
        growth = []
        for k in (1, 2, 4):
            f = _replicated(src, k, tmp / f"denue_{k}x.csv")
            growth.append(measure(
                f"read + validate {k}× ({105_278 * k:,} rows)", k,
                lambda f=f: establishments_from_denue([f], region_geom=geom, municipios=munis, localities=locs,
                                                      region_codes=region.municipios),
            ))
    return report("build (baseline: full León build)", rows + growth[:0]) + "\n\n" + report("DENUE validation growth", growth)
