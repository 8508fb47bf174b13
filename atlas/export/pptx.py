"""A 16:9 PowerPoint deck (python-pptx): a title slide, a key-figures slide (an editable table) and
one slide per map. Titles, subtitles and sources are slide text that can be edited; the map is a
picture rendered without its own title; the view's notes go to the speaker notes.
"""

from __future__ import annotations

import datetime as dt
import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches, Pt

from ..build import Atlas
from ..filters import Filters
from ..maps.base import ATTRIBUTION_SHORT
from .basemap import TILES_URL
from .png import png_bytes
from .views import VIEWS, MapView, Progress, describe_filters

__all__ = ["slides_pptx", "FIGURES_PER_VIEW"]

#: key figures of each view on the key-figures slide
FIGURES_PER_VIEW = 4
_W, _H = 13.333, 7.5
_LAYOUT_TITLE, _LAYOUT_TITLE_ONLY = 0, 5
_GREY = RGBColor(0x44, 0x44, 0x44)


def _title(slide, text: str, size: int = 28) -> None:
    t = slide.shapes.title
    # the default template is 4:3; place the title across the 16:9 slide
    t.left, t.top, t.width, t.height = Inches(0.4), Inches(0.2), Inches(_W - 0.8), Inches(0.8)
    t.text = text
    for p in t.text_frame.paragraphs:
        p.alignment = 1  # left
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.bold = True


def _textbox(slide, text: str, left: float, top: float, width: float, height: float, size: int, color=_GREY) -> None:
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    tf = box.text_frame
    tf.word_wrap = True
    tf.text = text
    for p in tf.paragraphs:
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.color.rgb = color


def slides_pptx(
    views: list[MapView],
    atlas: Atlas,
    filters: Filters = Filters(),
    *,
    basemap: str = "auto",
    tiles_url: str = TILES_URL,
    progress: Progress | None = None,
) -> bytes:
    """The deck as ``.pptx`` bytes: 2 + ``len(views)`` slides."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(_W), Inches(_H)
    region = atlas.region

    s = prs.slides.add_slide(prs.slide_layouts[_LAYOUT_TITLE])
    # a placeholder given one coordinate loses the others it inherited: set all four
    t = s.shapes.title
    t.left, t.top, t.width, t.height = Inches(0.8), Inches(2.0), Inches(_W - 1.6), Inches(1.6)
    t.text = f"Atlas de servicios de salud — {region.nombre}"
    sub = s.placeholders[1]
    sub.left, sub.top, sub.width, sub.height = Inches(0.8), Inches(3.8), Inches(_W - 1.6), Inches(1.6)
    sub.text = (f"{dt.date.today():%d/%m/%Y} · {(atlas.summary or {}).get('fuente') or region.fuente}\n"
                f"{describe_filters(filters, atlas)}")

    s = prs.slides.add_slide(prs.slide_layouts[_LAYOUT_TITLE_ONLY])
    _title(s, "Cifras clave")
    rows = [(VIEWS.get(v.id, v.title), k.label, k.value) for v in views for k in v.figures[:FIGURES_PER_VIEW]]
    if not views or not rows:
        rows = [("", "Sin cifras para las vistas elegidas", "")]
    shape = s.shapes.add_table(len(rows) + 1, 3, Inches(0.6), Inches(1.2), Inches(_W - 1.2), Inches(0.3 * (len(rows) + 1)))
    tbl = shape.table
    for j, (head, w) in enumerate((("Vista", 4.2), ("Cifra", 5.2), ("Valor", _W - 1.2 - 9.4))):
        tbl.columns[j].width = Inches(w)
        tbl.cell(0, j).text = head
    size = 14 if len(rows) <= 12 else 11
    for i, row in enumerate(rows, start=1):
        for j, val in enumerate(row):
            tbl.cell(i, j).text = str(val)
    for i in range(len(rows) + 1):
        for j in range(3):
            for p in tbl.cell(i, j).text_frame.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(size)
    _textbox(s, ATTRIBUTION_SHORT, 0.6, _H - 0.5, _W - 1.2, 0.35, 10)

    for i, v in enumerate(views):
        if progress:
            progress(i / len(views), f"PowerPoint: mapa «{v.title}»…")
        s = prs.slides.add_slide(prs.slide_layouts[_LAYOUT_TITLE_ONLY])
        _title(s, v.title, 26)
        _textbox(s, v.subtitle, 0.4, 0.95, _W - 0.8, 0.4, 13)
        img = png_bytes(v, size="diapositiva", basemap=basemap, chrome=False, tiles_url=tiles_url)
        s.shapes.add_picture(io.BytesIO(img), Inches(0.27), Inches(1.4), width=Inches(12.8))
        built = f" · capas construidas el {v.built[:10]}" if v.built else ""
        _textbox(s, f"{ATTRIBUTION_SHORT} · {v.date:%d/%m/%Y}{built}", 0.4, _H - 0.45, _W - 0.8, 0.35, 9)
        s.notes_slide.notes_text_frame.text = "\n".join(v.notes)
    buf = io.BytesIO()
    prs.save(buf)
    if progress:
        progress(1.0, "PowerPoint listo.")
    return buf.getvalue()
