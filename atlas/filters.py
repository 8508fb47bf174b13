"""Filters of the map view (layers, SCIAN classes, sector, municipio, name) as a pure function."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import geopandas as gpd

__all__ = ["Filters", "filter_layers", "plain_text"]


def plain_text(text: object) -> str:
    """Upper case without accents, for forgiving name search."""
    t = unicodedata.normalize("NFKD", str(text).upper())
    return "".join(c for c in t if not unicodedata.combining(c))


@dataclass(frozen=True)
class Filters:
    capas: tuple[str, ...] = ()
    #: SCIAN codes (or prefixes) to keep; empty = all
    clases: tuple[str, ...] = ()
    #: "público", "privado", "sin distinguir"; empty = all
    sectores: tuple[str, ...] = ()
    #: CVEGEO of municipios; empty = all
    municipios: tuple[str, ...] = ()
    nombre: str = ""


def filter_layers(layers: dict[str, gpd.GeoDataFrame], f: Filters, point_ids) -> dict[str, gpd.GeoDataFrame]:
    """A new dict with the point layers filtered; non-point layers are passed through unchanged."""
    out = {}
    needle = plain_text(f.nombre.strip()) if f.nombre.strip() else ""
    for key, gdf in layers.items():
        if key not in point_ids:
            out[key] = gdf
            continue
        mask = gdf.index == gdf.index
        if f.clases:
            mask &= gdf["clase"].astype(str).str.startswith(tuple(f.clases)).to_numpy()
        if f.sectores:
            mask &= gdf["sector"].isin(f.sectores).to_numpy()
        if f.municipios:
            mask &= gdf["cvegeo"].isin(f.municipios).to_numpy()
        if needle:
            mask &= gdf["nom_estab"].map(plain_text).str.contains(needle, regex=False).to_numpy()
        out[key] = gdf[mask]
    return out
