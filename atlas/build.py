"""Build a region's atlas: DENUE → validated establishments → layers → ``atlas.gpkg`` + quarantine + summary.

``build_region`` is pure (returns an :class:`Atlas`); ``write_atlas`` and ``load_atlas`` handle the files
under ``<out>/<region>/``. ``load_atlas`` rebuilds only when the inputs, the configuration or the build
code changed (a fingerprint stored in ``summary.json``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from . import __version__
from ._errors import DataError
from .denue import REASONS, establishments_from_denue
from .geo import area_km2, localities_from_iter, municipalities_from_gpkg, region_polygon
from .historic import historic_zone, inside
from .layers import ALL_LAYER, LayerSpec, layers_from_establishments, load_layer_specs
from .scian import CLASES, SUBRAMAS
from .settings import CONFIG_DIR, LAYERS_DIR, PROJECT_ROOT, Region

__all__ = ["Atlas", "build_region", "default_out_dir", "fingerprint", "is_current", "load_atlas", "read_atlas", "write_atlas"]

log = logging.getLogger(__name__)

_BUILD_CODE = ("build.py", "denue.py", "layers.py", "historic.py", "scian.py", "geo.py", "settings.py")


def default_out_dir() -> Path:
    """``$ATLAS_BUILD_DIR`` or ``data/build`` in the project."""
    return Path(os.environ.get("ATLAS_BUILD_DIR") or PROJECT_ROOT / "data" / "build")


@dataclass
class Atlas:
    """A built region: layers (EPSG:4326), quarantined rows and the summary of the build."""

    region: Region
    layers: dict[str, gpd.GeoDataFrame]
    quarantine: pd.DataFrame
    summary: dict
    specs: dict[str, LayerSpec] = field(default_factory=dict)


def fingerprint(region: Region, denue_paths) -> dict:
    """What a build depends on: input files (size, mtime), config and layer files, build code."""
    h = hashlib.sha256()
    for p in sorted([CONFIG_DIR / f"{region.id}.toml", *LAYERS_DIR.glob("*.toml")]) + [
        Path(__file__).parent / n for n in _BUILD_CODE
    ]:
        h.update(p.read_bytes())
    inputs = []
    for p in [*denue_paths, region.path(region.files.municipios), region.path(region.files.localidades)]:
        st = Path(p).stat()
        inputs.append({"path": str(p), "bytes": st.st_size, "mtime": int(st.st_mtime)})
    h.update(json.dumps(inputs, sort_keys=True).encode())
    h.update(str(region.data_dir).encode())
    return {"hash": h.hexdigest()[:20], "inputs": inputs, "version": __version__}


def build_region(region: Region, denue_paths=None) -> Atlas:
    """Read the region's DENUE files (or ``denue_paths``), validate, classify and summarise.

    Examples
    --------
    >>> from atlas.settings import load_region
    >>> atlas = build_region(load_region("leon"))  # doctest: +SKIP
    >>> len(atlas.layers["hospitales"])  # doctest: +SKIP
    60
    """
    paths = [Path(p) for p in (denue_paths or region.denue_paths)]
    for p in paths:
        if not p.is_file():
            raise DataError(
                f"{p}: DENUE file not found. Download it with `atlas download --region {region.id}` "
                f"(INEGI, descarga masiva del DENUE) or pass --denue PATH."
            )
    municipios = municipalities_from_gpkg(region.path(region.files.municipios))
    geom = region_polygon(municipios, region.municipios)
    res = establishments_from_denue(
        paths, region_geom=geom, municipios=municipios,
        # the 189,432 localities are read only when some row has no coordinates
        localities=lambda: localities_from_iter(region.path(region.files.localidades)),
        region_codes=region.municipios, crs_metric=region.crs_metric,
    )
    specs = load_layer_specs()
    zone = historic_zone(region, res.accepted)
    est = res.accepted.copy()
    est["en_ciudad_historica"] = inside(est, zone)
    layers = layers_from_establishments(est, specs)
    layers["ciudad_historica"] = zone
    summary = _summary(region, layers, res, paths, zone)
    summary["municipios"] = _municipios(region, municipios)
    summary["fingerprint"] = fingerprint(region, paths)
    return Atlas(region=region, layers=layers, quarantine=res.quarantine, summary=summary, specs=specs)


def _class_name(code: str) -> str:
    return CLASES.get(code) or SUBRAMAS.get(code) or ""


def _municipios(region: Region, municipios: gpd.GeoDataFrame) -> list[dict]:
    """The region's municipios (which set is used) with name, 2020 population and metropolitan flag."""
    m = municipios.set_index("CVEGEO")
    return [
        {
            "cvegeo": c,
            "nombre": str(m.at[c, "NOMGEO"]) if c in m.index and "NOMGEO" in m.columns else "",
            "poblacion_2020": int(m.at[c, "POBTOT"]) if c in m.index and "POBTOT" in m.columns else None,
            "metropolitano": c in region.municipios_metropolitanos,
        }
        for c in region.municipios
    ]


def _summary(region: Region, layers, res, paths, zone) -> dict:
    point_ids = [k for k in layers if k not in ("ciudad_historica",)]
    allest = layers[ALL_LAYER]
    clase = allest["clase"]
    health = allest[allest["capa"].isin(["hospitales", "unidades_auxiliares"])]
    por_clase = (
        allest[allest["capa"] != ""].groupby(["capa", "clase"]).size().rename("n").reset_index()
    )
    zone_km2 = float(area_km2(zone).sum())
    h = layers["hospitales"]
    return {
        "region": region.id,
        "nombre": region.nombre,
        "construido": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "fuente": region.fuente,
        "archivos_denue": [str(p) for p in paths],
        "detalle_scian": region.detalle_scian,
        "cobertura_parcial": region.cobertura_parcial,
        "filas": res.counts,
        "cuarentena_por_motivo": {
            k: int(v) for k, v in res.quarantine["motivo"].value_counts().items()
        } if len(res.quarantine) else {},
        "motivos": REASONS,
        "capas": {k: int(len(layers[k])) for k in point_ids},
        "unidades_salud": {
            "621_623": int(clase.str.match(r"^62[123]").sum()),
            "621_624": int(clase.str.match(r"^62[1234]").sum()),
            "hospitales_y_auxiliares": int(len(health)),
        },
        "por_clase": [
            {"capa": r.capa, "clase": r.clase, "nombre": _class_name(r.clase), "n": int(r.n)}
            for r in por_clase.itertuples()
        ],
        "por_sector": {
            k: {s: int(n) for s, n in layers[k]["sector"].value_counts().items()}
            for k in point_ids if k != ALL_LAYER
        },
        "hospitales_por_tipo_y_sector": [
            {"tipo": t, "sector": s, "n": int(n)} for (t, s), n in h.groupby(["tipo", "sector"]).size().items()
        ],
        # False when the classes do not say public or private (DENUE subramas): counts by sector are then
        # "sin distinguir" and must not be read as zero public or private hospitals
        "sector_distinguible": bool((h["sector"] != "sin distinguir").any()) if len(h) else None,
        "ciudad_historica": {
            "nombre": str(zone["nombre"].iloc[0]),
            "aproximada": bool(zone["aproximada"].iloc[0]),
            "fuente": str(zone["fuente"].iloc[0]),
            "area_km2": round(zone_km2, 3),
            "dentro": {k: int(layers[k]["en_ciudad_historica"].sum()) for k in point_ids},
        },
    }


def write_atlas(atlas: Atlas, out_dir: Path | str | None = None) -> Path:
    """Write ``<out>/<region>/atlas.gpkg`` (one layer per map layer), ``quarantine.csv``, ``summary.json``.

    Files are written to a temporary directory and moved into place, so a crash never leaves a half
    build that :func:`load_atlas` would trust.
    """
    out = Path(out_dir or default_out_dir()) / atlas.region.id
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{atlas.region.id}-", dir=out.parent))
    gpkg = tmp / "atlas.gpkg"
    for name, gdf in atlas.layers.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG", promote_to_multi=False, use_arrow=True)
    atlas.quarantine.to_csv(tmp / "quarantine.csv", index=False, encoding="utf-8")
    (tmp / "summary.json").write_text(json.dumps(atlas.summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if out.exists():
        old = out.with_name(f".{out.name}-old")
        if old.exists():
            _rmtree(old)
        out.rename(old)
        tmp.rename(out)
        _rmtree(old)
    else:
        tmp.rename(out)
    return out


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def read_atlas(region: Region, out_dir: Path | str | None = None) -> Atlas:
    """Read a written build (no staleness check)."""
    out = Path(out_dir or default_out_dir()) / region.id
    gpkg = out / "atlas.gpkg"
    if not gpkg.is_file():
        raise DataError(f"{gpkg}: no build for region {region.id}; run `atlas build --region {region.id}`.")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    layers = {}
    for name, _ in pyogrio.list_layers(gpkg):
        gdf = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True)
        if "en_ciudad_historica" in gdf.columns:
            gdf["en_ciudad_historica"] = gdf["en_ciudad_historica"].astype(bool)
        for col in ("clase", "codigo_act", "capa", "tipo", "sector", "cvegeo", "raz_social", "per_ocu", "id"):
            if col in gdf.columns:
                gdf[col] = gdf[col].fillna("").astype(str)
        layers[name] = gdf
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    return Atlas(region=region, layers=layers, quarantine=quarantine, summary=summary, specs=load_layer_specs())


def is_current(region: Region, out_dir: Path | str | None = None, denue_paths=None) -> bool:
    """Whether the written build matches the current inputs, config and code."""
    out = Path(out_dir or default_out_dir()) / region.id
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    paths = [Path(p) for p in (denue_paths or region.denue_paths)]
    try:
        return summary.get("fingerprint", {}).get("hash") == fingerprint(region, paths)["hash"]
    except FileNotFoundError:
        return False


def load_atlas(region: Region, out_dir: Path | str | None = None) -> Atlas:
    """The region's atlas, rebuilt and written first when missing or stale."""
    if not is_current(region, out_dir):
        log.info("building %s (missing or stale)", region.id)
        atlas = build_region(region)
        write_atlas(atlas, out_dir)
        return atlas
    return read_atlas(region, out_dir)
