"""Candidate sites uploaded as CSV or GeoJSON: validated row by row, never a crash.

Every problem is collected with its line (CSV: the line in the file, header = line 1; GeoJSON: the
feature number) and returned beside the rows that passed, so the user can fix the file. Only
problems with the file as a whole (too large, unreadable, no coordinate columns, a CRS that is not
WGS84) raise :class:`~atlas._errors.DataError`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass, field

import geopandas as gpd
import shapely

from ._errors import DataError
from .sites import candidates_from_points

__all__ = ["Upload", "candidates_from_upload"]

log = logging.getLogger(__name__)

_LAT = ("lat", "latitud", "latitude", "y")
_LON = ("lon", "lng", "long", "longitud", "longitude", "x")
_LABEL = ("nombre", "etiqueta", "name", "label", "sitio")
_WGS84 = {"EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "CRS84", "OGC:CRS84"}


@dataclass
class Upload:
    """Accepted candidates (EPSG:4326, ``origen="archivo"``) and the rejected rows with reasons."""

    candidates: gpd.GeoDataFrame
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def report(self) -> str:
        if not self.problems:
            return f"{len(self.candidates)} sitios aceptados."
        lines = [f"{len(self.candidates)} sitios aceptados; {len(self.problems)} filas rechazadas:"]
        lines += [f"  línea {n}: {why}" for n, why in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  … y {len(self.problems) - 50} más.")
        return "\n".join(lines)


def candidates_from_upload(
    data: bytes | str,
    filename: str,
    *,
    region_polygon=None,
    max_rows: int = 5000,
    max_bytes: int = 5 * 2**20,
) -> Upload:
    """Validate an uploaded CSV (``lat``/``lon`` columns, or ``latitud``/``longitud``…) or
    GeoJSON (Point features in WGS84) of candidate sites.

    Parameters
    ----------
    data
        The file's content.
    filename
        Its name; the extension (``.csv``, ``.geojson``/``.json``) picks the reader.
    region_polygon
        Shapely polygon in EPSG:4326; rows outside it are rejected ("fuera de la región").
    max_rows, max_bytes
        Size limits; a file over them is refused as a whole.

    Examples
    --------
    >>> up = candidates_from_upload("lat,lon\\n21.12,-101.68\\n91,-101\\n", "s.csv")
    >>> len(up.candidates), up.problems
    (1, [(3, 'latitud 91.0 fuera de −90…90')])
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise DataError(f"{filename}: {len(raw) / 2**20:.1f} MB, above the {max_bytes / 2**20:.1f} MB limit.")
    if not raw.strip():
        raise DataError(f"{filename}: the file is empty.")
    name = filename.lower()
    if name.endswith(".csv") or name.endswith(".txt"):
        rows, problems = _read_csv(raw, filename, max_rows)
    elif name.endswith(".geojson") or name.endswith(".json"):
        rows, problems = _read_geojson(raw, filename, max_rows)
    else:
        raise DataError(f'{filename}: extension not supported; expected ".csv" or ".geojson".')
    kept = []
    for line, lat, lon, label in rows:
        if region_polygon is not None and not region_polygon.covers(shapely.Point(lon, lat)):
            problems.append((line, f"({lat:.5f}, {lon:.5f}) fuera de la región"))
            continue
        kept.append((line, lat, lon, label))
    problems.sort()
    cands = candidates_from_points(
        [k[1] for k in kept], [k[2] for k in kept], origen="archivo",
        etiquetas=[k[3] for k in kept], prefix="archivo",
    )
    cands["linea"] = [k[0] for k in kept]
    cands["sitio"] = [f"archivo-{k[0]}" for k in kept]
    return Upload(cands, problems)


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError("the file is neither UTF-8 nor Latin-1 text.")  # pragma: no cover (latin-1 decodes all)


def _pick(cols: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.strip().lower(): c for c in cols}
    return next((low[n] for n in names if n in low), None)


def _coord(value, what: str, lo: float, hi: float) -> tuple[float | None, str | None]:
    text = str(value).strip().replace(",", ".") if value is not None else ""
    if not text:
        return None, f"{what} vacía"
    try:
        v = float(text)
    except ValueError:
        return None, f"{what} {value!r} no es un número"
    if not math.isfinite(v):
        return None, f"{what} {value!r} no es finita"
    if not lo <= v <= hi:
        return None, f"{what} {v} fuera de {'−' if lo < 0 else ''}{abs(lo):g}…{hi:g}"
    return v, None


def _check_pair(line, lat_v, lon_v, label, rows, problems) -> None:
    lat, e1 = _coord(lat_v, "latitud", -90, 90)
    lon, e2 = _coord(lon_v, "longitud", -180, 180)
    if e1 or e2:
        problems.append((line, "; ".join(e for e in (e1, e2) if e)))
        return
    rows.append((line, lat, lon, label))


def _read_csv(raw: bytes, filename: str, max_rows: int):
    text = _decode(raw)
    # the header decides the delimiter: csv.Sniffer is fooled by decimal commas in "21,12;-101,68"
    first = text.split("\n", 1)[0]
    delim = max((";", "\t", ","), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{filename}: the file is empty.") from None
    except csv.Error as exc:
        raise DataError(f"{filename}: not a readable CSV ({exc}).") from None
    lat_c, lon_c = _pick(header, _LAT), _pick(header, _LON)
    if lat_c is None or lon_c is None:
        raise DataError(
            f"{filename}: expected latitude and longitude columns (e.g. lat, lon or latitud, longitud); "
            f"found {', '.join(header) or 'none'}."
        )
    li, oi = header.index(lat_c), header.index(lon_c)
    label_c = _pick(header, _LABEL)
    ni = header.index(label_c) if label_c else None
    rows, problems = [], []
    n = 0
    try:
        records = list(enumerate(reader, start=2))
    except csv.Error as exc:  # e.g. a field over the csv module's size limit: the file as a whole is bad
        raise DataError(f"{filename}: not a readable CSV ({exc}).") from None
    for line_no, rec in records:
        if not any(cell.strip() for cell in rec):
            continue
        n += 1
        if n > max_rows:
            raise DataError(f"{filename}: more than {max_rows} rows; split the file or raise sites.max_upload_rows.")
        if len(rec) != len(header):
            problems.append((line_no, f"{len(rec)} columnas; se esperaban {len(header)}"))
            continue
        label = rec[ni].strip() if ni is not None else ""
        _check_pair(line_no, rec[li], rec[oi], label, rows, problems)
    return rows, problems


def _read_geojson(raw: bytes, filename: str, max_rows: int):
    try:
        doc = json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        raise DataError(f"{filename}: not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise DataError(f'{filename}: expected a GeoJSON FeatureCollection; got type {doc.get("type") if isinstance(doc, dict) else type(doc).__name__!r}.')
    crs_doc = doc.get("crs")
    props = crs_doc.get("properties") if isinstance(crs_doc, dict) else None
    crs = props.get("name") if isinstance(props, dict) else None
    if crs is not None and not (isinstance(crs, str) and crs in _WGS84):
        raise DataError(f"{filename}: CRS {crs!r}; GeoJSON must be WGS84 lon/lat (EPSG:4326). Reproject it first.")
    if doc["type"] == "FeatureCollection" and "features" not in doc:
        raise DataError(f"{filename}: the FeatureCollection has no 'features' list.")
    feats = doc["features"] if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(feats, list):
        raise DataError(f"{filename}: 'features' is not a list.")
    if len(feats) > max_rows:
        raise DataError(f"{filename}: {len(feats)} features, above the {max_rows} limit (sites.max_upload_rows).")
    rows, problems = [], []
    for i, f in enumerate(feats, start=1):
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            problems.append((i, f"geometría {geom.get('type') if isinstance(geom, dict) else geom!r}; se esperaba Point"))
            continue
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            problems.append((i, f"coordenadas {coords!r} no son [lon, lat]"))
            continue
        props = f.get("properties") or {}
        label = next((str(props[k]) for k in props if str(k).lower() in _LABEL), "") if isinstance(props, dict) else ""
        _check_pair(i, coords[1], coords[0], label, rows, problems)
    return rows, problems

