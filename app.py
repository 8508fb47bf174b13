"""Atlas de servicios de salud — Streamlit app. All Streamlit code lives here and in ui/."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Atlas de servicios de salud", page_icon="🏥", layout="wide")

from atlas import AtlasError, available_regions  # noqa: E402
from ui import densidad, exportar, influencia, mapa, sitios  # noqa: E402
from ui.common import get_atlas, get_region, qp_get, qp_set  # noqa: E402
from ui.region import covid_toggle, municipios_caption  # noqa: E402


VIEWS = {
    "mapa": "Mapa",
    "densidad": "Densidad y clústeres",
    "influencia": "Área de influencia",
    "sitios": "Sitios para nuevos hospitales",
}


def main() -> None:
    regions = available_regions()
    wanted = qp_get("region", "leon")
    region_id = st.sidebar.selectbox(
        "Región", regions, index=regions.index(wanted) if wanted in regions else 0,
        format_func=lambda r: get_region(r).nombre, key="region",
    )
    qp_set(region=region_id)
    region = get_region(region_id)
    st.title(f"Atlas de servicios de salud · {region.nombre}")
    try:
        atlas = get_atlas(region_id)
    except AtlasError as exc:
        st.error(f"No se pudieron construir las capas de {region.nombre}: {exc}")
        st.info(
            "Descargue el DENUE del INEGI (descarga masiva, CSV por entidad) con "
            f"`atlas download --region {region_id}` o colóquelo en la carpeta de datos y ejecute "
            f"`atlas build --region {region_id} --denue RUTA`."
        )
        st.stop()
    if region.cobertura_parcial:
        st.warning(f"Datos parciales: {region.cobertura_parcial}")
    st.caption(municipios_caption(region, atlas))
    filters, _ = mapa.sidebar_filters(region, atlas)
    covid = covid_toggle(region)
    # One view at a time (not st.tabs, which would run every analysis on every rerun); in the URL too.
    keys = list(VIEWS)
    wanted_view = qp_get("vista", "mapa")
    vista = st.segmented_control(
        "Vista", keys, default=wanted_view if wanted_view in VIEWS else "mapa",
        format_func=VIEWS.get, key="vista", label_visibility="collapsed",
    ) or "mapa"
    qp_set(vista=vista)
    if vista == "mapa":
        mapa.render(region, atlas, filters, covid=covid)
    elif vista == "densidad":
        densidad.render(region, atlas)
    elif vista == "influencia":
        influencia.render(region, atlas)
    elif vista == "sitios":
        sitios.render(region, atlas)
    # downloads of the view on screen (PNG, PDF, PowerPoint, HTML, data), built from the sidebar filters
    exportar.export_panel(region, atlas, filters, vista)


main()
