"""Basemaps for static exports: the project's own layers offline, web tiles when they can be fetched.

:func:`context_from_region` reads, for a bounding box only, the municipal boundaries
(``files.municipios``) and the Natural Earth roads (``files.roads``) of the region's data; this is
the basemap of every export and it needs no network. :func:`tiles_image` tries a light web basemap
(CARTO Positron, © OpenStreetMap contributors) with a short timeout and returns ``None`` on any
network error, so an export never fails or hangs for lack of tiles: it falls back to the offline
basemap and says so in the footer.
"""

from __future__ import annotations

import io
import logging
import math
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj

from .._errors import DataError

__all__ = ["Context", "TILES_ATTRIBUTION", "TILES_URL", "context_from_region", "tiles_image"]

log = logging.getLogger(__name__)

#: a light basemap that keeps the thematic layers readable; {s} is one of a–d
TILES_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = "Mapa base: © OpenStreetMap contributors, © CARTO"
USER_AGENT = "atlas-salud/0.1 (exportación de mapas; +https://www.inegi.org.mx/app/mapa/denue/)"
#: never ask a tile server for more than this many tiles for one image
MAX_TILES = 48


@dataclass(frozen=True, eq=False)
class Context:
    """Offline basemap layers (EPSG:4326) for one bounding box."""

    municipios: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    #: CVEGEO of the region's municipios (drawn with a stronger outline)
    region_codes: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _read_bbox(path, bbox, what: str) -> tuple[gpd.GeoDataFrame | None, str]:
    try:
        gdf = pyogrio.read_dataframe(path, bbox=bbox)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        return None, f"sin {what} ({exc})"
    if gdf.crs is None:
        raise DataError(f"{path}: {what} without a CRS; expected EPSG:4326.")
    return gdf.to_crs(4326), ""


def context_from_region(region, bounds: tuple[float, float, float, float]) -> Context:
    """Municipal boundaries and roads intersecting ``bounds`` (degrees), read from the region's files.

    A missing file is not an error: the layer is empty and ``notes`` says which one is missing.
    """
    notes = []
    munis, why = _read_bbox(region.path(region.files.municipios), bounds, "límites municipales")
    if munis is None:
        notes.append(why)
        munis = gpd.GeoDataFrame({"CVEGEO": [], "NOMGEO": [], "POBTOT": []}, geometry=[], crs=4326)
    else:
        cols = {c: c.upper() for c in munis.columns if c != "geometry"}
        munis = munis.rename(columns=cols)
    roads, why = _read_bbox(region.path(region.files.roads), bounds, "carreteras")
    if roads is None:
        notes.append(why)
        roads = gpd.GeoDataFrame({"type": []}, geometry=[], crs=4326)
    return Context(munis, roads, tuple(region.municipios), tuple(notes))


# --------------------------------------------------------------------------- web tiles

def _tile_xy(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 2**z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def _fetch(url: str, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (https tile URL from settings)
        return resp.read()


def tiles_image(
    bounds_metric: tuple[float, float, float, float],
    crs: str,
    width_px: int,
    height_px: int,
    *,
    url: str = TILES_URL,
    timeout: float = 4.0,
) -> np.ndarray | None:
    """A web basemap warped onto ``bounds_metric`` of ``crs``, as an RGB(A) array, or ``None`` offline.

    Tiles (Web Mercator) are fetched at the zoom whose pixels match the output, stitched and
    resampled bilinearly onto the metric grid (row 0 = north). The first network error aborts the
    whole image: a half-fetched basemap would look like missing data.
    """
    from PIL import Image
    from scipy.ndimage import map_coordinates

    xmin, ymin, xmax, ymax = bounds_metric
    to_ll = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    # corners and edge midpoints: the metric box is not a lon/lat box
    xs = np.array([xmin, xmax, xmin, xmax, (xmin + xmax) / 2, (xmin + xmax) / 2, xmin, xmax])
    ys = np.array([ymin, ymin, ymax, ymax, ymin, ymax, (ymin + ymax) / 2, (ymin + ymax) / 2])
    lon, lat = to_ll.transform(xs, ys)
    lon0, lon1, lat0, lat1 = lon.min(), lon.max(), lat.min(), lat.max()
    if not (-85 < lat0 < lat1 < 85):
        return None
    z = 18
    while z > 1:
        x0, y1 = _tile_xy(lon0, lat0, z)
        x1, y0 = _tile_xy(lon1, lat1, z)
        if (x1 - x0) * 256 <= 1.3 * width_px and (math.floor(x1) - math.floor(x0) + 1) * (math.floor(y1) - math.floor(y0) + 1) <= MAX_TILES:
            break
        z -= 1
    tx0, tx1, ty0, ty1 = math.floor(x0), math.floor(x1), math.floor(y0), math.floor(y1)
    mosaic = np.zeros(((ty1 - ty0 + 1) * 256, (tx1 - tx0 + 1) * 256, 3), dtype=np.uint8)
    for tx in range(tx0, tx1 + 1):
        for ty in range(ty0, ty1 + 1):
            tile_url = url.format(s="abcd"[(tx + ty) % 4], z=z, x=tx, y=ty)
            try:
                data = _fetch(tile_url, timeout)
                img = Image.open(io.BytesIO(data)).convert("RGB")
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.info("basemap tiles unavailable (%s): using the offline basemap", exc)
                return None
            mosaic[(ty - ty0) * 256:(ty - ty0 + 1) * 256, (tx - tx0) * 256:(tx - tx0 + 1) * 256] = np.asarray(img)[:256, :256]
    # output pixel centres (row 0 north) → lon/lat → fractional tile pixel
    gx = xmin + (np.arange(width_px) + 0.5) * (xmax - xmin) / width_px
    gy = ymax - (np.arange(height_px) + 0.5) * (ymax - ymin) / height_px
    mx, my = np.meshgrid(gx, gy)
    lon_g, lat_g = to_ll.transform(mx.ravel(), my.ravel())
    n = 2**z
    px = ((np.asarray(lon_g) + 180.0) / 360.0 * n - tx0) * 256 - 0.5
    py = ((1.0 - np.arcsinh(np.tan(np.radians(lat_g))) / np.pi) / 2.0 * n - ty0) * 256 - 0.5
    out = np.empty((height_px, width_px, 3), dtype=np.uint8)
    for c in range(3):
        out[..., c] = map_coordinates(mosaic[..., c], [py, px], order=1, mode="nearest").reshape(height_px, width_px)
    return out
