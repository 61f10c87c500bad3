"""place_report: grid id first, then the point, never a guess."""

from __future__ import annotations

import math

import pytest

from district import Grid, Registry, place_report, wgs84_to_gcj02
from district.geometry import distance_m
from district.place import (
    BAD_COORDINATES,
    NO_PLACE,
    OUTSIDE_DISTRICT,
    UNKNOWN_DATUM,
    UNKNOWN_GRID,
)


def grid(registry: Registry, grid_id: str) -> Grid:
    g = registry.grid(grid_id)
    assert g is not None, grid_id
    return g


def test_by_grid_id(registry: Registry) -> None:
    p = place_report(registry, "XL-02-03", None, None, None)
    assert p.placed and p.grid_id == "XL-02-03" and p.town_code == "XL"
    assert p.reason is None and p.method == "grid_id"


def test_unknown_grid_is_not_replaced_by_the_point(registry: Registry) -> None:
    lat, lon = grid(registry, "NJ-01-01").centroid
    p = place_report(registry, "XL-09-09", lat, lon, "WGS-84")
    assert not p.placed and p.town_code is None
    assert p.reason == UNKNOWN_GRID and p.reason.message == "网格编号不存在"
    assert (p.lat, p.lon) == (lat, lon)  # the point is kept for triage


def test_nothing_given(registry: Registry) -> None:
    p = place_report(registry, None, None, None, None)
    assert p.reason == NO_PLACE and p.reason.message == "未提供网格或坐标"
    assert place_report(registry, "  ", None, None, "WGS-84").reason == NO_PLACE


def test_wgs84_point(registry: Registry) -> None:
    g = grid(registry, "BC-03-02")
    p = place_report(registry, None, *g.centroid, None)  # no datum: GPS, WGS-84
    assert p.grid == g and p.town_code == "BC" and p.method == "point"


def test_point_outside_is_never_guessed(registry: Registry) -> None:
    p = place_report(registry, None, 22.605, 108.205, "WGS-84")
    assert p.grid is None and p.town_code is None
    assert p.reason == OUTSIDE_DISTRICT and p.reason.message == "坐标不在任何网格内"


@pytest.mark.parametrize(
    ("lat", "lon"), [(22.7, None), (None, 108.3), (math.nan, 108.3), (95.0, 108.3), (22.7, math.inf)]
)
def test_bad_coordinates(registry: Registry, lat: float | None, lon: float | None) -> None:
    assert place_report(registry, None, lat, lon, "WGS-84").reason == BAD_COORDINATES


def test_unknown_datum(registry: Registry) -> None:
    lat, lon = grid(registry, "DH-01-01").centroid
    assert place_report(registry, None, lat, lon, "BD-09").reason == UNKNOWN_DATUM


def test_gcj02_point_lands_in_its_grid(registry: Registry) -> None:
    for g in registry.grids:
        lat, lon = g.centroid
        g_lat, g_lon = wgs84_to_gcj02(lat, lon)
        p = place_report(registry, None, g_lat, g_lon, "GCJ-02")
        assert p.grid == g, g.grid_id
        assert p.lat is not None and p.lon is not None
        assert distance_m(p.lat, p.lon, lat, lon) < 0.5  # stored back in WGS-84
        # The same numbers taken as WGS-84 are several hundred metres off.
        assert distance_m(g_lat, g_lon, lat, lon) > 300


def test_gcj02_taken_as_wgs84_lands_in_the_wrong_grid(registry: Registry) -> None:
    # Walk from a centroid along the GCJ shift until the shifted point leaves
    # the grid: such a point, reported in GCJ-02, must still land at home.
    g = grid(registry, "XL-02-03")
    lat, lon = g.centroid
    g_lat, g_lon = wgs84_to_gcj02(lat, lon)
    d_lat, d_lon = g_lat - lat, g_lon - lon
    for k in range(1, 200):
        p_lat, p_lon = lat + d_lat * k * 0.1, lon + d_lon * k * 0.1
        if not g.contains(p_lat, p_lon):
            pytest.fail("walked out of the grid before the shift did")
        gcj = wgs84_to_gcj02(p_lat, p_lon)
        if not g.contains(*gcj):
            break
    as_gcj = place_report(registry, None, *gcj, "GCJ-02")
    as_wgs = place_report(registry, None, *gcj, "WGS-84")
    assert as_gcj.grid == g
    assert as_wgs.grid != g
