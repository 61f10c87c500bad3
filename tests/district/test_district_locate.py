"""Point-in-polygon lookups over the shipped grids."""

from __future__ import annotations

import pytest

from district import Registry
from district.geometry import contains


def test_each_centroid_locates_to_its_grid(registry: Registry) -> None:
    for g in registry.grids:
        lat, lon = g.centroid
        assert registry.locate(lat, lon) == g, g.grid_id


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (22.70, 108.10),  # west of the district
        (22.90, 108.30),  # north of it
        (22.605, 108.205),  # inside the bounds, outside every grid
        (39.9, 116.4),  # Beijing
        (0.0, 0.0),
    ],
)
def test_point_outside_every_grid_is_none(registry: Registry, lat: float, lon: float) -> None:
    assert registry.locate(lat, lon) is None


def test_grids_tile_the_district_without_gaps_or_overlaps(registry: Registry) -> None:
    # The lattice spans 108.22–108.48 E, 22.62–22.83 N with vertices nudged by
    # under 0.006°; everything inside that margin must be in exactly one grid.
    steps = 60
    lon0, lon1, lat0, lat1 = 108.2265, 108.4735, 22.6245, 22.8255
    for i in range(steps + 1):
        for j in range(steps + 1):
            lon = lon0 + (lon1 - lon0) * i / steps
            lat = lat0 + (lat1 - lat0) * j / steps
            hits = [g.grid_id for g in registry.grids if contains(g.ring, (lon, lat))]
            assert len(hits) == 1, (lat, lon, hits)


def test_shared_vertices_and_edges_belong_to_one_grid(registry: Registry) -> None:
    for g in registry.grids:
        for (x1, y1), (x2, y2) in zip(g.ring, g.ring[1:], strict=False):
            for p in ((x1, y1), ((x1 + x2) / 2, (y1 + y2) / 2)):
                hits = [h for h in registry.grids if contains(h.ring, p)]
                assert len(hits) <= 1, (g.grid_id, p, [h.grid_id for h in hits])


def test_locate_takes_the_point_datum(registry: Registry) -> None:
    from district import wgs84_to_gcj02

    g = registry.grid("DH-02-01")
    assert g is not None
    gcj = wgs84_to_gcj02(*g.centroid)
    assert registry.locate(*gcj, datum="GCJ-02") == g
    with pytest.raises(ValueError):
        registry.locate(*gcj, datum="BD-09")
