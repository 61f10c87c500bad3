"""Validation of the registry's data files, run every time they are loaded.

A bad file raises RegistryError naming the file, the place in it (feature
index and grid id, or department index and code) and the problem, so a
broken edit of the data fails loudly at start-up instead of misplacing cases.
The checks work on the parsed JSON, before any record is built.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from district import geometry
from district.datum import DATUMS
from district.geometry import Ring

# Same patterns as schemas/vocabulary.py; repeated so this package stands alone.
DEPARTMENT_CODE: Final = re.compile(r"^[A-Z]+(-[A-Z]+)?$")
TOWN_CODE: Final = re.compile(r"^[A-Z]{2}$")
GRID_ID: Final = re.compile(r"^([A-Z]{2})-(\d{2})-(\d{2})$")
VILLAGE_CODE: Final = re.compile(r"^([A-Z]{2})-(\d{2})$")
UNIT_CODE: Final = re.compile(r"^[A-Z]+$")

# Units the taxonomy routes to (DESIGN "Taxonomy"): the district-level ones
# must exist once, the town-level ones once per town.
REQUIRED_DISTRICT_UNITS: Final = frozenset(
    "ZZZX SFJ JJ CG SCJG YJ XF STHJ ZJ RS WJ MZ ZRZY JR WX XFJ LY JY".split()
)
REQUIRED_TOWN_UNITS: Final = frozenset({"SFS", "PCS", "ZF"})

GRID_PROPERTIES: Final = ("grid_id", "name", "town_code", "town_name", "village_code", "village_name")


class RegistryError(ValueError):
    """A registry data file is malformed; the message names the file and the problem."""

    def __init__(self, file: object, problem: str, where: str | None = None) -> None:
        self.file = str(file)
        self.problem = problem
        self.where = where
        super().__init__(f"{self.file}: {where}: {problem}" if where else f"{self.file}: {problem}")


def _text(obj: Mapping[str, Any], key: str, source: object, where: str) -> str:
    """obj[key] as a non-empty string, or RegistryError."""
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(source, f"{key!r} must be a non-empty string, got {value!r}", where)
    return value


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bbox(doc: Mapping[str, Any], source: object) -> tuple[float, float, float, float]:
    box = doc.get("bbox")
    if not (isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box)):
        raise RegistryError(source, f"'bbox' must be [west, south, east, north] (the district bounds), got {box!r}")
    west, south, east, north = (float(v) for v in box)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise RegistryError(source, f"'bbox' {box!r} is not a valid [west, south, east, north]")
    return west, south, east, north


def _ring(feature: Mapping[str, Any], source: object, where: str) -> Ring:
    """The feature's polygon as a closed ring, checked for shape."""
    geom = feature.get("geometry")
    if not isinstance(geom, Mapping) or geom.get("type") != "Polygon":
        raise RegistryError(source, "geometry must be a GeoJSON Polygon", where)
    rings = geom.get("coordinates")
    if not isinstance(rings, list) or len(rings) != 1:
        raise RegistryError(source, "polygon must have exactly one ring (grids have no holes)", where)
    coords = rings[0]
    if not isinstance(coords, list) or len(coords) < 4:
        raise RegistryError(source, "ring must have at least 4 positions", where)
    for n, pos in enumerate(coords):
        if not (isinstance(pos, list) and len(pos) in (2, 3) and all(_number(v) for v in pos)):
            raise RegistryError(source, f"position {n} must be [lon, lat], got {pos!r}", where)
    ring = geometry.as_ring(coords)
    if ring[0] != ring[-1]:
        raise RegistryError(source, "ring is not closed (first position != last position)", where)
    if not geometry.is_simple(ring):
        raise RegistryError(source, "ring crosses or touches itself", where)
    if geometry.signed_area(ring) == 0:
        raise RegistryError(source, "ring has no area", where)
    return ring


def validate_grids(doc: object, source: object) -> None:
    """Check a grids GeoJSON document; raise RegistryError on the first problem."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise RegistryError(source, "top level must be a GeoJSON FeatureCollection")
    datum = doc.get("datum")
    if datum not in DATUMS:
        raise RegistryError(source, f"'datum' must state the polygons' datum, one of {list(DATUMS)}; got {datum!r}")
    west, south, east, north = _bbox(doc, source)
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise RegistryError(source, "'features' must be a non-empty list")

    seen_ids: dict[str, int] = {}
    seen_names: dict[str, str] = {}
    town_names: dict[str, str] = {}
    villages: dict[str, tuple[str, str]] = {}
    rings: list[tuple[str, int, Ring]] = []
    for index, feature in enumerate(features):
        where = f"feature {index}"
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise RegistryError(source, "not a GeoJSON Feature", where)
        props = feature.get("properties")
        if not isinstance(props, Mapping):
            raise RegistryError(source, "missing 'properties'", where)
        grid_id = _text(props, "grid_id", source, where)
        where = f"feature {index} ({grid_id})"
        name, town, town_name, village, village_name = (
            _text(props, key, source, where) for key in GRID_PROPERTIES[1:]
        )
        match = GRID_ID.fullmatch(grid_id)
        if not match:
            raise RegistryError(source, f"grid id {grid_id!r} is not <TOWN>-<VV>-<GG>, e.g. XL-02-03", where)
        if not TOWN_CODE.fullmatch(town):
            raise RegistryError(source, f"town code {town!r} must be two capital letters", where)
        if not VILLAGE_CODE.fullmatch(village):
            raise RegistryError(source, f"village code {village!r} is not <TOWN>-<VV>, e.g. XL-02", where)
        if match.group(1) != town:
            raise RegistryError(source, f"grid id {grid_id!r} does not start with its town code {town!r}", where)
        if f"{match.group(1)}-{match.group(2)}" != village:
            raise RegistryError(source, f"grid id {grid_id!r} is not in its village {village!r}", where)
        if not village.startswith(f"{town}-"):
            raise RegistryError(source, f"village {village!r} is not in its town {town!r}", where)
        if "id" in feature and feature["id"] != grid_id:
            raise RegistryError(source, f"feature id {feature['id']!r} differs from grid_id", where)
        if grid_id in seen_ids:
            raise RegistryError(source, f"duplicate grid id (also feature {seen_ids[grid_id]})", where)
        seen_ids[grid_id] = index
        if name in seen_names:
            raise RegistryError(source, f"duplicate grid name {name!r} (also {seen_names[name]})", where)
        seen_names[name] = grid_id
        if town_names.setdefault(town, town_name) != town_name:
            raise RegistryError(source, f"town {town} named both {town_names[town]!r} and {town_name!r}", where)
        if villages.setdefault(village, (village_name, town)) != (village_name, town):
            raise RegistryError(source, f"village {village} is given two names or towns", where)

        ring = _ring(feature, source, where)
        for lon, lat in ring:
            if not (west <= lon <= east and south <= lat <= north):
                bounds = [west, south, east, north]
                raise RegistryError(source, f"position [{lon}, {lat}] is outside the district bounds {bounds}", where)
        rings.append((grid_id, index, ring))

    _check_no_overlap(rings, source)


def _check_no_overlap(rings: list[tuple[str, int, Ring]], source: object) -> None:
    """No two grids share any area (they may share edges and corners)."""
    boxes = [geometry.bbox(r) for _, _, r in rings]
    # Sweep by west edge so only grids whose boxes meet are compared.
    order = sorted(range(len(rings)), key=lambda i: boxes[i][0])
    for pos, i in enumerate(order):
        for j in order[pos + 1 :]:
            if boxes[j][0] >= boxes[i][2]:
                break
            if geometry.overlap(rings[i][2], rings[j][2]):
                (gi, ii, _), (gj, ij, _) = sorted((rings[i], rings[j]), key=lambda r: r[1])
                raise RegistryError(source, f"grid overlaps feature {ij} ({gj})", f"feature {ii} ({gi})")


def validate_departments(doc: object, town_codes: Iterable[str], source: object) -> None:
    """Check a departments document against the towns of the grid file."""
    towns = set(town_codes)
    if not isinstance(doc, Mapping):
        raise RegistryError(source, "top level must be an object with 'town_units' and 'departments'")
    units = doc.get("town_units")
    if not isinstance(units, list):
        raise RegistryError(source, "'town_units' must be a list")
    unit_codes: set[str] = set()
    for index, unit in enumerate(units):
        where = f"town unit {index}"
        if not isinstance(unit, Mapping):
            raise RegistryError(source, "must be an object", where)
        code = _text(unit, "code", source, where)
        _text(unit, "name", source, f"town unit {index} ({code})")
        if not UNIT_CODE.fullmatch(code):
            raise RegistryError(source, f"unit code {code!r} must be capital letters", where)
        if code in unit_codes:
            raise RegistryError(source, f"duplicate town unit {code}", where)
        unit_codes.add(code)
    missing_units = REQUIRED_TOWN_UNITS - unit_codes
    if missing_units:
        raise RegistryError(source, f"missing town units {sorted(missing_units)}")

    departments = doc.get("departments")
    if not isinstance(departments, list) or not departments:
        raise RegistryError(source, "'departments' must be a non-empty list")
    codes: set[str] = set()
    names: set[str] = set()
    for index, dept in enumerate(departments):
        where = f"department {index}"
        if not isinstance(dept, Mapping):
            raise RegistryError(source, "must be an object", where)
        code = _text(dept, "code", source, where)
        where = f"department {index} ({code})"
        name = _text(dept, "name", source, where)
        if not DEPARTMENT_CODE.fullmatch(code):
            raise RegistryError(source, f"code {code!r} does not match {DEPARTMENT_CODE.pattern}", where)
        if code in codes:
            raise RegistryError(source, "duplicate department code", where)
        if name in names:
            raise RegistryError(source, f"duplicate department name {name!r}", where)
        codes.add(code)
        names.add(name)
        unit, _, town = code.partition("-")
        if town:
            if unit not in unit_codes:
                raise RegistryError(source, f"{unit!r} is not a town unit {sorted(unit_codes)}", where)
            if town not in towns:
                raise RegistryError(source, f"town {town!r} is not a town of the grid registry", where)
            if dept.get("town_code") != town:
                raise RegistryError(source, f"'town_code' must be {town!r}, got {dept.get('town_code')!r}", where)
        else:
            if unit in unit_codes:
                raise RegistryError(source, f"town unit {unit} must be listed per town, as {unit}-<TOWN>", where)
            if dept.get("town_code") is not None:
                raise RegistryError(source, "a district-level department has no 'town_code'", where)

    missing = sorted(REQUIRED_DISTRICT_UNITS - codes)
    if missing:
        raise RegistryError(source, f"missing district departments {missing}")
    for town in sorted(towns):
        absent = sorted(f"{unit}-{town}" for unit in unit_codes if f"{unit}-{town}" not in codes)
        if absent:
            raise RegistryError(source, f"town {town} has no {', '.join(absent)}")
