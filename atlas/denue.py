"""Read INEGI's DENUE bulk CSV files and validate every row into accepted points or a quarantine.

Nothing is lost: each input row ends either in the accepted frame (a point in EPSG:4326, with how it
was placed) or in the quarantine with a reason code, and ``accepted + quarantined == rows read``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import DataError
from .geo import MEXICO_BOUNDS
from .scian import resolve_codes

__all__ = [
    "REASONS",
    "PLACEMENTS",
    "DenueResult",
    "read_denue",
    "validate_establishments",
    "establishments_from_denue",
]

log = logging.getLogger(__name__)

#: quarantine reason code -> Spanish explanation shown to users
REASONS: dict[str, str] = {
    "sin_coordenadas": "Sin latitud/longitud ni clave de localidad para ubicarlo",
    "coordenadas_no_numericas": "Latitud o longitud no numérica",
    "coordenadas_cero": "Coordenadas (0, 0)",
    "fuera_de_mexico": "Coordenadas fuera de México",
    "fuera_de_region": "Fuera de los municipios de la región",
    "localidad_no_encontrada": "Sin coordenadas y la clave de localidad no existe en el ITER 2020",
    "sin_clase": "Sin código ni nombre de actividad (clase SCIAN)",
    "sin_nombre": "Sin nombre del establecimiento",
    "duplicado_exacto": "Fila idéntica a otra anterior",
    "duplicado_direccion": "Misma unidad que una fila anterior (mismo id, nombre, razón social, clase y coordenadas); solo cambia cómo está escrita la dirección",
}

#: how an accepted point was placed -> Spanish label
PLACEMENTS: dict[str, str] = {
    "denue": "Coordenadas del DENUE",
    "coordenadas_invertidas": "Latitud y longitud invertidas en el DENUE; corregidas",
    "localidad": "Sin coordenadas: ubicado en el punto de su localidad (ITER 2020)",
}

_REQUIRED_NAME = "nom_estab"
_CLASS_COLS = ("codigo_act", "nombre_act")
_COORD_COLS = ("latitud", "longitud")
_LOC_COLS = ("cve_ent", "cve_mun", "cve_loc")
# Street-address columns of the bulk file. Two rows equal in everything else (id included) and placed on
# the same coordinates are one unit whose address was typed twice (Torreón 2017: "VALDEZ CARILLO" vs
# "VALDEZ CARRILLO", or the two streets of a corner). Rows with distinct DENUE ids never match.
_ADDRESS_COLS = (
    "tipo_vial", "nom_vial", "tipo_v_e_1", "nom_v_e_1", "tipo_v_e_2", "nom_v_e_2", "tipo_v_e_3", "nom_v_e_3",
    "numero_ext", "letra_ext", "edificio", "edificio_e", "numero_int", "letra_int", "tipo_asent", "nomb_asent",
    "tipocencom", "nom_cencom", "num_local", "cod_postal",
)
# Column name variants seen in DENUE files over the years
_ALIASES = {
    "latitude": "latitud",
    "lat": "latitud",
    "longitude": "longitud",
    "lon": "longitud",
    "lng": "longitud",
    "nombre": "nom_estab",
    "nom_estab.": "nom_estab",
    "clee": "clee",
}


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """UTF-8 (with or without BOM) when it decodes, else Latin-1 (INEGI's bulk files)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        log.info("%s is not UTF-8; reading it as Latin-1", name)
        return raw.decode("latin-1"), "latin-1"


def _csv_members(path: Path) -> list[tuple[str, bytes]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
            # INEGI's ZIP keeps the data in conjunto_de_datos/ beside a dictionary whose file name can
            # also contain "denue_inegi"; prefer that folder, then the data file name, then any CSV
            data = (
                [n for n in names if "conjunto_de_datos/" in n.lower()]
                or [n for n in names if Path(n).name.lower().startswith("denue_inegi")]
                or names
            )
            if not data:
                raise DataError(f"{path}: the ZIP holds no CSV file (expected conjunto_de_datos/denue_inegi_*.csv).")
            return [(f"{path}!{n}", zf.read(n)) for n in sorted(data)]
    return [(str(path), path.read_bytes())]


def read_denue(path: Path | str) -> pd.DataFrame:
    """Read one DENUE CSV (or INEGI's ZIP) into strings with normalised column names.

    Accepts UTF-8 or Latin-1, upper/lower-case headers and any subset of the official columns as long
    as ``nom_estab``, a class (``codigo_act`` or ``nombre_act``) and a position (``latitud`` and
    ``longitud``, or ``cve_ent``, ``cve_mun`` and ``cve_loc``) are present. Adds ``fuente`` (file) and
    ``linea`` (line number in that file, header = 1).

    Raises
    ------
    DataError
        Missing or empty file, no data rows, or missing required columns; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: DENUE file not found.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the DENUE file is empty (0 bytes); expected a CSV with a header row.")
    frames = []
    for name, raw in _csv_members(path):
        text, encoding = _decode(raw, name)
        if not text.strip():
            raise DataError(f"{name}: the DENUE file is empty; expected a CSV with a header row.")
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.ParserError as exc:
            raise DataError(f"{name}: not a readable CSV ({exc}).") from exc
        df.columns = [_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in df.columns]
        _check_columns(df, name)
        if df.empty:
            raise DataError(f"{name}: the DENUE file has a header but no rows.")
        df = df.apply(lambda s: s.str.strip())
        df["fuente"] = name
        df["linea"] = np.arange(2, len(df) + 2)
        df.attrs["encoding"] = encoding
        frames.append(df)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out


def _check_columns(df: pd.DataFrame, name: str) -> None:
    cols = set(df.columns)
    missing = []
    if _REQUIRED_NAME not in cols:
        missing.append("nom_estab")
    if not cols & set(_CLASS_COLS):
        missing.append("codigo_act or nombre_act")
    if not (set(_COORD_COLS) <= cols or set(_LOC_COLS) <= cols):
        missing.append("latitud and longitud (or cve_ent, cve_mun and cve_loc)")
    if missing:
        raise DataError(
            f"{name}: missing DENUE column(s): {'; '.join(missing)}. Found: {', '.join(sorted(cols)) or 'none'}."
        )


@dataclass
class DenueResult:
    """Accepted establishments, quarantined rows and the counts that reconcile them."""

    accepted: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    read: int
    counts: dict[str, int] = field(default_factory=dict)


def _stable_id(df: pd.DataFrame) -> pd.Series:
    """A key from the record's own content, so the same record gets the same id in every build."""
    cols = [c for c in df.columns if c not in ("fuente", "linea", "id")]
    joined = df[cols[0]].astype(str).str.cat([df[c].astype(str) for c in cols[1:]], sep="\x1f")
    return pd.Series(
        ["h" + hashlib.sha1(s.encode("utf-8")).hexdigest()[:15] for s in joined.tolist()], index=df.index
    )


def _to_float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce")


def validate_establishments(
    raw: pd.DataFrame,
    *,
    region_geom,
    municipios: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame | None = None,
    region_codes: tuple[str, ...] | None = None,
    tolerance_m: float = 2000.0,
    crs_metric: str = "EPSG:6372",
) -> DenueResult:
    """Validate raw DENUE rows into accepted points and a quarantine.

    Parameters
    ----------
    raw
        Output of :func:`read_denue` (possibly several files concatenated).
    region_geom
        Union of the region's municipios (EPSG:4326).
    municipios
        Municipal polygons (``CVEGEO``, ``NOMGEO``) used to assign each point its municipio.
    localities
        ITER localities (``CVEGEO_LOC``) for rows without coordinates, or a zero-argument callable that
        loads them (called only when some row needs it); ``None`` quarantines such rows.
    region_codes
        CVEGEO of the region's municipios. A row that declares another municipio (``cve_ent`` +
        ``cve_mun``) is outside the region even when its point lies within ``tolerance_m`` of it.
    tolerance_m
        Points this close to the region (simplified polygons) still count as inside.
    """
    n = len(raw)
    df = raw.copy()
    for c in ("id", "codigo_act", "nombre_act", "latitud", "longitud", "cve_ent", "cve_mun", "cve_loc", "raz_social", "per_ocu"):
        if c not in df.columns:
            df[c] = ""
    reason = pd.Series("", index=df.index, dtype=object)
    placed = pd.Series("denue", index=df.index, dtype=object)

    data_cols = [c for c in raw.columns if c not in ("fuente", "linea")]
    dup = raw.duplicated(subset=data_cols, keep="first")
    reason[dup] = "duplicado_exacto"
    unit_cols = [c for c in data_cols if c not in _ADDRESS_COLS]
    if len(unit_cols) < len(data_cols) and set(_COORD_COLS) <= set(unit_cols):
        placed_by_coords = (raw["latitud"] != "") & (raw["longitud"] != "")
        same_unit = raw.duplicated(subset=unit_cols, keep="first") & placed_by_coords & ~dup
        reason[same_unit] = "duplicado_direccion"

    reason[(reason == "") & (df["nom_estab"] == "")] = "sin_nombre"
    df["clase"] = resolve_codes(df["codigo_act"], df["nombre_act"])
    # INEGI marks some SCIAN titles with a trailing "T" ("Hospitales generalesT"): a marker, not a letter
    df["nombre_act"] = df["nombre_act"].str.replace(r"(?<=[a-záéíóúñ])T$", "", regex=True)
    reason[(reason == "") & (df["codigo_act"] == "") & (df["nombre_act"] == "")] = "sin_clase"

    lat_txt, lon_txt = df["latitud"], df["longitud"]
    lat, lon = _to_float(lat_txt), _to_float(lon_txt)
    blank = (lat_txt == "") | (lon_txt == "")
    nonnum = ~blank & (lat.isna() | lon.isna())
    reason[(reason == "") & nonnum] = "coordenadas_no_numericas"
    zero = ~blank & ~nonnum & (lat == 0) & (lon == 0)
    reason[(reason == "") & zero] = "coordenadas_cero"

    # rows without coordinates: place them on their census locality when the key is there
    need_loc = (reason == "") & blank
    if need_loc.any():
        key = (
            df.loc[need_loc, "cve_ent"].str.zfill(2)
            + df.loc[need_loc, "cve_mun"].str.zfill(3)
            + df.loc[need_loc, "cve_loc"].str.zfill(4)
        )
        has_key = key.str.fullmatch(r"\d{9}") & (df.loc[need_loc, "cve_loc"] != "")
        reason[need_loc[need_loc].index[~has_key.to_numpy()]] = "sin_coordenadas"
        if callable(localities) and has_key.any():
            localities = localities()
        if localities is not None and has_key.any():
            lut = localities.drop_duplicates("CVEGEO_LOC").set_index("CVEGEO_LOC").geometry
            found = key[has_key].map(lambda k: lut.get(k))
            ok = found.notna() & found.map(lambda g: g is not None and not g.is_empty)
            idx_ok = found.index[ok.to_numpy()]
            lon[idx_ok] = [g.x for g in found[ok]]
            lat[idx_ok] = [g.y for g in found[ok]]
            placed[idx_ok] = "localidad"
            reason[found.index[~ok.to_numpy()]] = "localidad_no_encontrada"
        elif has_key.any():
            reason[key[has_key].index] = "localidad_no_encontrada"

    todo = reason == ""
    minx, miny, maxx, maxy = MEXICO_BOUNDS

    def _in_mexico(la, lo):
        return (lo >= minx) & (lo <= maxx) & (la >= miny) & (la <= maxy)

    metric_region = gpd.GeoSeries([region_geom], crs=4326).to_crs(crs_metric).buffer(tolerance_m).iloc[0]
    shapely.prepare(metric_region)

    def _in_region(la, lo):
        pts = gpd.GeoSeries(gpd.points_from_xy(lo, la), crs=4326).to_crs(crs_metric)
        return pd.Series(shapely.contains_xy(metric_region, pts.x.to_numpy(), pts.y.to_numpy()), index=la.index)

    la, lo = lat[todo], lon[todo]
    in_mx = _in_mexico(la, lo)
    in_reg = pd.Series(False, index=la.index)
    in_reg[in_mx] = _in_region(la[in_mx], lo[in_mx])
    # swapped latitude/longitude: fix only when the swapped point lands in the region
    bad = in_reg[~in_reg].index
    swapped_la, swapped_lo = lo[bad], la[bad]
    swap_ok = _in_mexico(swapped_la, swapped_lo)
    if swap_ok.any():
        hit = _in_region(swapped_la[swap_ok], swapped_lo[swap_ok])
        fixed = hit[hit].index
        lat[fixed], lon[fixed] = swapped_la[fixed], swapped_lo[fixed]
        placed[fixed] = "coordenadas_invertidas"
        in_reg[fixed] = True
        in_mx[fixed] = True
    if region_codes:
        declared = df["cve_ent"].str.zfill(2) + df["cve_mun"].str.zfill(3)
        other = declared.str.fullmatch(r"\d{5}") & ~declared.isin(region_codes) & (df["cve_mun"] != "")
        in_reg &= ~other[in_reg.index]
    reason[in_mx[~in_mx].index] = "fuera_de_mexico"
    reason[in_reg[in_mx & ~in_reg].index] = "fuera_de_region"

    ok = reason == ""
    acc = df.loc[ok].copy()
    acc["ubicacion"] = placed[ok]
    missing_id = acc["id"] == ""
    if missing_id.any():
        acc.loc[missing_id, "id"] = _stable_id(raw.loc[acc.index[missing_id.to_numpy()]]).to_numpy()
    geom = gpd.points_from_xy(lon[ok], lat[ok])
    acc = gpd.GeoDataFrame(acc, geometry=geom, crs=4326)
    # The municipio a row declares (INEGI assigns it on full-resolution boundaries) wins; the simplified
    # polygons only fill in rows that declare none. Rows declaring another municipio never get here.
    mun = municipios[["CVEGEO", "NOMGEO", "geometry"]]
    joined = gpd.sjoin(acc[["geometry"]], mun, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    declared = acc["cve_ent"].str.zfill(2) + acc["cve_mun"].str.zfill(3)
    known = declared.isin(set(mun["CVEGEO"])) & (acc["cve_mun"] != "")
    acc["cvegeo"] = declared.where(known, joined["CVEGEO"]).fillna("")
    names = dict(zip(mun["CVEGEO"], mun["NOMGEO"]))
    acc["municipio"] = acc["cvegeo"].map(names).fillna(acc.get("municipio", pd.Series("", index=acc.index)))

    quarantine = df.loc[~ok].copy()
    quarantine.insert(0, "motivo", reason[~ok])
    quarantine.insert(1, "detalle", reason[~ok].map(REASONS))
    counts = {
        "leidas": int(n),
        "aceptadas": int(ok.sum()),
        "en_cuarentena": int((~ok).sum()),
        "coordenadas_invertidas_corregidas": int((placed[ok] == "coordenadas_invertidas").sum()),
        "ubicadas_por_localidad": int((placed[ok] == "localidad").sum()),
    }
    assert counts["aceptadas"] + counts["en_cuarentena"] == n
    return DenueResult(accepted=acc.reset_index(drop=True), quarantine=quarantine.reset_index(drop=True), read=n, counts=counts)


def establishments_from_denue(
    paths, *, region_geom, municipios, localities=None, region_codes=None, crs_metric: str = "EPSG:6372"
) -> DenueResult:
    """Read one or more DENUE files and validate them together (duplicates across files included)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("No DENUE file given: expected at least one CSV or ZIP.")
    raws = [read_denue(p) for p in paths]
    raw = pd.concat(raws, ignore_index=True) if len(raws) > 1 else raws[0]
    return validate_establishments(raw, region_geom=region_geom, municipios=municipios, localities=localities, region_codes=region_codes, crs_metric=crs_metric)
