"""Static maps of a :class:`~atlas.export.views.MapView` with matplotlib (no pyplot: safe in Streamlit).

The map is drawn in the region's metric CRS (EPSG:6372 for Mexico), so the scale bar is measured in
that CRS and corrected by the projection's scale factor at the map centre; the north arrow points to
true north (the grid's convergence is computed, not assumed). Sizes:

- ``presentacion``: 1920 × 1080 px (16:9 slide);
- ``impresion``: US Letter landscape (carta, 11 × 8.5 in) at 300 dpi, 3300 × 2550 px.

A figure has a title, a subtitle (region, source, filters), the map, a side panel with the legend
(in the layers' own colours), key figures and notes, and a footer with the sources and the date.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyproj
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .. import __version__
from .._errors import ConfigError
from .basemap import TILES_ATTRIBUTION, TILES_URL, Context, context_from_region, tiles_image
from .views import MapView, Progress

__all__ = ["SIZES", "BASEMAPS", "Size", "map_figure", "png_bytes", "write_png", "scale_bar", "metric_bounds"]


@dataclass(frozen=True)
class Size:
    width_in: float
    height_in: float
    dpi: int
    #: body text size in points; titles and notes scale from it
    font_pt: float

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.width_in * self.dpi), round(self.height_in * self.dpi)


SIZES = {
    "presentacion": Size(19.2, 10.8, 100, 13.0),
    "impresion": Size(11.0, 8.5, 300, 8.0),
    #: the map body of a 16:9 PowerPoint slide under its title (title and notes are slide text)
    "diapositiva": Size(12.8, 5.55, 150, 9.5),
}
#: "auto" tries web tiles and falls back to the project's layers; "propio" never goes online
BASEMAPS = ("auto", "propio")

_MUNI_EDGE = "#8c8c8c"
_REGION_EDGE = "#3d3d3d"
_ROAD = "#c9a063"
_LAND = "#f6f5f1"


def _check(size: str, basemap: str) -> Size:
    if size not in SIZES:
        raise ConfigError(f'size was "{size}" but is expected to be one of {", ".join(SIZES)}.')
    if basemap not in BASEMAPS:
        raise ConfigError(f'basemap was "{basemap}" but is expected to be one of {", ".join(BASEMAPS)}.')
    return SIZES[size]


def metric_bounds(bounds_deg, crs: str, aspect: float | None = None) -> tuple[float, float, float, float]:
    """``bounds_deg`` (lon/lat box) in ``crs`` metres, widened to ``aspect`` (width / height) if given."""
    box = gpd.GeoSeries([shapely.box(*bounds_deg).segmentize(0.01)], crs=4326).to_crs(crs)
    xmin, ymin, xmax, ymax = box.total_bounds
    if aspect:
        w, h = xmax - xmin, ymax - ymin
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        if w / h < aspect:
            w = h * aspect
        else:
            h = w / aspect
        xmin, xmax, ymin, ymax = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    return float(xmin), float(ymin), float(xmax), float(ymax)


def _nice(x: float) -> float:
    e = math.floor(math.log10(x))
    for m in (5, 2, 1):
        if m * 10**e <= x:
            return m * 10**e
    return 10 ** (e - 1) * 5


def scale_bar(bounds_metric, crs: str, *, fraction: float = 0.22) -> tuple[float, float]:
    """A round length (km) close to ``fraction`` of the map width and its length in map units.

    The map unit of ``crs`` is the metre *on the projection*; the true ground length differs by the
    projection's scale factor ``k`` at the map centre, so the bar is ``km × 1000 × k`` map units.
    """
    xmin, ymin, xmax, ymax = bounds_metric
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(cx, cy)
    k = pyproj.Proj(crs).get_factors(lon, lat).meridional_scale
    km = _nice((xmax - xmin) * fraction / k / 1000.0)
    return km, km * 1000.0 * k


def _north(bounds_metric, crs: str) -> float:
    """Angle (radians, from the map's +y axis, clockwise positive) of true north at the map centre."""
    xmin, ymin, xmax, ymax = bounds_metric
    fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    inv = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = inv.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    x0, y0 = fwd.transform(lon, lat)
    x1, y1 = fwd.transform(lon, lat + 0.05)
    return math.atan2(x1 - x0, y1 - y0)


def _wrap(text: str, width_in: float, font_pt: float) -> str:
    chars = max(20, int(width_in * 72 / (font_pt * 0.6)))
    return "\n".join(textwrap.fill(p, chars) for p in str(text).split("\n"))


# --------------------------------------------------------------------------- drawing


def _plot(gdf, ax, **kw) -> None:
    """``GeoDataFrame.plot`` that skips empty frames (geopandas warns on them)."""
    if len(gdf) and not gdf.geometry.is_empty.all():
        gdf.plot(ax=ax, **kw)


def _draw_context(ax, ctx: Context, crs: str, bounds_metric, lw: float, font_pt: float, *, tiles: bool) -> None:
    munis = ctx.municipios.to_crs(crs) if len(ctx.municipios) else None
    if munis is not None:
        _plot(munis, ax, facecolor="none" if tiles else _LAND, edgecolor=_MUNI_EDGE, linewidth=0.5 * lw, zorder=1)
        own = munis[munis["CVEGEO"].astype(str).isin(ctx.region_codes)] if "CVEGEO" in munis.columns else munis.iloc[:0]
        if len(own):
            _plot(own.boundary, ax, color=_REGION_EDGE, linewidth=1.3 * lw, zorder=1.2)
    if not tiles and len(ctx.roads):
        roads = ctx.roads.to_crs(crs)
        major = roads["type"].astype(str).str.contains("Major|Beltway", regex=True) if "type" in roads.columns else False
        _plot(roads[~major], ax, color=_ROAD, linewidth=0.9 * lw, zorder=1.1)
        _plot(roads[major], ax, color=_ROAD, linewidth=1.7 * lw, zorder=1.1)
    xmin, ymin, xmax, ymax = bounds_metric
    if munis is not None and (xmax - xmin) > 50_000 and "NOMGEO" in munis.columns:
        box = shapely.box(xmin, ymin, xmax, ymax).buffer(-(xmax - xmin) * 0.03)
        pts = munis.assign(p=munis.representative_point())
        pts = pts[pts["p"].within(box)]
        if "POBTOT" in pts.columns:
            pts = pts.sort_values("POBTOT", ascending=False)
        placed: list[tuple[float, float]] = []
        gap = 0.09 * (xmax - xmin)  # labels closer than this would overlap: keep the most populous
        for r in pts.itertuples():
            if len(placed) >= 16 or any(abs(r.p.x - x) < gap and abs(r.p.y - y) < gap / 3 for x, y in placed):
                continue
            placed.append((r.p.x, r.p.y))
            ax.text(r.p.x, r.p.y, str(r.NOMGEO), fontsize=font_pt * 0.72, color="#555555", ha="center", va="center",
                    style="italic", zorder=6, clip_on=True)


def _draw_layers(ax, view: MapView, crs: str, lw: float, k: float) -> None:
    for z, lyr in enumerate(view.layers):
        if lyr.data.empty:
            continue
        data = lyr.data.to_crs(crs)
        zorder = 2 + z * 0.1  # the view's order: later layers on top
        if lyr.kind == "poligonos":
            face = "none" if lyr.outline_only else to_rgba(lyr.color, lyr.fill_opacity)
            width = (lyr.size if lyr.outline_only else 1.0) * lw
            _plot(data, ax, facecolor=face, edgecolor=lyr.color, linewidth=width,
                      linestyle=(0, (5, 3)) if lyr.dashed else "-", zorder=zorder)
        elif lyr.kind == "lineas":
            _plot(data, ax, color=lyr.color, linewidth=lyr.size * lw, linestyle="--" if lyr.dashed else "-", zorder=zorder)
        else:
            pts = data.geometry[data.geometry.geom_type == "Point"]
            # screen px at 96 dpi → points, scaled to the size; crowded layers get smaller markers
            diameter = 2 * lyr.size * 0.75 * k * (0.6 if len(pts) > 1000 else 1.0)
            ax.scatter(pts.x, pts.y, s=diameter**2, c=lyr.color, marker=lyr.marker, alpha=lyr.fill_opacity,
                       edgecolors="#222222" if lyr.marker == "*" else "white", linewidths=0.5 * lw, zorder=zorder)


def _draw_scale_and_north(ax, bounds_metric, crs: str, font_pt: float, lw: float) -> None:
    xmin, ymin, xmax, ymax = bounds_metric
    w, h = xmax - xmin, ymax - ymin
    km, length = scale_bar(bounds_metric, crs)
    x0, y0, bh = xmin + 0.03 * w, ymin + 0.045 * h, 0.011 * h
    ax.add_patch(Rectangle((x0 - 0.012 * w, y0 - 0.025 * h), length + 0.05 * w, 0.085 * h,
                           facecolor=(1, 1, 1, 0.85), edgecolor="none", zorder=20))
    for i in range(2):
        ax.add_patch(Rectangle((x0 + i * length / 2, y0), length / 2, bh, facecolor="#222222" if i == 0 else "white",
                               edgecolor="#222222", linewidth=0.8 * lw, zorder=21))
    label = (lambda v: f"{v:g}")
    for frac, text in ((0, "0"), (0.5, label(km / 2)), (1, f"{label(km)} km")):
        ax.text(x0 + frac * length, y0 + bh * 1.8, text, fontsize=font_pt * 0.8, ha="center", va="bottom", zorder=22)
    # north arrow
    ang = _north(bounds_metric, crs)
    cx, cy, r = xmax - 0.045 * w, ymax - 0.13 * h, 0.05 * h
    tip = (cx + r * math.sin(ang), cy + r * math.cos(ang))
    tail = (cx - r * math.sin(ang), cy - r * math.cos(ang))
    ax.add_patch(Rectangle((cx - 0.03 * w, cy - 1.35 * r), 0.06 * w, 3.3 * r, facecolor=(1, 1, 1, 0.85), edgecolor="none", zorder=20))
    ax.annotate("", xy=tip, xytext=tail, zorder=22,
                arrowprops=dict(arrowstyle="-|>,head_width=0.45,head_length=0.9", color="#222222", lw=1.6 * lw))
    ax.text(tip[0], tip[1] + 0.012 * h, "N", fontsize=font_pt * 1.1, fontweight="bold", ha="center", va="bottom", zorder=22)


def _legend_handles(view: MapView, lw: float, k: float, *, tiles: bool, ctx: Context | None):
    handles, labels = [], []
    for lyr in view.layers:
        if not lyr.legend:
            continue
        if lyr.kind == "puntos":
            h = Line2D([], [], linestyle="", marker=lyr.marker, markersize=max(7.0, 2 * lyr.size * 0.75 * k) * 1.15,
                       markerfacecolor=lyr.color, markeredgecolor="#222222" if lyr.marker == "*" else lyr.color, markeredgewidth=0.6)
        elif lyr.kind == "lineas":
            h = Line2D([], [], color=lyr.color, linewidth=max(1.5, lyr.size) * lw, linestyle="--" if lyr.dashed else "-")
        else:
            h = Patch(facecolor="none" if lyr.outline_only else to_rgba(lyr.color, max(lyr.fill_opacity, 0.35)),
                      edgecolor=lyr.color, linewidth=max(1.5, lyr.size if lyr.outline_only else 1.0) * lw,
                      linestyle=(0, (4, 2)) if lyr.dashed else "-")
        handles.append(h)
        labels.append(lyr.legend_label)
    if ctx is not None:
        handles.append(Line2D([], [], color=_REGION_EDGE, linewidth=1.3 * lw))
        labels.append("Límite municipal de la región")
        if not tiles and len(ctx.roads):
            handles.append(Line2D([], [], color=_ROAD, linewidth=1.7 * lw))
            labels.append("Carretera (Natural Earth)")
    return handles, labels


def map_figure(
    view: MapView,
    *,
    size: str = "presentacion",
    basemap: str = "auto",
    chrome: bool = True,
    tiles_url: str = TILES_URL,
    context: Context | None = None,
) -> Figure:
    """The view as a matplotlib :class:`~matplotlib.figure.Figure` of the named size.

    ``chrome=False`` leaves out the title, subtitle and footer (the PowerPoint slide carries them as
    editable text). ``basemap="auto"`` tries web tiles from ``tiles_url`` first.
    """
    sz = _check(size, basemap)
    fig = Figure(figsize=(sz.width_in, sz.height_in), dpi=sz.dpi)
    FigureCanvasAgg(fig)
    f = sz.font_pt
    k = f / 13.0  # markers and lines scale with the text
    lw = max(0.6, k)
    if chrome:
        map_rect, side_rect = [0.015, 0.095, 0.70, 0.78], [0.73, 0.095, 0.255, 0.78]
    else:
        map_rect, side_rect = [0.0, 0.01, 0.72, 0.98], [0.735, 0.01, 0.265, 0.98]
    ax = fig.add_axes(map_rect)
    crs = view.region.crs_metric
    aspect = (map_rect[2] * sz.width_in) / (map_rect[3] * sz.height_in)
    bm = metric_bounds(view.bounds(), crs, aspect)
    deg = gpd.GeoSeries([shapely.box(*bm)], crs=crs).to_crs(4326).total_bounds
    ctx = context or context_from_region(view.region, tuple(deg))
    img = None
    if basemap == "auto":
        w_px = int(map_rect[2] * sz.width_in * min(sz.dpi, 150))
        img = tiles_image(bm, crs, w_px, max(1, int(w_px / aspect)), url=tiles_url)
    if img is not None:
        ax.imshow(img, extent=(bm[0], bm[2], bm[1], bm[3]), origin="upper", interpolation="bilinear", zorder=0)
    else:
        ax.set_facecolor("#eeeeea")
    _draw_context(ax, ctx, crs, bm, lw, f, tiles=img is not None)
    _draw_layers(ax, view, crs, lw, k)
    ax.set_xlim(bm[0], bm[2])
    ax.set_ylim(bm[1], bm[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for s in ax.spines.values():
        s.set_edgecolor("#999999")
        s.set_linewidth(0.8 * lw)
    _draw_scale_and_north(ax, bm, crs, f, lw)
    if not view.available:
        # at the top, so it does not hide what the map still shows at its centre
        ax.text(0.45, 0.95, _wrap(view.notes[0] if view.notes else "Análisis no disponible.", map_rect[2] * sz.width_in * 0.6, f * 1.3),
                transform=ax.transAxes, ha="center", va="top", fontsize=f * 1.3, color="#7a1f1f", zorder=30,
                bbox=dict(boxstyle="round,pad=0.8", facecolor=(1, 1, 1, 0.92), edgecolor="#7a1f1f"))

    # side panel: legend, key figures, notes (stacked from the top, measured as they are drawn)
    side = fig.add_axes(side_rect)
    side.set_axis_off()
    panel_w = side_rect[2] * sz.width_in
    handles, labels = _legend_handles(view, lw, k, tiles=img is not None, ctx=ctx)
    labels = [_wrap(lbl, panel_w - 0.5, f) for lbl in labels]
    leg = side.legend(handles, labels, loc="upper left", bbox_to_anchor=(0, 1), frameon=False, fontsize=f,
                      title="Leyenda", title_fontproperties={"weight": "bold", "size": f * 1.1}, alignment="left",
                      borderaxespad=0, handlelength=1.6, labelspacing=0.55)
    renderer = fig.canvas.get_renderer()
    inv = side.transAxes.inverted()
    y = inv.transform((0, leg.get_window_extent(renderer).y0))[1] - 0.04
    line_h = f * 1.45 / 72 / (side_rect[3] * sz.height_in)  # one text line in axes fraction
    if view.figures and y > 0.1:
        side.text(0, y, "Cifras clave", fontsize=f * 1.1, fontweight="bold", va="top", transform=side.transAxes)
        y -= line_h * 1.3
        for fig_ in view.figures:
            if y < line_h * 2:
                break
            t = side.text(0, y, _wrap(f"{fig_.label}: {fig_.value}", panel_w, f), fontsize=f, va="top", transform=side.transAxes)
            y = inv.transform((0, t.get_window_extent(renderer).y0))[1] - line_h * 0.35
    fn = f * 0.78
    notes = list(view.notes[1:] if not view.available else view.notes)
    if notes and y > line_h * 3:
        y -= line_h * 0.6
        for note in notes:
            note = note if len(note) <= 240 else note[:239] + "…"  # the PDF's methods page has them whole
            t = side.text(0, y, _wrap(note, panel_w, fn), fontsize=fn, va="top", color="#444444", transform=side.transAxes)
            y0 = inv.transform((0, t.get_window_extent(renderer).y0))[1]
            if y0 < 0:
                t.remove()
                break
            y = y0 - line_h * 0.3

    if chrome:
        fig.text(0.015, 0.975, view.title, fontsize=f * 2.0, fontweight="bold", va="top", ha="left", color="#1a1a1a")
        fig.text(0.015, 0.915, _wrap(view.subtitle, sz.width_in * 0.95, f * 1.1), fontsize=f * 1.1, va="top", ha="left", color="#333333")
        base = TILES_ATTRIBUTION if img is not None else "Mapa base: límites municipales (INEGI) y carreteras (Natural Earth), sin teselas en línea"
        built = f" · capas construidas el {view.built[:10]}" if view.built else ""
        fig.text(0.015, 0.012, _wrap(f"{view.source}. {base}.", sz.width_in * 0.72, f * 0.78), fontsize=f * 0.78, va="bottom",
                 ha="left", color="#444444")
        fig.text(0.985, 0.012, f"Elaborado el {view.date:%d/%m/%Y}{built}\nAtlas de servicios de salud {__version__} · "
                 f"{crs}", fontsize=f * 0.78, va="bottom", ha="right", color="#444444")
    fig._atlas_tiles = img is not None  # recorded for callers and tests
    return fig


def png_bytes(view: MapView, *, size: str = "presentacion", basemap: str = "auto", chrome: bool = True,
              tiles_url: str = TILES_URL, progress: Progress | None = None) -> bytes:
    """The view as PNG bytes at the size's pixel dimensions."""
    if progress:
        progress(0.0, f"Dibujando «{view.title}»…")
    fig = map_figure(view, size=size, basemap=basemap, chrome=chrome, tiles_url=tiles_url)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=SIZES[size].dpi, metadata={"Title": view.title, "Source": view.source})
    if progress:
        progress(1.0, "PNG listo.")
    return buf.getvalue()


def write_png(view: MapView, path: Path | str, **kw) -> Path:
    path = Path(path)
    path.write_bytes(png_bytes(view, **kw))
    return path
