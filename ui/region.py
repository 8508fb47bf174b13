"""Region-level pieces of the app: which municipios are used, the seeds' published figures beside ours
and the optional COVID-19 choropleth (regions whose ``[plan.covid]`` publishes cases)."""

from __future__ import annotations

import folium
import streamlit as st

from atlas.build import Atlas
from atlas.figures import published_figures
from atlas.geo import municipalities_from_gpkg
from atlas.maps.covid import add_cases_choropleth, covid_from_plan
from atlas.settings import Region

from .common import qp_get, qp_set

__all__ = ["municipios_caption", "covid_toggle", "add_covid_layer", "covid_table", "published_panel"]


def municipios_caption(region: Region, atlas: Atlas) -> str:
    """"Municipios de la región: …" naming the set used and, when it differs, the metropolitan one."""
    muns = atlas.summary.get("municipios") or [{"cvegeo": c, "nombre": c, "metropolitano": c in region.municipios_metropolitanos} for c in region.municipios]
    names = [m["nombre"] or m["cvegeo"] for m in muns]
    text = f"Municipios de la región ({len(names)}): {', '.join(names)}."
    metro = [m["nombre"] or m["cvegeo"] for m in muns if m["metropolitano"]]
    if set(region.municipios_metropolitanos) != set(region.municipios):
        text += f" Zona metropolitana propiamente dicha ({len(metro)}): {', '.join(metro)}."
    return text


def covid_toggle(region: Region) -> bool:
    """Sidebar checkbox for the COVID-19 layer, mirrored in the URL (``covid=1``); False without data."""
    cfg = (region.plan or {}).get("covid")
    if not cfg:
        qp_set(covid="")
        return False
    on = st.sidebar.checkbox(
        f"COVID-19: casos por 100 000 hab. ({cfg.get('fecha', '')})", value=qp_get("covid") == "1",
        key=f"covid_{region.id}", help=cfg.get("fuente", ""),
    )
    qp_set(covid="1" if on else "")
    return on


@st.cache_data(show_spinner=False)
def _covid_rates(region_id: str, municipios_path: str):
    from atlas import load_region

    region = load_region(region_id)
    return covid_from_plan(region.plan, municipalities_from_gpkg(municipios_path))


def covid_table(region: Region):
    """``(rates, labels)`` for the region, or None."""
    if not (region.plan or {}).get("covid"):
        return None
    return _covid_rates(region.id, str(region.path(region.files.municipios)))


def add_covid_layer(m: folium.Map, region: Region) -> None:
    """Draw the region's COVID-19 choropleth on ``m`` and zoom out to its municipios."""
    got = covid_table(region)
    if got is not None:
        rates, labels = got
        add_cases_choropleth(m, rates, **labels, fit=True)


def published_panel(region: Region, atlas: Atlas) -> None:
    """The seeds' published figures next to this atlas' counts, then the COVID-19 rates when on."""
    plan = region.plan or {}
    if plan.get("cifras"):
        st.subheader("Cifras publicadas frente a este atlas")
        st.caption(
            f"Publicadas: {plan.get('fuente', '')}. «Este atlas» cuenta el DENUE cargado "
            f"({atlas.summary.get('fuente') or 'INEGI, DENUE'})"
            + ("; la cobertura es parcial (vea el aviso), así que no es comparable con la zona metropolitana." if atlas.summary.get("cobertura_parcial") else ".")
        )
        st.dataframe(published_figures(plan, atlas.summary), hide_index=True, width="stretch")
    got = covid_table(region)
    if got is not None:
        rates, labels = got
        st.subheader(f"{labels['titulo']} · {labels['fecha']}")
        st.caption(labels["fuente"])
        t = rates.drop(columns="geometry").assign(
            tasa=lambda d: d["tasa"].round(1),
            referencia=lambda d: d["referencia"].map({True: "referencia (fuera de la región)", False: ""}),
        ).rename(columns={"cvegeo": "Clave", "municipio": "Municipio", "estado": "Estado", "casos": "Casos",
                          "poblacion": "Población 2020", "tasa": "Casos por 100 000 hab.", "referencia": "Nota"})
        st.dataframe(t, hide_index=True, width="stretch")
