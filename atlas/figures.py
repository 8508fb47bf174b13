"""Key figures shown beside the map: our DENUE counts next to the plan's published ones."""

from __future__ import annotations

import pandas as pd

from .scian import CLASES, SUBRAMAS

__all__ = ["plan_comparison", "historic_centre_table", "class_counts"]


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
