"""Territory helpers: CRS handling, DMS coordinates, the ITER reader."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas import DataError
from atlas.geo import MEXICO_BOUNDS, localities_from_iter, parse_dms, region_polygon, to_metric

_lon = st.floats(MEXICO_BOUNDS[0], MEXICO_BOUNDS[2])
_lat = st.floats(MEXICO_BOUNDS[1], MEXICO_BOUNDS[3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_lon, _lat), min_size=1, max_size=20))
def test_4326_6372_round_trip_keeps_coordinates(points):
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(x, y) for x, y in points], crs=4326)
    back = to_metric(gdf, "EPSG:6372").to_crs(4326)
    assert np.allclose(back.geometry.x, gdf.geometry.x, atol=1e-7)
    assert np.allclose(back.geometry.y, gdf.geometry.y, atol=1e-7)


def test_metric_distance_is_metres_not_degrees():
    # two points 0.01° of latitude apart near León: about 1,107 m on the ground
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(-101.68, 21.12), shapely.Point(-101.68, 21.13)], crs=4326)
    m = to_metric(gdf, "EPSG:6372")
    assert m.geometry.iloc[0].distance(m.geometry.iloc[1]) == pytest.approx(1107, rel=0.01)


def test_frames_without_crs_are_refused():
    with pytest.raises(DataError, match="no CRS"):
        to_metric(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


@pytest.mark.parametrize("text, value", [
    ("101°40'59.520\" W", -101.6832),
    ("21°07'19.560\" N", 21.1221),
    ("-101.6832", -101.6832),
    ("", None),
    ("n/d", None),
])
def test_parse_dms(text, value):
    got = parse_dms(text)
    if value is None:
        assert np.isnan(got)
    else:
        assert got == pytest.approx(value, abs=1e-4)


def test_iter_reader_accepts_dms_and_drops_total_rows(tmp_path):
    p = tmp_path / "iter.csv"
    p.write_text(
        "ENTIDAD,NOM_ENT,MUN,NOM_MUN,LOC,NOM_LOC,LONGITUD,LATITUD,ALTITUD,POBTOT\n"
        "11,Guanajuato,000,Total de la Entidad,0000,Total,,,,6166934\n"
        "11,Guanajuato,020,León,0001,León de los Aldama,\"101°40'59.520\"\" W\",\"21°07'19.560\"\" N\",1798,1579803\n"
        "11,Guanajuato,020,León,0002,Sin coordenadas,,,,12\n",
        encoding="utf-8",
    )
    loc = localities_from_iter(p)
    assert loc["CVEGEO_LOC"].tolist() == ["110200001", "110200002"]
    assert loc["POBTOT"].sum() == 1_579_815  # the state total row is not a locality
    assert (loc.geometry.iloc[0].x, loc.geometry.iloc[0].y) == pytest.approx((-101.6832, 21.1221), abs=1e-4)
    assert loc.geometry.iloc[1].is_empty or np.isnan(loc.geometry.iloc[1].x)


def test_region_polygon_names_missing_municipios():
    munis = gpd.GeoDataFrame({"CVEGEO": ["11020"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(DataError, match="11037"):
        region_polygon(munis, ["11020", "11037"])


@settings(max_examples=30, deadline=None)
@given(_lon, st.floats(MEXICO_BOUNDS[1], 32.0), st.floats(0.01, 0.5))
def test_areas_are_ground_areas(lon, lat, size):
    import pyproj

    from atlas.geo import area_km2

    box = shapely.box(lon, lat, lon + size, lat + size)
    geodesic = abs(pyproj.Geod(ellps="GRS80").geometry_area_perimeter(box)[0]) / 1e6
    assert area_km2(box) == pytest.approx(geodesic, rel=1e-4)
    assert area_km2(gpd.GeoSeries([box], crs=4326)).iloc[0] == pytest.approx(geodesic, rel=1e-4)
