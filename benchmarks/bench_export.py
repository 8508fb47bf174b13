"""Exports of León: building each view once, then every format; and PNG time against the number of
points drawn (1×, 2×, 4× the auxiliary units) for the growth exponent.

Views are built once and timed with a plain clock (the site screening alone is ~20 s, and
``measure`` runs a function twice); the renderers are measured with the harness. The offline
basemap is used throughout, so the numbers do not depend on a tile server.
"""

from __future__ import annotations

import os
import time

import pandas as pd

from atlas.build import load_atlas
from atlas.export.data import data_zip_bytes, gpkg_bytes
from atlas.export.html import html_document
from atlas.export.pdf import report_pdf
from atlas.export.png import png_bytes
from atlas.export.pptx import slides_pptx
from atlas.export.views import VIEWS, views_from_atlas
from atlas.filters import Filters
from atlas.settings import load_region

from ._harness import measure, report


def _once(label: str, fn) -> tuple[str, float, float]:
    """Wall time of one run and the size of what it returns (MB); exports are too slow to repeat."""
    t = time.perf_counter()
    out = fn()
    data = out.data if hasattr(out, "data") else out
    return label, time.perf_counter() - t, len(data) / 1e6


def _table(title: str, rows) -> str:
    lines = [f"## {title}", f"{'step':<44} {'seconds':>8} {'MB':>7}"]
    lines += [f"{label:<44} {sec:>8.2f} {mb:>7.2f}" for label, sec, mb in rows]
    return "\n".join(lines)


def main() -> str:
    load = os.getloadavg()[0]
    region = load_region("leon")
    atlas = load_atlas(region)
    views = {}
    built = []
    for name in VIEWS:
        t = time.perf_counter()
        views[name] = views_from_atlas(atlas, Filters(), [name])[0]
        built.append((f"build view {name}", time.perf_counter() - t, float("nan")))
    hosp, every = views["hospitales"], list(views.values())
    f = Filters()
    rows = [
        _once("PNG presentación hospitales", lambda: png_bytes(hosp, basemap="propio")),
        _once("PNG impresión 300 dpi hospitales", lambda: png_bytes(hosp, size="impresion", basemap="propio")),
        _once("PNG presentación influencia", lambda: png_bytes(views["influencia"], basemap="propio")),
        _once("HTML hospitales", lambda: html_document(hosp).encode()),
        _once("PDF hospitales", lambda: report_pdf([hosp], atlas, f, basemap="propio")),
        _once("PDF todas las vistas", lambda: report_pdf(every, atlas, f, basemap="propio")),
        _once("PowerPoint todas las vistas", lambda: slides_pptx(every, atlas, f, basemap="propio")),
        _once("GeoPackage todas las vistas", lambda: gpkg_bytes(atlas, f, every)),
        _once("CSV + GeoJSON ZIP todas las vistas", lambda: data_zip_bytes(atlas, f, every)),
    ]
    aux = atlas.layers["unidades_auxiliares"]
    growth = []
    for k in (1, 2, 4):
        layers = dict(atlas.layers, unidades_auxiliares=pd.concat([aux] * k, ignore_index=True))
        big = type(atlas)(atlas.region, layers, atlas.quarantine, atlas.summary, atlas.specs)
        v = views_from_atlas(big, Filters(), ["hospitales"])[0]
        n = sum(len(lyr.data) for lyr in v.layers if lyr.kind == "puntos")
        growth.append(measure(f"PNG presentación, {n:,} points", k, lambda v=v: png_bytes(v, basemap="propio")))
    head = f"load average at start {load:.1f} on {os.cpu_count()} cores"
    return "\n\n".join([
        _table(f"export: building the views ({head})", built),
        _table("export: each format, one run, offline basemap", rows),
        report("export: PNG time against points drawn", growth),
    ])
