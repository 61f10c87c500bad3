"""WGS-84 <-> GCJ-02."""

from __future__ import annotations

from enum import Enum

import pytest

from district import GCJ02, WGS84, gcj02_to_wgs84, parse_datum, wgs84_to_gcj02
from district.geometry import distance_m

# Published test vectors of eviltransform (wgs lat, lon -> gcj lat, lon):
# Shanghai, Shenzhen, Beijing.
VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_published_vectors(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    back = gcj02_to_wgs84(*gcj)
    assert distance_m(*back, *wgs) < 0.5


def test_round_trip_under_half_a_metre_across_the_district() -> None:
    worst = 0.0
    for i in range(31):
        for j in range(26):
            lat, lon = 22.60 + 0.01 * j, 108.20 + 0.01 * i
            gcj = wgs84_to_gcj02(lat, lon)
            # Both directions: WGS→GCJ→WGS and GCJ→WGS→GCJ.
            worst = max(worst, distance_m(*gcj02_to_wgs84(*gcj), lat, lon))
            worst = max(worst, distance_m(*wgs84_to_gcj02(*gcj02_to_wgs84(lat, lon)), lat, lon))
    assert worst < 0.5


def test_offset_in_the_district_is_hundreds_of_metres() -> None:
    lat, lon = 22.72, 108.35
    assert 200 < distance_m(*wgs84_to_gcj02(lat, lon), lat, lon) < 1000


def test_outside_china_is_unchanged() -> None:
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)


class _SchemaDatum(str, Enum):  # noqa: UP042 - shaped like schemas.vocabulary.Datum
    WGS84 = "WGS-84"
    GCJ02 = "GCJ-02"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("WGS-84", WGS84), ("wgs84", WGS84), ("GCJ-02", GCJ02), ("gcj02", GCJ02), (_SchemaDatum.GCJ02, GCJ02)],
)
def test_parse_datum(raw: object, expected: str) -> None:
    assert parse_datum(raw) == expected


@pytest.mark.parametrize("raw", ["BD-09", "", None, 84])
def test_parse_datum_refuses_others(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_datum(raw)
