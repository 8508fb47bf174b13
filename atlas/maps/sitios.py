"""The "Sitios para nuevos hospitales" map and the one-page site sheet.

Candidates are coloured by score (five classes), the optimal MCLP sites are drawn on top with their
service radius, and the what-if hospitals (hypothetical ones in violet) show where the user
dropped them. Every string from data or from the user (site labels, hospital names) is escaped
before it reaches HTML.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np

from ..settings import Region
from ..sites import criterion_info
from .base import ATTRIBUTION, PointLayer, add_legend, base_map, html_escape

__all__ = ["SCORE_COLORS", "sites_map", "site_sheet_html"]

#: low → high score (ColorBrewer YlGnBu, 5 classes)
SCORE_COLORS = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
OPTIMAL_COLOR = "#e6550d"
HOSPITAL_COLOR = "#c0392b"
NEW_COLOR = "#7b3294"
DEMAND_COLOR = "#636363"


def _fmt(v: float) -> str:
    return f"{v:,.0f}".replace(",", " ")


def _site_popup(row, used: list[str]) -> str:
    lines = [f"<b>{html_escape(row['sitio'])}</b>"]
    if row.get("etiqueta"):
        lines.append(html_escape(row["etiqueta"]))
    lines.append(f"Puntaje: {row['puntaje']:.1f} / 100 (rango {int(row['rango'])})")
    for n in used:
        info = criterion_info(n)
        raw = row.get(n)
        raw_txt = "—" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else f"{raw:,.0f} {info.unidad}"
        lines.append(f"{html_escape(info.nombre)}: {html_escape(raw_txt)} → +{row[f'aporte_{n}']:.1f}")
    return "<br>".join(lines)


def _class_edges(scores: np.ndarray) -> np.ndarray:
    """Quintile edges of the score; equal edges (many ties) collapse into fewer classes."""
    return np.unique(np.quantile(scores, [0.2, 0.4, 0.6, 0.8]))


def sites_map(
    region: Region,
    table: gpd.GeoDataFrame,
    used: list[str],
    *,
    optimal: gpd.GeoDataFrame | None = None,
    hospitals: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    demand: gpd.GeoDataFrame | None = None,
    service_m: float | None = None,
    tiles: bool = True,
) -> folium.Map:
    """Candidates by score class, optimal sites, existing and hypothetical hospitals.

    Parameters
    ----------
    table
        Scored candidates (:class:`atlas.sites.Screening.table`).
    used
        Criteria in the score (their contributions go in the popups).
    optimal
        Optimal sites (``orden``, ``ganancia``), drawn with their service radius.
    facilities
        What-if hospitals (:meth:`atlas.whatif.WhatIf.facilities`): the hypothetical ones are drawn.
    demand
        Demand points (``demanda``), hidden by default.
    """
    m = base_map(region, tiles=tiles)
    items = []
    t = table.to_crs(4326)
    scores = t["puntaje"].to_numpy(dtype=float)
    edges = _class_edges(scores) if len(scores) else np.array([])
    cls = np.searchsorted(edges, scores, side="right") if len(scores) else np.array([], dtype=int)
    n_cls = len(edges) + 1
    for c in range(n_cls - 1, -1, -1):
        sub = t[cls == c]
        if sub.empty:
            continue
        color = SCORE_COLORS[round(c * (len(SCORE_COLORS) - 1) / max(1, n_cls - 1))]
        lo, hi = sub["puntaje"].min(), sub["puntaje"].max()
        label = f"Candidatos, puntaje {lo:.0f}–{hi:.0f} ({len(sub)})"
        data = [[round(r.geometry.y, 6), round(r.geometry.x, 6), _site_popup(r, used), html_escape(f"{r['sitio']} · {r['puntaje']:.1f}")]
                for _, r in sub.iterrows()]
        PointLayer(data, name=html_escape(label), layer_id=f"sitios_{c}", color=color, radius=6, cluster=False).add_to(m)
        items.append((color, label, "circle"))
    if hospitals is not None and len(hospitals):
        h = hospitals.to_crs(4326)
        data = [[round(g.y, 6), round(g.x, 6),
                 f"<b>{html_escape(n)}</b><br>Hospital {html_escape(s)}", html_escape(n)]
                for g, n, s in zip(h.geometry, h.get("nom_estab", [""] * len(h)), h.get("sector", [""] * len(h)))]
        PointLayer(data, name=f"Hospitales existentes ({len(h)})", layer_id="sitios_hospitales",
                   color=HOSPITAL_COLOR, radius=5, cluster=False).add_to(m)
        items.append((HOSPITAL_COLOR, f"Hospitales existentes ({len(h)})", "circle"))
    if optimal is not None and len(optimal):
        o = optimal.to_crs(4326)
        group = folium.FeatureGroup(name=f"Sitios óptimos (MCLP, k = {len(o)})", show=True)
        for _, r in o.iterrows():
            if service_m:
                folium.Circle([r.geometry.y, r.geometry.x], radius=float(service_m), color=OPTIMAL_COLOR, weight=1.5,
                              fill=True, fill_opacity=0.06, dash_array="5 5").add_to(group)
        group.add_to(m)
        data = [[round(r.geometry.y, 6), round(r.geometry.x, 6),
                 f"<b>Óptimo {int(r['orden'])}</b><br>{_site_popup(r, used)}<br>Demanda nueva cubierta: {_fmt(r['ganancia'])}",
                 html_escape(f"Óptimo {int(r['orden'])}: +{_fmt(r['ganancia'])}")] for _, r in o.iterrows()]
        PointLayer(data, name="Sitios óptimos", layer_id="sitios_optimos", color=OPTIMAL_COLOR, radius=10,
                   cluster=False).add_to(m)
        items.append((OPTIMAL_COLOR, f"Sitio óptimo (MCLP) y su radio de {service_m / 1000:g} km" if service_m else "Sitio óptimo", "circle"))
    if facilities is not None and len(facilities):
        new = facilities[~facilities["existente"]].to_crs(4326)
        if len(new):
            data = [[round(g.y, 6), round(g.x, 6), f"<b>{html_escape(i)}</b><br>{html_escape(n)}<br>Hospital hipotético",
                     html_escape(f"{i} {n}".strip())] for g, i, n in zip(new.geometry, new["id"], new["nombre"])]
            PointLayer(data, name=f"Hospitales hipotéticos ({len(new)})", layer_id="sitios_hipoteticos",
                       color=NEW_COLOR, radius=9, cluster=False).add_to(m)
            if service_m:
                for g in new.geometry:
                    folium.Circle([g.y, g.x], radius=float(service_m), color=NEW_COLOR, weight=1.5, fill=False).add_to(m)
            items.append((NEW_COLOR, "Hospital hipotético (qué pasa si)", "circle"))
    if demand is not None and len(demand):
        d = demand.to_crs(4326)
        data = [[round(g.y, 6), round(g.x, 6), html_escape(f"{n}: {_fmt(v)}"), html_escape(_fmt(v))]
                for g, n, v in zip(d.geometry, d.get("nombre", [""] * len(d)), d["demanda"])]
        PointLayer(data, name=f"Puntos de demanda ({len(d):,})", layer_id="sitios_demanda", color=DEMAND_COLOR,
                   radius=2, cluster=False, show=False).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    add_legend(m, "Sitios para nuevos hospitales", items)
    return m


def site_sheet_html(region: Region, row, used: list[str], *, demand_label: str, service_note: str,
                    weights: dict[str, float], absent: dict[str, str], n_sites: int) -> str:
    """A one-page, printable HTML sheet for one candidate site (self-contained, all text escaped)."""
    lat, lon = row.geometry.y, row.geometry.x
    rows = []
    for n in used:
        info = criterion_info(n)
        raw = row.get(n)
        raw_txt = "—" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else f"{raw:,.1f} {info.unidad}"
        rows.append(
            f"<tr><td>{html_escape(info.nombre)}</td><td>{html_escape(raw_txt)}</td>"
            f"<td>{'más' if info.sentido > 0 else 'menos'} es mejor</td><td>{weights.get(n, 0):g}</td>"
            f"<td>{row[f'aporte_{n}']:.1f}</td></tr>"
        )
    missing = "".join(f"<li>{html_escape(criterion_info(n).nombre)}: {html_escape(why)}</li>" for n, why in absent.items())
    title = f"Ficha del sitio {row['sitio']}"
    return f"""<!doctype html><html lang="es"><head><meta charset="utf-8"><title>{html_escape(title)}</title>
<style>body{{font:13px/1.4 sans-serif;max-width:800px;margin:24px auto}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:4px 6px;text-align:left}}th{{background:#f0f0f0}}.big{{font-size:28px;font-weight:700}}</style>
</head><body>
<h1>{html_escape(title)}</h1>
<p>{html_escape(region.nombre)} · {html_escape(row.get('etiqueta') or '')} · lat {lat:.6f}, lon {lon:.6f}
 · origen: {html_escape(row.get('origen', ''))}</p>
<p class="big">{row['puntaje']:.1f} / 100 — lugar {int(row['rango'])} de {n_sites}</p>
<table><tr><th>Criterio</th><th>Valor</th><th>Sentido</th><th>Peso</th><th>Aporte (puntos)</th></tr>{''.join(rows)}</table>
<p><b>Demanda:</b> {html_escape(demand_label)}<br><b>Estándar de servicio:</b> {html_escape(service_note)}</p>
{f'<p><b>Criterios ausentes</b> (no cuentan en el puntaje):</p><ul>{missing}</ul>' if missing else ''}
<p style="color:#666">Puntaje = media ponderada de criterios normalizados 0–1 (1 = mejor), × 100. Distancias en línea
recta en metros (EPSG:6372). {html_escape(ATTRIBUTION)}.</p>
</body></html>"""
