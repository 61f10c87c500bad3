"""Where a network's event says it happened: the coordinate fields and the datum they are in.

The point is passed on in the network's own datum (GCJ-02 for 城管's map,
WGS-84 for GPS); gridflow converts before the polygon lookup, so nothing
here converts. Longitude 0 and latitude 0 together mean "no fix" in these
systems (a device without GPS writes zeros): that is no point, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from producers.networks.errors import AdapterError, quote
from producers.networks.fields import Fields, as_number
from schemas.report import Point
from schemas.vocabulary import Datum

_DIGITS = 6  # ~0.1 m, what the networks write


@dataclass(frozen=True)
class LonLat:
    """Two number fields, longitude and latitude (``jd``/``wd``, ``COORD_X``/``COORD_Y``)."""

    lon: str
    lat: str
    datum: Datum

    @property
    def blame(self) -> str:
        """The field named when the unified location is refused."""
        return self.lat

    @property
    def names(self) -> tuple[str, ...]:
        """The fields this place is written in."""
        return (self.lon, self.lat)

    def read(self, fields: Fields) -> Point | None:
        """The point, None if neither field is given; AdapterError if one is missing or out of range."""
        lon, lat = fields.number(self.lon), fields.number(self.lat)
        if lon is None and lat is None:
            return None
        if lon is None:
            raise AdapterError(self.lon, "有纬度而缺少经度")
        if lat is None:
            raise AdapterError(self.lat, "有经度而缺少纬度")
        return _point(lat, lon, self.datum, lat_field=self.lat, lon_field=self.lon)

    def write(self, lat: float, lon: float) -> dict[str, Any]:
        """The fields for a point already in this datum."""
        return {self.lon: round(lon, _DIGITS), self.lat: round(lat, _DIGITS)}


@dataclass(frozen=True)
class JoinedLonLat:
    """One text field ``"经度,纬度"`` (环保's ``zb``: ``"108.310500,22.701200"``)."""

    field: str
    datum: Datum

    @property
    def blame(self) -> str:
        """The field named when the unified location is refused."""
        return self.field

    @property
    def names(self) -> tuple[str, ...]:
        """The fields this place is written in."""
        return (self.field,)

    def read(self, fields: Fields) -> Point | None:
        """The point, None if the field is absent; AdapterError unless it is two numbers in range."""
        value = fields.raw(self.field)
        if value is None:
            return None
        parts = value.replace("，", ",").split(",") if isinstance(value, str) and len(value) <= 80 else []
        numbers = [n for n in map(as_number, parts) if n is not None]
        if len(parts) != 2 or len(numbers) != 2:
            raise AdapterError(self.field, f"坐标应为“经度,纬度”两个数字，如 108.310500,22.701200，收到 {quote(value)}")
        lon, lat = numbers
        return _point(lat, lon, self.datum, lat_field=self.field, lon_field=self.field)

    def write(self, lat: float, lon: float) -> dict[str, Any]:
        """The field for a point already in this datum."""
        return {self.field: f"{lon:.{_DIGITS}f},{lat:.{_DIGITS}f}"}


Place = LonLat | JoinedLonLat


def _point(lat: float, lon: float, datum: Datum, *, lat_field: str, lon_field: str) -> Point | None:
    if lat == 0 and lon == 0:
        return None
    if not -90 <= lat <= 90:
        swapped = "（经度和纬度是否填反了？）" if -90 <= lon <= 90 else ""
        raise AdapterError(lat_field, f"纬度 {lat} 超出 -90 到 90 的范围{swapped}")
    if not -180 <= lon <= 180:
        raise AdapterError(lon_field, f"经度 {lon} 超出 -180 到 180 的范围")
    return Point(lat=lat, lon=lon, datum=datum)
