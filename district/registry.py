"""The grid registry: the district's towns, villages, grids and departments.

Loaded from two data files shipped in the package (``data/grids.geojson``,
``data/departments.json``), validated on every load (district.validate), and
cached for the default files: the registry is read-only at run time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

from district import geometry
from district.datum import WGS84, Datum, convert, parse_datum
from district.model import Department, Grid, Town, Village
from district.validate import RegistryError, validate_departments, validate_grids

GRIDS_FILE: Final = "grids.geojson"
DEPARTMENTS_FILE: Final = "departments.json"

Source = Path | Traversable


def default_data_dir() -> Traversable:
    """The data folder inside the installed package."""
    return resources.files("district") / "data"


class Registry:
    """Read-only view of the district: look up grids by id or by point, and departments by code."""

    def __init__(
        self,
        *,
        name: str,
        datum: Datum,
        bbox: tuple[float, float, float, float],
        grids: Iterable[Grid],
        departments: Iterable[Department],
        town_units: Iterable[Department],
    ) -> None:
        self.name = name
        self.datum: Datum = datum  # the datum the polygons are in
        self.bbox = bbox  # (west, south, east, north) district bounds, in self.datum
        self._grids = tuple(grids)
        self._by_id = {g.grid_id: g for g in self._grids}
        towns: dict[str, Town] = {}
        villages: dict[str, Village] = {}
        for g in self._grids:  # first appearance in the file fixes the order
            towns.setdefault(g.town_code, Town(g.town_code, g.town_name))
            villages.setdefault(g.village_code, Village(g.village_code, g.village_name, g.town_code))
        self._towns = towns
        self._villages = villages
        self._departments = {d.code: d for d in departments}
        self._town_units = {u.code: u for u in town_units}

    # -- places ---------------------------------------------------------------

    @property
    def towns(self) -> list[Town]:
        """Towns and streets (镇/街道)."""
        return list(self._towns.values())

    @property
    def villages(self) -> list[Village]:
        """Villages and communities (村/社区)."""
        return list(self._villages.values())

    @property
    def grids(self) -> list[Grid]:
        """Every grid (网格), in file order."""
        return list(self._grids)

    def town(self, code: str) -> Town | None:
        """The town with this code (``XL``), or None."""
        return self._towns.get(code)

    def village(self, code: str) -> Village | None:
        """The village with this code (``XL-02``), or None."""
        return self._villages.get(code)

    def grid(self, grid_id: str) -> Grid | None:
        """The grid with this id (``XL-02-03``), or None."""
        return self._by_id.get(grid_id)

    def grids_in(self, code: str) -> list[Grid]:
        """The grids of a town (``XL``) or of a village (``XL-02``)."""
        return [g for g in self._grids if code in (g.town_code, g.village_code)]

    def locate(self, lat: float, lon: float, datum: str = WGS84) -> Grid | None:
        """The grid containing the point, or None if it is in no grid (never the nearest one).

        ``datum`` is the point's datum; it is converted to the registry's
        before the lookup.
        """
        lat, lon = convert(lat, lon, parse_datum(datum), self.datum)
        west, south, east, north = self.bbox
        if not (west <= lon <= east and south <= lat <= north):
            return None
        for g in self._grids:
            if g.contains(lat, lon):
                return g
        return None

    # -- departments ----------------------------------------------------------

    @property
    def departments(self) -> list[Department]:
        """Every department that can receive a case: district units and per-town units."""
        return list(self._departments.values())

    @property
    def department_codes(self) -> frozenset[str]:
        """The code of every department (alert topics, webhooks and assignments are checked against it)."""
        return frozenset(self._departments)

    @property
    def town_units(self) -> list[Department]:
        """The bare town-level codes (SFS, PCS, ZF), for leads whose town is not yet known."""
        return list(self._town_units.values())

    def department(self, code: str) -> Department | None:
        """The department with this code (``YJ``, ``SFS-XL``), or a bare town unit (``SFS``), or None."""
        return self._departments.get(code) or self._town_units.get(code)

    def department_for(self, code: str, town_code: str | None) -> Department | None:
        """Resolve a rule's lead for a case's town: ``SFS`` in XL is ``SFS-XL``.

        With no town the bare unit is returned (the case waits in triage for
        its town, DESIGN "Taxonomy"); a district-level code is returned as is.
        """
        if code in self._town_units and town_code is not None:
            return self._departments.get(f"{code}-{town_code}")
        return self.department(code)

    def __repr__(self) -> str:
        return (
            f"Registry({self.name!r}, datum={self.datum!r}, towns={len(self._towns)}, "
            f"villages={len(self._villages)}, grids={len(self._grids)}, departments={len(self._departments)})"
        )

    # -- loading --------------------------------------------------------------

    @classmethod
    def from_files(cls, grids_path: Source, departments_path: Source) -> Registry:
        """Load and validate the two data files; RegistryError names the file at fault."""
        grids_doc = _read_json(grids_path)
        validate_grids(grids_doc, grids_path)
        grids = [_grid(f) for f in grids_doc["features"]]
        dept_doc = _read_json(departments_path)
        validate_departments(dept_doc, {g.town_code for g in grids}, departments_path)
        departments = [
            Department(
                code=d["code"],
                name=d["name"],
                unit=d["code"].partition("-")[0],
                town_code=d.get("town_code"),
                town_level=d.get("town_code") is not None,
            )
            for d in dept_doc["departments"]
        ]
        town_units = [
            Department(code=u["code"], name=u["name"], unit=u["code"], town_level=True)
            for u in dept_doc["town_units"]
        ]
        west, south, east, north = (float(v) for v in grids_doc["bbox"])
        return cls(
            name=str(grids_doc.get("name") or dept_doc.get("district") or ""),
            datum=parse_datum(grids_doc["datum"]),
            bbox=(west, south, east, north),
            grids=grids,
            departments=departments,
            town_units=town_units,
        )


def _read_json(path: Source) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(path, f"not valid JSON: {exc}") from exc


def _grid(feature: dict[str, Any]) -> Grid:
    p = feature["properties"]
    return Grid(
        grid_id=p["grid_id"],
        name=p["name"],
        town_code=p["town_code"],
        town_name=p["town_name"],
        village_code=p["village_code"],
        village_name=p["village_name"],
        ring=geometry.as_ring(feature["geometry"]["coordinates"][0]),
    )


@lru_cache(maxsize=1)
def _default_registry() -> Registry:
    data = default_data_dir()
    return Registry.from_files(data / GRIDS_FILE, data / DEPARTMENTS_FILE)


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the registry from a data folder holding grids.geojson and departments.json.

    With no path, the district shipped in the package, loaded once and cached.
    """
    if path is None:
        return _default_registry()
    folder = Path(path)
    return Registry.from_files(folder / GRIDS_FILE, folder / DEPARTMENTS_FILE)
