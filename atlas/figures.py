"""Key figures shown beside the map: our DENUE counts next to the plan's published ones."""

from __future__ import annotations

import pandas as pd

from .scian import CLASES, SUBRAMAS

__all__ = ["plan_comparison", "historic_centre_table", "class_counts", "published_figures", "summary_value"]


def class_counts(points: pd.DataFrame) -> pd.DataFrame:
    """Units per SCIAN class and sector: ``clase, nombre, sector, n`` (largest first)."""
    if points.empty:
        return pd.DataFrame(columns=["clase", "nombre", "sector", "n"])
    g = points.groupby(["clase", "sector"]).size().rename("n").reset_index()
    g["nombre"] = g["clase"].map(lambda c: CLASES.get(c) or SUBRAMAS.get(c) or "")
    return g[["clase", "nombre", "sector", "n"]].sort_values("n", ascending=False, ignore_index=True)


def plan_comparison(plan: dict, points: pd.DataFrame) -> pd.DataFrame:
    """For each class the plan quotes: the plan's private count and ours from DENUE.

    ``plan["clases"]`` maps a label to ``{codigos = [...], privado = N}``; codes are matched as prefixes,
    so a region at *subrama* level can quote 5-digit codes.
    """
    rows = []
    for label, spec in (plan.get("clases") or {}).items():
        codes = tuple(spec.get("codigos", []))
        ours = int(points["clase"].astype(str).str.startswith(codes).sum()) if codes else 0
        plan_n = spec.get("privado")
        rows.append(
            {
                "Clase": label,
                "Códigos SCIAN": ", ".join(codes),
                "Plan (DENUE 2023, privado)": plan_n,
                "DENUE actual": ours,
                "Diferencia": (ours - plan_n) if isinstance(plan_n, (int, float)) else None,
            }
        )
    return pd.DataFrame(rows)


def historic_centre_table(layers: dict, point_ids, labels: dict | None = None) -> pd.DataFrame:
    """Units inside and outside the historic centre, per layer, with the share inside."""
    rows = []
    labels = labels or {}
    for key in point_ids:
        gdf = layers.get(key)
        if gdf is None:
            continue
        inside = int(gdf["en_ciudad_historica"].sum())
        total = len(gdf)
        rows.append({"capa": labels.get(key, key), "dentro": inside, "fuera": total - inside, "total": total,
                     "% dentro": round(100 * inside / total, 1) if total else 0.0})
    return pd.DataFrame(rows)


def summary_value(summary: dict, key: str | None):
    """A value of the build summary by dotted key (``"capas.hospitales"``); ``None`` when absent."""
    if not key:
        return None
    node = summary
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def _fmt_value(value, unit: str) -> str:
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}".rstrip("0").rstrip(".")
    if unit == "%":
        return f"{text} %"
    if unit == "lugar":
        return f"{text}.º lugar"
    return f"{text} {unit}".strip()


def published_figures(plan: dict, summary: dict) -> pd.DataFrame:
    """The figures a region's source documents publish (``plan["cifras"]``) beside the atlas' own.

    Each entry has ``indicador``, ``valor``, ``unidad``, ``ambito`` (area the figure covers) and
    ``fuente``; ``nuestra`` names the build-summary figure shown next to it (dotted key) and ``nota``
    says why there is none. Values are returned as display text so mixed units share a column.

    Examples
    --------
    >>> plan = {"cifras": [{"indicador": "Hospitales", "valor": 15, "unidad": "unidades", "ambito": "ZML",
    ...                     "fuente": "taller 2015", "nuestra": "capas.hospitales"}]}
    >>> published_figures(plan, {"capas": {"hospitales": 5}})["Este atlas"].tolist()
    ['5 unidades']
    """
    rows = []
    for c in plan.get("cifras") or []:
        unit = str(c.get("unidad", ""))
        ours = summary_value(summary, c.get("nuestra"))
        nota = str(c.get("nota", ""))
        if c.get("nuestra") and ours is None and not nota:
            nota = f"La construcción no tiene «{c['nuestra']}»."
        rows.append({
            "Indicador": str(c.get("indicador", "")),
            "Ámbito": str(c.get("ambito", "")),
            "Publicado": _fmt_value(c["valor"], unit) if "valor" in c else "—",
            "Fuente": str(c.get("fuente", "")),
            "Este atlas": _fmt_value(ours, unit) if ours is not None else "—",
            "Nota": nota,
        })
    return pd.DataFrame(rows, columns=["Indicador", "Ámbito", "Publicado", "Fuente", "Este atlas", "Nota"])
