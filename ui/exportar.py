"""The export panel every view can show: downloads built from the current filters, with progress.

Exports take seconds (a PDF of every view, half a minute), so they are built when asked for, not on
every rerun; the finished files stay in the session until the view, format or filters change.
"""

from __future__ import annotations

import streamlit as st

from atlas import AtlasError
from atlas.build import Atlas
from atlas.export.files import export_files
from atlas.export.views import VIEWS, describe_filters
from atlas.filters import Filters
from atlas.settings import Region

__all__ = ["OPTIONS", "export_panel"]

#: label → (format, PNG size, every view?)
OPTIONS = {
    "PNG para presentación (1920×1080)": ("png", "presentacion", False),
    "PNG para imprimir (carta, 300 dpi)": ("png", "impresion", False),
    "Informe PDF (esta vista)": ("pdf", "presentacion", False),
    "Informe PDF (todas las vistas)": ("pdf", "presentacion", True),
    "PowerPoint (esta vista)": ("pptx", "presentacion", False),
    "PowerPoint (todas las vistas)": ("pptx", "presentacion", True),
    "Mapa interactivo HTML": ("html", "presentacion", False),
    "GeoPackage (capas y resultados)": ("gpkg", "presentacion", False),
    "CSV + GeoJSON + metadatos (ZIP)": ("csv", "presentacion", False),
}
#: the app's view ids that differ from the export's
_ALIASES = {"mapa": "hospitales"}


def export_panel(region: Region, atlas: Atlas, filters: Filters, view: str, *, results: dict | None = None) -> None:
    """An "Exportar" expander: choose a format, build it with a progress bar, download it.

    ``view`` is the export view (``hospitales``, ``densidad``, ``influencia``, ``sitios``; the app's
    ``mapa`` is ``hospitales``). ``results`` may pass analysis results the view already computed
    (``{"influencia": CatchmentResult, "sitios": SitingResult}``) so they are not computed again.
    """
    view = _ALIASES.get(view, view)
    if view not in VIEWS:
        st.error(f"No hay exportación para la vista «{view}».")
        return
    key = f"exportar_{view}"
    with st.expander("Exportar (PNG, PDF, PowerPoint, HTML, datos)", expanded=False):
        choice = st.selectbox("Formato", list(OPTIONS), key=f"{key}_formato")
        fmt, size, every = OPTIONS[choice]
        st.caption(f"Filtros: {describe_filters(filters, atlas)}. Mapa base en línea si hay conexión; si no, límites "
                   "municipales y carreteras del propio atlas.")
        signature = (region.id, view, choice, filters)
        if st.button("Preparar archivo", key=f"{key}_preparar", type="primary"):
            bar = st.progress(0.0, text="Preparando…")
            try:
                files, timing = export_files(
                    atlas, filters, list(VIEWS) if every else [view], fmt, size=size, results=results,
                    progress=lambda f, msg: bar.progress(min(1.0, max(0.0, f)), text=msg),
                )
            except AtlasError as exc:
                bar.empty()
                st.error(f"No se pudo exportar: {exc}")
                return
            bar.empty()
            st.session_state[key] = (signature, files, timing)
        stored = st.session_state.get(key)
        if stored is None:
            return
        sig, files, timing = stored
        if sig != signature:
            st.info("La vista, el formato o los filtros cambiaron: prepare el archivo de nuevo.")
            return
        st.caption(f"Listo en {timing['vistas_s'] + timing['archivos_s']:.1f} s.")
        for i, f in enumerate(files):
            st.download_button(f"Descargar {f.name} ({len(f.data) / 1e6:,.1f} MB)", data=f.data, file_name=f.name,
                               mime=f.mime, key=f"{key}_descargar_{i}")
