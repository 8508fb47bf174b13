"""Every region in config/ is consistent with the shared data: a third region gets these checks for free."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from atlas.geo import municipalities_from_gpkg
from atlas.settings import available_regions, load_region

REGIONS = available_regions()


@pytest.fixture(scope="module")
def municipios():
    region = load_region(REGIONS[0])
    return municipalities_from_gpkg(region.path(region.files.municipios))


def test_both_regions_are_configured():
    assert {"leon", "laguna"} <= set(REGIONS)


@pytest.mark.parametrize("region_id", REGIONS)
def test_region_is_consistent_with_the_municipal_layer(region_id, municipios):
    region = load_region(region_id)
    known = set(municipios["CVEGEO"])
    assert set(region.municipios) <= known
    assert set(region.municipios_metropolitanos) <= known
    # the bulk DENUE download covers every state the region touches
    assert set(region.states) <= set(region.download.states or region.states)
    # the map opens inside the region (not in the sea or another state)
    poly = municipios[municipios["CVEGEO"].isin(region.municipios)].union_all()
    lat, lon = region.center
    assert poly.contains(shapely.Point(lon, lat)), f"{region_id}: center {region.center} is outside its municipios"
    assert region.crs_metric == "EPSG:6372"
    assert len(region.ciudad_historica.landmarks) >= 3


@pytest.mark.parametrize("region_id", REGIONS)
def test_historic_landmarks_lie_in_the_region(region_id, municipios):
    region = load_region(region_id)
    pts = gpd.GeoSeries([shapely.Point(lm.lon, lm.lat) for lm in region.ciudad_historica.landmarks], crs=4326)
    poly = municipios[municipios["CVEGEO"].isin(region.municipios)].union_all()
    assert pts.within(poly).all()
    # a historic centre, not a city: every landmark within 3 km of the others' centroid
    metric = pts.to_crs(region.crs_metric)
    centre = shapely.MultiPoint(list(metric)).centroid
    assert (metric.distance(centre) < 3000).all()


@pytest.mark.parametrize("region_id", REGIONS)
def test_partial_regions_say_what_is_missing(region_id):
    region = load_region(region_id)
    if region.detalle_scian == "subrama":
        # at subrama level public/private is unknown: the banner must say it
        assert "público" in region.cobertura_parcial and "privado" in region.cobertura_parcial


@pytest.mark.slow
def test_catchment_from_partial_hospitals_says_so():
    from atlas.catchment import catchment_for_region

    region = load_region("laguna")
    origins = gpd.GeoDataFrame({"nombre": ["H"]}, geometry=gpd.points_from_xy([-103.4565], [25.5395]), crs=4326)
    res = catchment_for_region(region, origin="hospitales", origins=origins, minutes=[60])
    assert res.notes[0].startswith("Los orígenes son solo los 1 hospitales del DENUE disponible, que es parcial")
