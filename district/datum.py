"""Datums of a point: WGS-84 (GPS) and GCJ-02 (most Chinese map products).

GCJ-02 is WGS-84 run through a published obfuscation; in this district the
shift is several hundred metres, enough to put a point in the wrong grid, so
every GCJ-02 point is converted before the polygon lookup (DESIGN "Places").

The forward transform is the well-known public formula (the one in
eviltransform / coordtransform / prcoords). It is written out here rather
than taken from PyPI because none of the candidates fits: ``coordTransform``
ships compiled wheels and its GCJ→WGS is the one-step approximation (metres
off, not the < 0.5 m we need); ``eviltransform`` (2018) and ``prcoords``
(2019) are unmaintained and untyped. The formula is forty lines of
arithmetic with no dependency, and the inverse below iterates it.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Final, Literal

Datum = Literal["WGS-84", "GCJ-02"]
WGS84: Final[Datum] = "WGS-84"
GCJ02: Final[Datum] = "GCJ-02"
DATUMS: Final[tuple[Datum, ...]] = (WGS84, GCJ02)

# Krasovsky 1940 ellipsoid, as the published formula uses it.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323

# The inverse stops when the forward image is this close (degrees, ~1 mm).
_INVERSE_TOLERANCE_DEG: Final = 1e-8
_INVERSE_MAX_STEPS: Final = 30


def parse_datum(value: object) -> Datum:
    """Return the datum named by ``value`` ("WGS-84", "wgs84", "GCJ-02", an enum of them...).

    Raises ValueError for anything else: a point in an unknown datum must not
    be silently taken as WGS-84.
    """
    raw = value.value if isinstance(value, Enum) else value
    if not isinstance(raw, str):
        raise ValueError(f"datum must be a string, got {type(value).__name__}")
    key = raw.strip().upper().replace("-", "").replace("_", "")
    if key == "WGS84":
        return WGS84
    if key == "GCJ02":
        return GCJ02
    raise ValueError(f"unknown datum {raw!r}; expected one of {', '.join(DATUMS)}")


def out_of_china(lat: float, lon: float) -> bool:
    """True outside the published formula's rectangle, where GCJ-02 equals WGS-84."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (dlat, dlon)."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Convert a WGS-84 point to GCJ-02; returns (lat, lon)."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _offset(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Convert a GCJ-02 point to WGS-84; returns (lat, lon).

    The formula has no closed inverse. The common one-step version (subtract
    the offset taken at the GCJ point) is off by metres; iterating it
    (fixed point of wgs = gcj - offset(wgs)) converges to well under 0.5 m in
    two or three steps because the offset changes slowly with position.
    """
    if out_of_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(_INVERSE_MAX_STEPS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        err_lat, err_lon = g_lat - lat, g_lon - lon
        if abs(err_lat) < _INVERSE_TOLERANCE_DEG and abs(err_lon) < _INVERSE_TOLERANCE_DEG:
            break
        w_lat -= err_lat
        w_lon -= err_lon
    return w_lat, w_lon


def to_wgs84(lat: float, lon: float, datum: Datum) -> tuple[float, float]:
    """Return the point (lat, lon) given in ``datum`` as WGS-84."""
    return gcj02_to_wgs84(lat, lon) if datum == GCJ02 else (lat, lon)


def from_wgs84(lat: float, lon: float, datum: Datum) -> tuple[float, float]:
    """Return the WGS-84 point (lat, lon) expressed in ``datum``."""
    return wgs84_to_gcj02(lat, lon) if datum == GCJ02 else (lat, lon)


def convert(lat: float, lon: float, source: Datum, target: Datum) -> tuple[float, float]:
    """Convert a point between the two datums (a no-op when they are the same)."""
    if source == target:
        return lat, lon
    return from_wgs84(*to_wgs84(lat, lon, source), target)
