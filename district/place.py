"""Placing a report in its grid (DESIGN "Places").

A report names its grid, or gives a point and the point's datum. A named
grid must exist; a point is converted to WGS-84 and looked up by polygon. A
point in no grid is left unplaced with a reason for triage: it is never
snapped to the nearest grid, because a wrong grid sends the case to the
wrong town's units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from district.datum import GCJ02, WGS84, gcj02_to_wgs84, parse_datum
from district.model import Grid
from district.registry import Registry


@dataclass(frozen=True)
class PlaceReason:
    """Why a report could not be placed: a stable code for machines, a message for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


NO_PLACE: Final = PlaceReason("no_place", "未提供网格或坐标")
UNKNOWN_GRID: Final = PlaceReason("unknown_grid", "网格编号不存在")
OUTSIDE_DISTRICT: Final = PlaceReason("outside_district", "坐标不在任何网格内")
BAD_COORDINATES: Final = PlaceReason("bad_coordinates", "坐标无效（需同时提供有效的纬度和经度）")
UNKNOWN_DATUM: Final = PlaceReason("unknown_datum", "坐标系不受支持（应为 WGS-84 或 GCJ-02）")
REASONS: Final = (NO_PLACE, UNKNOWN_GRID, OUTSIDE_DISTRICT, BAD_COORDINATES, UNKNOWN_DATUM)

Method = Literal["grid_id", "point"]


@dataclass(frozen=True)
class Placement:
    """Where a report belongs.

    ``grid`` and ``town_code`` are set when placed, ``reason`` when not.
    ``lat``/``lon`` are the report's point in WGS-84 (the stored datum)
    whenever a valid point was given, placed or not.
    """

    grid: Grid | None
    town_code: str | None
    reason: PlaceReason | None
    method: Method | None = None
    lat: float | None = None
    lon: float | None = None

    @property
    def placed(self) -> bool:
        """True when the report has a grid."""
        return self.grid is not None

    @property
    def grid_id(self) -> str | None:
        """The grid's id, or None."""
        return self.grid.grid_id if self.grid is not None else None


def _unplaced(reason: PlaceReason, point: tuple[float, float] | None = None) -> Placement:
    lat, lon = point if point is not None else (None, None)
    return Placement(grid=None, town_code=None, reason=reason, lat=lat, lon=lon)


def _valid_point(lat: float | None, lon: float | None) -> bool:
    if lat is None or lon is None or isinstance(lat, bool) or isinstance(lon, bool):
        return False
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def place_report(
    registry: Registry,
    grid_id: str | None,
    lat: float | None,
    lon: float | None,
    datum: str | None,
) -> Placement:
    """Place a report by its grid id, else by its point.

    A given grid id wins over a point (the reporter chose it) and must exist:
    an unknown id is not replaced by the point's grid, since the two disagree
    and triage should see it. ``datum`` None means WGS-84, what a phone's GPS
    gives; an unknown datum leaves the point unplaced rather than guessed.
    """
    point: tuple[float, float] | None = None
    point_reason: PlaceReason | None = None
    if lat is None and lon is None:
        point_reason = NO_PLACE
    elif not _valid_point(lat, lon):
        point_reason = BAD_COORDINATES
    else:
        assert lat is not None and lon is not None
        try:
            point_datum = parse_datum(datum) if datum is not None else WGS84
        except ValueError:
            point_reason = UNKNOWN_DATUM
        else:
            point = gcj02_to_wgs84(lat, lon) if point_datum == GCJ02 else (float(lat), float(lon))

    if grid_id is not None and grid_id.strip():
        grid = registry.grid(grid_id.strip())
        if grid is None:
            return _unplaced(UNKNOWN_GRID, point)
        p_lat, p_lon = point if point is not None else (None, None)
        return Placement(grid, grid.town_code, None, "grid_id", p_lat, p_lon)

    if point is None:
        return _unplaced(point_reason or NO_PLACE)
    grid = registry.locate(point[0], point[1], WGS84)
    if grid is None:
        return _unplaced(OUTSIDE_DISTRICT, point)
    return Placement(grid, grid.town_code, None, "point", point[0], point[1])
