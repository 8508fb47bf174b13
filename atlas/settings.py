"""Region settings: one frozen object per region, loaded from ``config/<region>.toml``.

Every key is validated: an unknown key, a missing required key or a value of the wrong type is a
:class:`~atlas._errors.ConfigError` that names the file, the key and what was expected. Settings are
passed explicitly to the functions that need them; there are no mutable module globals.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ConfigError

__all__ = [
    "PROJECT_ROOT",
    "CONFIG_DIR",
    "LAYERS_DIR",
    "Region",
    "available_regions",
    "default_data_dir",
    "load_region",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
LAYERS_DIR = PROJECT_ROOT / "layers"


@dataclass(frozen=True)
class DataFiles:
    """Input files, relative to the data directory unless absolute."""

    denue: tuple[str, ...]
    municipios: str = "geo/municipios_2020.gpkg"
    localidades: str = "geo/iter_2020_localidades.csv.gz"
    conapo_municipal: str = "geo/conapo_marginacion_municipal_2020.csv"
    conapo_ageb: str = "geo/conapo_marginacion_urbana_ageb_2020.csv"
    roads: str = "roads/ne10m_roads_mexico.geojson"
    #: optional official polygon of the historic centre (GeoJSON/GPKG); empty = built approximation
    ciudad_historica: str = ""
    #: optional INEGI AGEB polygons (urban AGEBs) for local demand; empty = not available
    ageb_polygons: str = ""


@dataclass(frozen=True)
class Download:
    """Where the official DENUE bulk files come from (INEGI "descarga masiva")."""

    #: URL pattern; ``{cve_ent}`` is replaced by the two-digit state code
    denue_url: str = "https://www.inegi.org.mx/contenidos/masiva/denue/denue_{cve_ent}_csv.zip"
    states: tuple[str, ...] = ()


@dataclass(frozen=True)
class Landmark:
    """A named place used to draw the approximate historic-centre polygon."""

    nombre: str
    #: regular expression matched against DENUE ``nom_estab`` inside the region
    patron: str
    #: fallback position when DENUE has no match
    lat: float
    lon: float


@dataclass(frozen=True)
class Historic:
    nombre: str = "Ciudad Histórica"
    landmarks: tuple[Landmark, ...] = ()
    #: buffer around the landmarks' hull, metres
    buffer_m: float = 200.0
    nota: str = ""


@dataclass(frozen=True)
class Density:
    """Defaults for the density, cluster and hot-spot analyses."""

    bandwidth_m: float = 500.0
    cell_m: float = 100.0
    h3_resolution: int = 8
    dbscan_eps_m: float = 250.0
    dbscan_min_points: int = 15
    hdbscan_min_cluster_size: int = 25
    #: HDBSCAN min_samples; 0 = same as min_cluster_size
    hdbscan_min_samples: int = 0
    hotspot_permutations: int = 999
    hotspot_fdr: float = 0.05
    #: Gi* neighbourhood in H3 steps (1 = the six adjacent hexagons)
    hotspot_ring: int = 1
    hotspot_seed: int = 12345
    #: a hexagon is part of the urban footprint (study area of hot spots and city density) when it
    #: holds at least this many establishments of any sector; enclosed gaps are filled
    footprint_min_establishments: int = 1
    lq_min_establishments: int = 20
    #: percentile of hexagon LQs a "strong" cluster must reach (U.S. Cluster Mapping: 75)
    lq_strong_percentile: float = 75.0
    #: SCIAN prefixes counted as health units (621 ambulatory, 622 hospitals, 623 residential)
    health_prefixes: tuple[str, ...] = ("621", "622", "623")
    #: SCIAN prefixes the national share counts (sector 62 includes 624 social assistance)
    national_share_prefixes: tuple[str, ...] = ("621", "622", "623", "624")
    #: national shares of health establishments / employment (Censo Económico 2019)
    national_share_units: float = 0.0394
    national_share_employment: float = 0.0147
    national_share_source: str = "INEGI, Censos Económicos 2019"
    #: concave hull ratio of cluster polygons (0 tight … 1 convex) and metres added around them
    concave_ratio: float = 0.3
    cluster_buffer_m: float = 50.0
    #: contour levels in units per km²; empty = automatic round levels
    contour_levels: tuple[float, ...] = ()


@dataclass(frozen=True)
class Referencia:
    """A published road distance/time from the region's centre, for calibrating the network."""

    destino: str
    lat: float
    lon: float
    #: road km (0 = not published)
    km: float = 0.0
    #: driving minutes in light traffic (0 = not published)
    minutos: float = 0.0
    #: where the figure comes from (publisher, date, URL)
    fuente: str = ""


@dataclass(frozen=True)
class Catchment:
    """Road travel bands around the region's origin."""

    minutes: tuple[int, ...] = (60, 120, 180)
    radius_km: float = 300.0
    #: km/h per Natural Earth road ``type``; types not listed use ``default_speed_kmh``
    speeds_kmh: dict[str, float] = field(default_factory=dict)
    default_speed_kmh: float = 60.0
    access_speed_kmh: float = 30.0
    circuity: float = 1.3
    snap_tolerance_m: float = 1000.0
    #: origin: "hospitales" (the region's hospitals) or "LAT,LON"
    origin: str = "hospitales"
    #: vertices closer than this are one network node (metres)
    merge_m: float = 25.0
    #: longest edge after densifying the roads (metres; 0 keeps the source vertices)
    segment_m: float = 2000.0
    #: a point reaches the network through the best of its k nearest nodes
    access_nodes: int = 8
    #: km/h per OSM ``highway`` class for ``network_from_osm`` when ``maxspeed`` is missing
    osm_speeds_kmh: dict[str, float] = field(default_factory=dict)
    #: CONAPO marginalisation grades counted as "mercado potencial" (proxy for ability to pay)
    mercado_grados: tuple[str, ...] = ("Muy bajo", "Bajo")
    #: published distances/times from the region's centre used to calibrate speeds and circuity
    referencias: tuple[Referencia, ...] = ()


@dataclass(frozen=True)
class Sites:
    """Site screening for new hospitals (see docs/sites.md)."""

    #: H3 resolution of the regular candidate grid (8 ≈ 0.74 km² per hexagon)
    h3_resolution: int = 8
    #: where the grid goes: "urbana" (urban mask) or "municipio" (the whole region)
    area: str = "urbana"
    #: optional INEGI locality polygon files (AGLOC, one per municipio); urban ones in the region form
    #: the mask. Empty = mask derived from the data (H3 cells with >= urban_min_establishments of DENUE)
    urban_mask: tuple[str, ...] = ()
    urban_min_establishments: int = 5
    service_km: float = 5.0
    k: int = 3
    synergy_radius_m: float = 1000.0
    competition_radius_m: float = 2000.0
    #: criterion name -> weight (>= 0); unlisted criteria keep their default weight
    weights: dict[str, float] = field(default_factory=dict)
    #: "minmax" or "rango" (percentile rank)
    normalisation: str = "minmax"
    #: proxy demand: localities of at least this population are spread over H3 cells of this resolution
    demand_resolution: int = 9
    split_min_pob: int = 50000
    #: H3 resolution at which the regional reach (road minutes) is computed, then shared by child cells
    reach_resolution: int = 6
    solver_time_limit_s: float = 60.0
    max_upload_rows: int = 5000
    max_upload_mb: float = 5.0


@dataclass(frozen=True)
class Region:
    """Everything the atlas knows about one region. Build with :func:`load_region`."""

    id: str
    nombre: str
    #: five-digit CVEGEO of the municipios that make up the region
    municipios: tuple[str, ...]
    center: tuple[float, float]
    zoom: int
    files: DataFiles
    data_dir: Path
    #: municipios of the metropolitan area (catchment group 1); defaults to ``municipios``
    municipios_metropolitanos: tuple[str, ...] = ()
    crs_metric: str = "EPSG:6372"
    #: "clase" (6-digit SCIAN) or "subrama" (5-digit, e.g. DENUE 2017 extracts)
    detalle_scian: str = "clase"
    #: non-empty when the region's DENUE covers only part of it; shown as a banner
    cobertura_parcial: str = ""
    fuente: str = ""
    download: Download = Download()
    ciudad_historica: Historic = Historic()
    density: Density = Density()
    catchment: Catchment = Catchment()
    sites: Sites = Sites()
    #: published figures of the region's plan (free-form, shown beside ours)
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def states(self) -> tuple[str, ...]:
        """Two-digit state codes covered by the region's municipios."""
        return tuple(sorted({m[:2] for m in self.municipios}))

    def path(self, relative: str) -> Path:
        """Resolve a configured file against the data directory."""
        p = Path(relative)
        return p if p.is_absolute() else self.data_dir / p

    @property
    def denue_paths(self) -> tuple[Path, ...]:
        return tuple(self.path(p) for p in self.files.denue)


def default_data_dir() -> Path:
    """``$ATLAS_DATA_DIR``, else ``../shared/data`` beside the project when it exists, else ``data/``."""
    env = os.environ.get("ATLAS_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared.resolve()
    return PROJECT_ROOT / "data"


def available_regions(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Region ids that have a ``config/<id>.toml``."""
    return sorted(p.stem for p in Path(config_dir).glob("*.toml"))


def load_region(
    region: str, *, data_dir: Path | str | None = None, config_dir: Path = CONFIG_DIR
) -> Region:
    """Load and validate ``config/<region>.toml``.

    Parameters
    ----------
    region
        Region id, e.g. ``"leon"``.
    data_dir
        Overrides ``$ATLAS_DATA_DIR`` and the default data directory.

    Examples
    --------
    >>> load_region("leon").municipios
    ('11020',)
    """
    path = Path(config_dir) / f"{region}.toml"
    if not path.is_file():
        known = ", ".join(available_regions(config_dir)) or "none"
        raise ConfigError(f'Region "{region}" is unknown: expected one of {known} (no {path}).')
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc
    if data_dir is None:
        data_dir = raw.pop("data_dir", None) or default_data_dir()
    else:
        raw.pop("data_dir", None)
    raw["data_dir"] = Path(data_dir).expanduser().resolve()
    raw.setdefault("id", region)
    reg = _build(Region, raw, str(path))
    if reg.id != region:
        raise ConfigError(f'{path}: id is "{reg.id}" but the file is named for "{region}".')
    _check_region(reg, path)
    if not reg.municipios_metropolitanos:
        reg = dataclasses.replace(reg, municipios_metropolitanos=reg.municipios)
    return reg


def _check_region(reg: Region, path: Path) -> None:
    problems = []
    for m in reg.municipios + reg.municipios_metropolitanos:
        if len(m) != 5 or not m.isdigit():
            problems.append(f'municipio "{m}" is not a five-digit CVEGEO')
    lat, lon = reg.center
    if not (14 <= lat <= 33 and -118 <= lon <= -86):
        problems.append(f"center {reg.center} is not in Mexico (lat, lon)")
    if reg.detalle_scian not in ("clase", "subrama"):
        problems.append(f'detalle_scian was "{reg.detalle_scian}" but is expected to be "clase" or "subrama"')
    if not reg.files.denue:
        problems.append("files.denue lists no DENUE file")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems) + ".")


def _build(cls: type, table: Any, where: str) -> Any:
    """Instantiate a frozen dataclass from a TOML table, rejecting unknown keys."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table for {cls.__name__}, got {table!r}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; expected some of {', '.join(sorted(names))}."
        )
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: missing key {f.name} ({cls.__name__}).")
            continue
        kwargs[f.name] = _coerce(hints[f.name], table[f.name], f"{where}: {f.name}")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where} was {value!r} but is expected to be a list.")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, where) for v in value)
        if len(value) != len(args):
            raise ConfigError(f"{where} was {value!r} but is expected to have {len(args)} items.")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} was {value!r} but is expected to be a table.")
        _, vt = typing.get_args(tp)
        return {str(k): _coerce(vt, v, f"{where}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if tp is Path:
        return Path(value)
    if origin in (typing.Union, types.UnionType):
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} was {value!r} but is expected to be a number.")
        return float(value)
    if tp in (int, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ConfigError(f"{where} was {value!r} but is expected to be {tp.__name__}.")
        return value
    return value
