"""Exports for presentations: one declarative :class:`~atlas.export.views.MapView` per view, drawn as
PNG/PDF (matplotlib), PowerPoint (python-pptx), a self-contained HTML map (folium) and data files
(GeoPackage, GeoJSON, CSV, metadata).

The pipeline is ``Atlas + Filters → views_from_atlas → MapView → png / pdf / pptx / html / data``;
:func:`~atlas.export.files.export_files` does all of it for the CLI and the app. Nothing here imports
Streamlit; the app's panel is ``ui/exportar.py``.
"""

from .files import FORMATS, ExportFile, export_files, render_files
from .views import VIEWS, KeyFigure, MapLayer, MapView, Table, describe_filters, views_from_atlas

__all__ = [
    "FORMATS",
    "VIEWS",
    "ExportFile",
    "KeyFigure",
    "MapLayer",
    "MapView",
    "Table",
    "describe_filters",
    "export_files",
    "render_files",
    "views_from_atlas",
]
