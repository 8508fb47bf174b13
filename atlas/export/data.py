"""The data behind an export: a GeoPackage of every layer and analysis result, a ZIP with GeoJSON per
layer, CSV tables, the quarantine and a metadata sheet (sources, editions, build date, settings).

Layers are written as built and filtered (EPSG:4326, the storage CRS); analysis results keep the
view's prefix (``densidad_clusteres``, ``influencia_bandas``, …); tables without geometry go in the
GeoPackage as attribute tables (``tabla_*``, ``cuarentena``, ``metadatos``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .. import __version__
from ..build import Atlas
from ..filters import Filters, filter_layers
from ..layers import ALL_LAYER
from ..maps.base import ATTRIBUTION
from .views import MapView, Progress, describe_filters

__all__ = ["metadata", "metadata_table", "export_layers", "export_tables", "write_gpkg", "gpkg_bytes", "data_zip_bytes", "slug"]


def slug(text: str, max_len: int = 48) -> str:
    """ASCII, lower-case, ``_``-separated: a safe layer or file name."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", t).strip("_")[:max_len] or "tabla"


def _jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def _file_info(path: Path) -> dict:
    p = Path(path)
    if not p.is_file():
        return {"archivo": p.name, "ruta": str(p), "disponible": False}
    st = p.stat()
    return {"archivo": p.name, "ruta": str(p), "bytes": st.st_size,
            "modificado": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).date().isoformat()}


def metadata(atlas: Atlas, filters: Filters, views: list[MapView] = ()) -> dict:
    """Sources (files with size and date; the edition is in each name), build date, settings, filters
    and each view's parameters and notes."""
    region = atlas.region
    s = atlas.summary or {}
    f = region.files
    inputs = [Path(p) for p in s.get("archivos_denue", [])] or list(region.denue_paths)
    others = [f.municipios, f.localidades, f.conapo_municipal, f.conapo_ageb, f.roads, f.ciudad_historica, f.ageb_polygons]
    return _jsonable({
        "producto": "Atlas de servicios de salud",
        "version": __version__,
        "exportado": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "capas_construidas": s.get("construido", ""),
        "region": {"id": region.id, "nombre": region.nombre, "municipios": list(region.municipios),
                   "crs_metrico": region.crs_metric, "crs_de_los_archivos": "EPSG:4326"},
        "fuentes": {
            "atribucion": ATTRIBUTION,
            "denue": s.get("fuente") or region.fuente,
            "archivos": [_file_info(p) for p in inputs] + [_file_info(region.path(o)) for o in others if o],
        },
        "filtros": {"texto": describe_filters(filters, atlas), **dataclasses.asdict(filters)},
        "filas": s.get("filas", {}),
        "cuarentena_por_motivo": s.get("cuarentena_por_motivo", {}),
        "vistas": {v.id: {"titulo": v.title, "disponible": v.available, "parametros": v.params, "notas": list(v.notes)}
                   for v in views},
        "configuracion": dataclasses.asdict(region),
    })


def metadata_table(meta: dict) -> pd.DataFrame:
    """The metadata flattened to ``clave, valor`` rows (a sheet anyone can open)."""
    rows = []

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else str(k), x)
        elif isinstance(v, list) and v and any(isinstance(x, (dict, list)) for x in v):
            for i, x in enumerate(v):
                walk(f"{prefix}[{i}]", x)
        else:
            rows.append({"clave": prefix, "valor": json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else str(v)})

    walk("", meta)
    return pd.DataFrame(rows, columns=["clave", "valor"])


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    """Columns a GeoPackage/CSV can hold: lists, dicts and other objects become text."""
    out = df.copy()
    for c in out.columns:
        if c == getattr(out, "_geometry_column_name", None):
            continue
        if pd.api.types.is_float_dtype(out[c]):
            # an open-ended band ("≥ 200 por km²") has an infinite upper bound: JSON has no Infinity
            out[c] = out[c].replace([np.inf, -np.inf], np.nan)
        elif out[c].dtype == object:
            out[c] = out[c].map(lambda v: v if v is None or isinstance(v, (str, int, float, bool)) else
                                json.dumps(_jsonable(v), ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else str(v))
    return out


def export_layers(atlas: Atlas, filters: Filters, views: list[MapView] = ()) -> dict[str, gpd.GeoDataFrame]:
    """Every atlas layer after the filters (names as built) and every view's spatial results."""
    point_ids = [s.id for s in atlas.specs.values() if s.is_points] + [ALL_LAYER]
    out = dict(filter_layers(atlas.layers, filters, point_ids))
    for v in views:
        for name, frame in v.results.items():
            if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
                out[name] = frame.to_crs(4326)
    return out


def export_tables(atlas: Atlas, filters: Filters, views: list[MapView] = ()) -> dict[str, pd.DataFrame]:
    """The views' tables and non-spatial results, keyed by a file-safe name."""
    out: dict[str, pd.DataFrame] = {}
    for v in views:
        for t in v.tables:
            out[f"tabla_{v.id}_{slug(t.title, 40)}"] = t.frame
        for name, frame in v.results.items():
            if not isinstance(frame, gpd.GeoDataFrame):
                out[name] = pd.DataFrame(frame)
    return out


def write_gpkg(path: Path | str, atlas: Atlas, filters: Filters = Filters(), views: list[MapView] = (), *,
               progress: Progress | None = None) -> Path:
    """One GeoPackage: layers, analysis results, tables, quarantine and metadata."""
    path = Path(path)
    if path.exists():
        path.unlink()
    layers = export_layers(atlas, filters, views)
    tables = export_tables(atlas, filters, views)
    tables["cuarentena"] = atlas.quarantine
    tables["metadatos"] = metadata_table(metadata(atlas, filters, views))
    total = len(layers) + len(tables)
    for i, (name, gdf) in enumerate(layers.items()):
        if progress:
            progress(i / total, f"GeoPackage: capa {name} ({len(gdf):,} filas)…")
        pyogrio.write_dataframe(_clean(gdf), path, layer=name, driver="GPKG", promote_to_multi=False)
    for j, (name, df) in enumerate(tables.items()):
        if progress:
            progress((len(layers) + j) / total, f"GeoPackage: tabla {name}…")
        pyogrio.write_dataframe(_clean(pd.DataFrame(df)).reset_index(drop=True), path, layer=name, driver="GPKG")
    if progress:
        progress(1.0, "GeoPackage listo.")
    return path


def gpkg_bytes(atlas: Atlas, filters: Filters = Filters(), views: list[MapView] = (), *, progress: Progress | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return write_gpkg(Path(tmp) / "atlas.gpkg", atlas, filters, views, progress=progress).read_bytes()


def data_zip_bytes(atlas: Atlas, filters: Filters = Filters(), views: list[MapView] = (), *, progress: Progress | None = None) -> bytes:
    """A ZIP: ``geojson/<capa>.geojson`` per layer, ``csv/<tabla>.csv``, ``cuarentena.csv``,
    ``metadatos.json``, ``metadatos.csv`` and ``LEEME.txt``."""
    layers = export_layers(atlas, filters, views)
    tables = export_tables(atlas, filters, views)
    meta = metadata(atlas, filters, views)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, (name, gdf) in enumerate(layers.items()):
            if progress:
                progress(i / (len(layers) + 1), f"GeoJSON: {name} ({len(gdf):,} elementos)…")
            zf.writestr(f"geojson/{name}.geojson", _clean(gdf).to_json(drop_id=True, ensure_ascii=False))
        for name, df in tables.items():
            zf.writestr(f"csv/{name}.csv", _clean(pd.DataFrame(df)).to_csv(index=False))
        zf.writestr("cuarentena.csv", atlas.quarantine.to_csv(index=False))
        zf.writestr("metadatos.json", json.dumps(meta, ensure_ascii=False, indent=2))
        zf.writestr("metadatos.csv", metadata_table(meta).to_csv(index=False))
        zf.writestr("LEEME.txt", _readme(atlas, filters, layers, tables))
    if progress:
        progress(1.0, "Datos listos.")
    return buf.getvalue()


def _readme(atlas: Atlas, filters: Filters, layers, tables) -> str:
    lines = [
        f"Atlas de servicios de salud {__version__} — {atlas.region.nombre}",
        f"Exportado el {dt.date.today():%d/%m/%Y}. Filtros: {describe_filters(filters, atlas)}.",
        "",
        "geojson/  una capa por archivo, EPSG:4326 (longitud, latitud).",
        *[f"  {k}.geojson  {len(v):,} elementos" for k, v in layers.items()],
        "csv/      tablas de las vistas (UTF-8).",
        *[f"  {k}.csv  {len(v):,} filas" for k, v in tables.items()],
        f"cuarentena.csv  {len(atlas.quarantine):,} filas del DENUE no usadas, cada una con su motivo.",
        "metadatos.json / metadatos.csv  fuentes, ediciones, fecha de construcción y configuración usada.",
        "",
        ATTRIBUTION + ".",
    ]
    return "\n".join(lines) + "\n"
