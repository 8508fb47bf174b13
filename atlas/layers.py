"""Declarative map layers: ``layers/*.toml`` → GeoDataFrames.

A layer file names the SCIAN prefixes it takes, its Spanish label, colour, icon and popup fields, and,
for universities, name rules. Each establishment goes to the first point layer (by ``orden``) whose
prefixes and name rules accept it; every accepted establishment is also in ``establecimientos``.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._errors import ConfigError
from .scian import sector_from_name
from .settings import LAYERS_DIR, _build

__all__ = ["LayerSpec", "NameRules", "load_layer_specs", "layers_from_establishments", "ALL_LAYER", "POINT_COLUMNS"]

#: the layer that holds every accepted establishment, of every sector
ALL_LAYER = "establecimientos"
#: columns of every point layer, in order
POINT_COLUMNS = [
    "id", "nom_estab", "raz_social", "codigo_act", "nombre_act", "clase", "capa", "sector", "tipo",
    "per_ocu", "cvegeo", "municipio", "ubicacion", "en_ciudad_historica", "fuente", "linea", "geometry",
]


@dataclass(frozen=True)
class NameRules:
    #: regular expressions matched on the upper-case, accent-free name
    patrones: tuple[str, ...] = ()
    #: exact names always included
    incluir: tuple[str, ...] = ()
    #: regular expressions that drop a unit even when a pattern matches
    excluir: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    id: str
    etiqueta: str
    descripcion: str = ""
    orden: int = 99
    scian: tuple[str, ...] = ()
    color: str = "#333333"
    icono: str = "circle"
    radio: int = 4
    agrupar: bool = False
    visible: bool = True
    popup: tuple[str, ...] = ()
    tipo: dict[str, str] = field(default_factory=dict)
    nombres: NameRules | None = None
    tipo_geometria: str = "puntos"

    @property
    def is_points(self) -> bool:
        return self.tipo_geometria == "puntos"


def load_layer_specs(layers_dir: Path = LAYERS_DIR) -> dict[str, LayerSpec]:
    """Every ``layers/*.toml``, validated, ordered by ``orden``."""
    specs = []
    for path in sorted(Path(layers_dir).glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc
        if "nombres" in raw:
            raw["nombres"] = _build(NameRules, raw["nombres"], f"{path} [nombres]")
        spec = _build(LayerSpec, raw, str(path))
        if spec.id != path.stem:
            raise ConfigError(f'{path}: id is "{spec.id}" but the file is named "{path.stem}".')
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", spec.color):
            raise ConfigError(f'{path}: color "{spec.color}" is expected to be #RRGGBB.')
        if spec.tipo_geometria not in ("puntos", "poligono"):
            raise ConfigError(f'{path}: tipo_geometria "{spec.tipo_geometria}" is expected to be "puntos" or "poligono".')
        if spec.is_points and not spec.scian:
            raise ConfigError(f"{path}: a point layer needs a non-empty scian list of prefixes.")
        specs.append(spec)
    if not specs:
        raise ConfigError(f"{layers_dir}: no layer files (*.toml).")
    return {s.id: s for s in sorted(specs, key=lambda s: (s.orden, s.id))}


def _plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name).upper())
    return re.sub(r"\s+", " ", "".join(c for c in text if not unicodedata.combining(c))).strip()


def _name_ok(names: pd.Series, rules: NameRules) -> pd.Series:
    plain = names.map(_plain)
    keep = plain.isin({_plain(n) for n in rules.incluir})
    if rules.patrones:
        keep |= plain.str.contains("|".join(f"(?:{p})" for p in rules.patrones), regex=True)
    if rules.excluir:
        keep &= ~plain.str.contains("|".join(f"(?:{p})" for p in rules.excluir), regex=True)
    return keep


def layers_from_establishments(
    establishments: gpd.GeoDataFrame, specs: dict[str, LayerSpec]
) -> dict[str, gpd.GeoDataFrame]:
    """Split validated establishments into the point layers, plus ``establecimientos`` (all of them).

    Adds ``capa`` (the layer id, ``""`` for units outside every health layer), ``sector`` and ``tipo``.
    The input is not modified.
    """
    est = establishments.copy()
    est["sector"] = sector_from_name(est["nombre_act"])
    est["tipo"] = ""
    est["capa"] = ""
    clase = est["clase"].fillna("")
    for spec in specs.values():
        if not spec.is_points:
            continue
        free = est["capa"] == ""
        match = free & clase.str.startswith(tuple(spec.scian)) & (clase != "")
        if spec.nombres is not None and match.any():
            match[match] = _name_ok(est.loc[match, "nom_estab"], spec.nombres)
        est.loc[match, "capa"] = spec.id
        for prefix, label in spec.tipo.items():
            est.loc[match & clase.str.startswith(prefix), "tipo"] = label
    for col in POINT_COLUMNS:
        if col not in est.columns:
            est[col] = "" if col != "en_ciudad_historica" else False
    est = est[POINT_COLUMNS]
    out = {s.id: est[est["capa"] == s.id].reset_index(drop=True) for s in specs.values() if s.is_points}
    out[ALL_LAYER] = est.reset_index(drop=True)
    return out
