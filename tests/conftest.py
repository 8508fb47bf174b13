"""Shared fixtures: the real León region and its build (once per session), hand-built territory."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from atlas.build import build_region
from atlas.settings import load_region


@pytest.fixture(scope="session")
def leon():
    region = load_region("leon")
    if not region.denue_paths[0].is_file():
        pytest.fail(f"León's DENUE is not at {region.denue_paths[0]}: set ATLAS_DATA_DIR to the shared data")
    return region


@pytest.fixture(scope="session")
def leon_atlas(leon):
    """León built from the shared data (not written: tests that need files write to tmp dirs)."""
    return build_region(leon)


@pytest.fixture(scope="session")
def toy_municipios():
    """Two 0.1° squares near León: 11020 (the region) and 11037 (a neighbour)."""
    a = shapely.box(-101.75, 21.05, -101.65, 21.15)
    b = shapely.box(-101.65, 21.05, -101.55, 21.15)
    return gpd.GeoDataFrame(
        {"CVEGEO": ["11020", "11037"], "NOMGEO": ["León", "Silao"], "POBTOT": [1000, 500]},
        geometry=[a, b], crs=4326,
    )


@pytest.fixture(scope="session")
def toy_localities():
    return gpd.GeoDataFrame(
        {"CVEGEO_MUN": ["11020"], "CVEGEO_LOC": ["110200001"], "NOM_LOC": ["León de los Aldama"], "POBTOT": [1000]},
        geometry=[shapely.Point(-101.70, 21.10)], crs=4326,
    )
