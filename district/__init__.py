"""The demo district XX区 as data: towns, villages, grids and departments, with lookups.

    >>> from district import load_registry, place_report
    >>> reg = load_registry()
    >>> reg.grid("XL-02-03").name
    '西岭镇石门村第三网格'
"""

from district.datum import (
    GCJ02,
    WGS84,
    Datum,
    gcj02_to_wgs84,
    parse_datum,
    wgs84_to_gcj02,
)
from district.model import Department, Grid, Town, Village
from district.place import Placement, PlaceReason, place_report
from district.registry import Registry, load_registry
from district.validate import RegistryError

__all__ = [
    "GCJ02",
    "WGS84",
    "Datum",
    "Department",
    "Grid",
    "PlaceReason",
    "Placement",
    "Registry",
    "RegistryError",
    "Town",
    "Village",
    "gcj02_to_wgs84",
    "load_registry",
    "parse_datum",
    "place_report",
    "wgs84_to_gcj02",
]
