"""A PDF report with real (searchable) text: a cover, for each view its map page and a page of
figures and tables, and a methods and data-limits page. US Letter landscape (carta).

Fonts are embedded as TrueType (``pdf.fonttype = 42``) so every title, label and table cell can be
found with a PDF reader's search and extracted with ``pdftotext``.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from dataclasses import dataclass, field

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .. import __version__
from ..build import Atlas
from ..filters import Filters
from ..maps.base import ATTRIBUTION
from .basemap import TILES_URL
from .data import metadata
from .png import SIZES, map_figure
from .views import VIEWS, MapView, Progress, describe_filters

__all__ = ["Report", "report_pdf", "MAX_TABLE_ROWS"]

#: rows printed per table; the data export has them all
MAX_TABLE_ROWS = 10
_SIZE = SIZES["impresion"]
_F = 8.5  # body text, points


@dataclass
class Report:
    """The PDF bytes and the title of each page, in order."""

    data: bytes
    pages: list[str] = field(default_factory=list)


class _Pages:
    """Text pages that flow down two columns and open a new page when full.

    ``text`` spans both columns; a ``table`` narrow enough for one column goes into the column with
    the most room, a wide one spans both.
    """

    X = (0.05, 0.52)
    COL_W = 0.43
    TOP, BOTTOM = 0.88, 0.07

    def __init__(self, figs: list[Figure], titles: list[str], heading: str, footer: str):
        self.figs, self.titles, self.heading, self.footer = figs, titles, heading, footer
        self.fig = None
        self._new()

    def _new(self, cont: bool = False) -> None:
        self.flush()
        self.fig = Figure(figsize=(_SIZE.width_in, _SIZE.height_in), dpi=100)
        FigureCanvasAgg(self.fig)
        title = self.heading + (" (continuación)" if cont else "")
        self.fig.text(0.05, 0.95, title, fontsize=_F * 1.7, fontweight="bold", va="top")
        self.fig.text(0.05, 0.025, self.footer, fontsize=_F * 0.75, color="#555555", va="bottom")
        self.fig.text(0.95, 0.025, f"Página {len(self.titles) + 1}", fontsize=_F * 0.75, color="#555555", va="bottom", ha="right")
        self.titles.append(title)
        self.ys = [self.TOP, self.TOP]

    @staticmethod
    def _line_h(pt: float) -> float:
        return pt * 1.45 / 72 / _SIZE.height_in

    @staticmethod
    def _chars(width_frac: float, pt: float) -> int:
        return max(30, int(width_frac * _SIZE.width_in * 72 / (pt * 0.6)))

    def text(self, s: str, *, pt: float = _F, bold: bool = False, color: str = "#1a1a1a", indent: float = 0.0) -> None:
        lines = textwrap.fill(s, self._chars(0.9 - indent, pt)).split("\n") if s else [""]
        for ln in lines:
            y = min(self.ys)
            if y - self._line_h(pt) < self.BOTTOM:
                self._new(cont=True)
                y = self.TOP
            self.fig.text(0.05 + indent, y, ln, fontsize=pt, fontweight="bold" if bold else "normal", color=color, va="top")
            self.ys = [y - self._line_h(pt)] * 2

    def space(self, lines: float = 0.6) -> None:
        self.ys = [min(self.ys) - self._line_h(_F) * lines] * 2

    def table(self, title: str, frame: pd.DataFrame, note: str = "") -> None:
        shown = frame.head(MAX_TABLE_ROWS)
        cells = [[_cell(v) for v in r] for r in shown.itertuples(index=False)]
        cols = [str(c) for c in shown.columns]
        lens = [min(max([len(c), 3] + [len(r[i]) for r in cells]), 60) + 2 for i, c in enumerate(cols)]
        numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
        width = min(0.9, sum(lens) * _F * 0.9 * 0.6 / 72 / _SIZE.width_in)
        row_h = self._line_h(_F) * 1.15
        extra = len(frame) - len(shown)
        more = (f" {extra:,} fila{'s' if extra > 1 else ''} más en la exportación de datos." if extra > 0 else "")
        note = (note + more).strip()
        span = width > self.COL_W
        note_w = 0.9 if span else self.COL_W
        note_lines = textwrap.fill(note, self._chars(note_w, _F * 0.85)).split("\n") if note else []
        height = (self._line_h(_F * 1.1) * 1.3 + row_h * (len(shown) + 1 if cols and len(shown) else 1)
                  + self._line_h(_F * 0.85) * len(note_lines) + self._line_h(_F) * 1.2)
        if span:
            if min(self.ys) - height < self.BOTTOM:
                self._new(cont=True)
            x, y = self.X[0], min(self.ys)
        else:
            fits = [c for c in sorted((0, 1), key=lambda c: -self.ys[c]) if self.ys[c] - height >= self.BOTTOM]
            if not fits:
                self._new(cont=True)
                fits = [0]
            # fill the left column first while it has room, so the reading order stays left → right
            c = 0 if 0 in fits else fits[0]
            x, y = self.X[c], self.ys[c]
        self.fig.text(x, y, title, fontsize=_F * 1.1, fontweight="bold", va="top")
        y -= self._line_h(_F * 1.1) * 1.3
        if shown.empty:
            self.fig.text(x, y, "Sin filas.", fontsize=_F, color="#555555", va="top")
            y -= row_h
        else:
            rows = len(shown) + 1
            ax = self.fig.add_axes([x, y - row_h * rows, width, row_h * rows])
            ax.set_axis_off()
            tbl = ax.table(cellText=cells, colLabels=cols, cellLoc="left", colLoc="left", bbox=[0, 0, 1, 1])
            tbl.auto_set_font_size(False)
            tbl.set_fontsize(_F * 0.9)
            for (r, c_), cell in tbl.get_celld().items():
                cell.set_width(lens[c_] / sum(lens))
                cell.PAD = 0.5 / lens[c_]  # about one character of padding, whatever the column width
                if numeric[c_]:
                    cell._loc = "right"  # matplotlib has no public setter for a cell's alignment
                    cell.get_text().set_horizontalalignment("right")
                cell.set_edgecolor("#cccccc")
                cell.set_linewidth(0.5)
                if r == 0:
                    cell.set_facecolor("#eeeeee")
                    cell.get_text().set_fontweight("bold")
            y -= row_h * rows + self._line_h(_F) * 0.3
        for ln in note_lines:
            self.fig.text(x, y, ln, fontsize=_F * 0.85, color="#555555", va="top")
            y -= self._line_h(_F * 0.85)
        y -= self._line_h(_F) * 0.9
        if span:
            self.ys = [y, y]
        else:
            self.ys[0 if x == self.X[0] else 1] = y

    def flush(self) -> None:
        if self.fig is not None:
            self.figs.append(self.fig)
            self.fig = None


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/d"
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{v:,}"
    s = str(v)
    return s if len(s) <= 60 else s[:59] + "…"


def _cover(atlas: Atlas, filters: Filters, views: list[MapView], page_of: dict) -> Figure:
    fig = Figure(figsize=(_SIZE.width_in, _SIZE.height_in), dpi=100)
    FigureCanvasAgg(fig)
    fig.patches.append(matplotlib.patches.Rectangle((0, 0.78), 1, 0.22, transform=fig.transFigure, color="#1f3b57", zorder=0))
    fig.text(0.06, 0.93, "Atlas de servicios de salud", fontsize=30, fontweight="bold", color="white", va="top")
    fig.text(0.06, 0.845, atlas.region.nombre, fontsize=20, color="white", va="top")
    s = atlas.summary or {}
    y = 0.70
    for label, value in (
        ("Fecha del informe", f"{dt.date.today():%d/%m/%Y}"),
        ("Capas construidas", str(s.get("construido", ""))[:10] or "n/d"),
        ("Fuente de establecimientos", s.get("fuente") or atlas.region.fuente or "INEGI, DENUE"),
        ("Filtros", describe_filters(filters, atlas)),
    ):
        fig.text(0.06, y, label, fontsize=11, color="#555555", va="top")
        fig.text(0.30, y, textwrap.fill(value, 90), fontsize=11, va="top")
        y -= 0.05 * (1 + value.count("\n") + len(value) // 90)
    y -= 0.03
    fig.text(0.06, y, "Contenido", fontsize=14, fontweight="bold", va="top")
    y -= 0.05
    for v in views:
        flag = "" if v.available else " — análisis no disponible"
        fig.text(0.08, y, f"{v.title}{flag}", fontsize=11, va="top")
        fig.text(0.90, y, f"pág. {page_of[v.id]}", fontsize=11, va="top", ha="right")
        y -= 0.04
    fig.text(0.08, y, "Métodos y límites de los datos", fontsize=11, va="top")
    fig.text(0.90, y, f"pág. {page_of['_metodos']}", fontsize=11, va="top", ha="right")
    fig.text(0.06, 0.06, textwrap.fill(ATTRIBUTION + ".", 150), fontsize=8, color="#444444", va="bottom")
    fig.text(0.06, 0.03, f"Atlas de servicios de salud {__version__}", fontsize=8, color="#444444", va="bottom")
    return fig


def _methods(pages: _Pages, atlas: Atlas, filters: Filters, views: list[MapView]) -> None:
    meta = metadata(atlas, filters, views)
    pages.text("Fuentes", pt=_F * 1.2, bold=True)
    pages.text(ATTRIBUTION + ".")
    for f in meta["fuentes"]["archivos"]:
        size = f"{f['bytes'] / 1e6:,.1f} MB, {f['modificado']}" if f.get("bytes") else "no disponible"
        pages.text(f"• {f['archivo']} ({size})", indent=0.01)
    pages.space()
    pages.text("Métodos por vista", pt=_F * 1.2, bold=True)
    seen: set[str] = set()
    for v in views:
        pages.text(v.title, bold=True)
        for n in v.notes:
            if n not in seen:  # the data notes every view repeats are printed once
                pages.text(f"• {n}", indent=0.01, pt=_F * 0.92)
                seen.add(n)
    pages.space()
    pages.text("Límites de los datos", pt=_F * 1.2, bold=True)
    for n in (
        "El DENUE registra establecimientos, no camas, personal ni especialidades; su cobertura no es completa y una "
        "torre médica aparece como decenas de consultorios en un mismo punto.",
        "Los conteos por clase de la descarga del servicio web son aproximados: el servicio omite registros en celdas densas."
        if "api" in " ".join(str(f["archivo"]) for f in meta["fuentes"]["archivos"]) else "",
        "El sector público/privado sale del nombre de la clase SCIAN; «sin distinguir» cuando la clase no lo dice.",
        "Los tiempos por carretera usan la red de Natural Earth 1:10m (solo carreteras principales), no calles urbanas.",
        "La población es la de las localidades del Censo 2020; no hay polígonos de AGEB en los datos del proyecto.",
        f"Filas en cuarentena: {len(atlas.quarantine):,}; "
        + "; ".join(f"{k}: {v:,}" for k, v in (meta.get("cuarentena_por_motivo") or {}).items()),
    ):
        if n:
            pages.text(f"• {n}", indent=0.01, pt=_F * 0.92)


def report_pdf(
    views: list[MapView],
    atlas: Atlas,
    filters: Filters = Filters(),
    *,
    basemap: str = "auto",
    tiles_url: str = TILES_URL,
    progress: Progress | None = None,
) -> Report:
    """Cover, then per view a map page and (when it has any) a page of key figures and tables, then
    the methods and data-limits page. Pages are drawn first and written last, so the cover's table of
    contents has the real page numbers."""
    footer = f"Atlas de servicios de salud {__version__} · {atlas.region.nombre} · {dt.date.today():%d/%m/%Y}"
    titles: list[str] = ["Atlas de servicios de salud"]
    figs: list[Figure] = []
    page_of: dict[str, int] = {}
    for i, v in enumerate(views):
        if progress:
            progress(0.9 * i / (len(views) + 1), f"PDF: mapa «{v.title}»…")
        page_of[v.id] = len(titles) + 1
        figs.append(map_figure(v, size="impresion", basemap=basemap, tiles_url=tiles_url))
        titles.append(v.title)
        if v.tables or v.figures:
            pages = _Pages(figs, titles, f"{VIEWS.get(v.id, v.title)}: cifras y tablas", footer)
            if v.figures:
                pages.table("Cifras clave", pd.DataFrame({"Cifra": [k.label for k in v.figures], "Valor": [k.value for k in v.figures]}))
            for t in v.tables:
                pages.table(t.title, t.frame, t.nota)
            pages.flush()
    if progress:
        progress(0.9 * len(views) / (len(views) + 1), "PDF: métodos y límites de los datos…")
    page_of["_metodos"] = len(titles) + 1
    pages = _Pages(figs, titles, "Métodos y límites de los datos", footer)
    _methods(pages, atlas, filters, views)
    pages.flush()
    figs.insert(0, _cover(atlas, filters, views, page_of))
    meta = {"Title": f"Atlas de servicios de salud — {atlas.region.nombre}", "Author": "Atlas de servicios de salud",
            "Subject": "; ".join(v.title for v in views), "Keywords": "DENUE, salud, " + atlas.region.nombre}
    buf = io.BytesIO()
    if progress:
        progress(0.92, "PDF: escribiendo el archivo…")
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(buf, metadata=meta) as pdf:
        for fig in figs:
            pdf.savefig(fig)
    if progress:
        progress(1.0, "PDF listo.")
    return Report(buf.getvalue(), titles)
