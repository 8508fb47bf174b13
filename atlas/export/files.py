"""One entry point for the CLI and the app: views + format → named files (bytes), with progress."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError
from ..build import Atlas
from ..filters import Filters
from .basemap import TILES_URL
from .data import data_zip_bytes, gpkg_bytes
from .views import MapView, Progress, views_from_atlas

__all__ = ["FORMATS", "ExportFile", "export_files", "render_files", "sub_progress"]

#: format → (extension, MIME type)
FORMATS = {
    "png": ("png", "image/png"),
    "pdf": ("pdf", "application/pdf"),
    "pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "html": ("html", "text/html"),
    "gpkg": ("gpkg", "application/geopackage+sqlite3"),
    "csv": ("zip", "application/zip"),
}


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes
    mime: str
    #: the view it shows, when the format writes one file per view
    view: str = ""


def sub_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A callback that maps 0–1 onto ``start``–``end`` of ``progress``."""
    if progress is None:
        return None
    return lambda f, msg: progress(start + (end - start) * max(0.0, min(1.0, f)), msg)


def _stem(atlas: Atlas, names) -> str:
    what = "todo" if len(names) > 1 else names[0]
    return f"atlas_{atlas.region.id}_{what}_{dt.date.today():%Y%m%d}"


def render_files(
    views: list[MapView],
    atlas: Atlas,
    filters: Filters,
    fmt: str,
    *,
    size: str = "presentacion",
    basemap: str = "auto",
    tiles_url: str = TILES_URL,
    progress: Progress | None = None,
) -> list[ExportFile]:
    """Render already-built views: one file, or one per view for ``png`` and ``html``."""
    if fmt not in FORMATS:
        raise ConfigError(f'format was "{fmt}" but is expected to be one of {", ".join(FORMATS)}.')
    ext, mime = FORMATS[fmt]
    stem = _stem(atlas, [v.id for v in views] or ["datos"])
    if fmt == "png":
        from .png import png_bytes

        out = []
        for i, v in enumerate(views):
            if progress:
                progress(i / len(views), f"PNG: «{v.title}»…")
            out.append(ExportFile(f"atlas_{atlas.region.id}_{v.id}_{size}.png",
                                  png_bytes(v, size=size, basemap=basemap, tiles_url=tiles_url), mime, v.id))
    elif fmt == "html":
        from .html import html_document

        out = [ExportFile(f"atlas_{atlas.region.id}_{v.id}.html", html_document(v).encode("utf-8"), mime, v.id) for v in views]
    elif fmt == "pdf":
        from .pdf import report_pdf

        out = [ExportFile(f"{stem}.pdf", report_pdf(views, atlas, filters, basemap=basemap, tiles_url=tiles_url,
                                                    progress=progress).data, mime)]
    elif fmt == "pptx":
        from .pptx import slides_pptx

        out = [ExportFile(f"{stem}.pptx", slides_pptx(views, atlas, filters, basemap=basemap, tiles_url=tiles_url,
                                                      progress=progress), mime)]
    elif fmt == "gpkg":
        out = [ExportFile(f"{stem}.gpkg", gpkg_bytes(atlas, filters, views, progress=progress), mime)]
    else:
        out = [ExportFile(f"{stem}_datos.zip", data_zip_bytes(atlas, filters, views, progress=progress), mime)]
    if progress:
        progress(1.0, "Exportación lista.")
    return out


def export_files(
    atlas: Atlas,
    filters: Filters,
    names,
    fmt: str,
    *,
    size: str = "presentacion",
    basemap: str = "auto",
    results: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> tuple[list[ExportFile], dict[str, float]]:
    """Build the named views (``"todo"`` = all) and render them; returns the files and the seconds
    spent building and rendering."""
    if fmt not in FORMATS:
        raise ConfigError(f'format was "{fmt}" but is expected to be one of {", ".join(FORMATS)}.')
    t0 = time.perf_counter()
    views = views_from_atlas(atlas, filters, names, results=results, progress=sub_progress(progress, 0.0, 0.45))
    t1 = time.perf_counter()
    files = render_files(views, atlas, filters, fmt, size=size, basemap=basemap, progress=sub_progress(progress, 0.45, 1.0))
    t2 = time.perf_counter()
    return files, {"vistas_s": round(t1 - t0, 2), "archivos_s": round(t2 - t1, 2)}
