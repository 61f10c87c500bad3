"""The validator rejects broken data files, naming the file and the problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from district import RegistryError, load_registry
from district.registry import DEPARTMENTS_FILE, GRIDS_FILE

Doc = dict[str, Any]
Make = Callable[..., Path]


def _feature(doc: Doc, grid_id: str) -> Doc:
    return next(f for f in doc["features"] if f["properties"]["grid_id"] == grid_id)


def _ring(doc: Doc, grid_id: str) -> list[list[float]]:
    ring: list[list[float]] = _feature(doc, grid_id)["geometry"]["coordinates"][0]
    return ring


def _raises(folder: Path, file: str, *fragments: str) -> RegistryError:
    with pytest.raises(RegistryError) as info:
        load_registry(folder)
    message = str(info.value)
    assert str(folder / file) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_copy_of_good_data_loads(data_copy: Make) -> None:
    assert len(load_registry(data_copy()).grids) >= 40


def test_overlapping_grids(data_copy: Make) -> None:
    def shift(doc: Doc) -> None:
        # Move XL-02-03's polygon a third of a cell east, over its neighbour.
        for pos in _ring(doc, "XL-02-03"):
            pos[0] += 0.015

    err = _raises(data_copy(grids=shift), GRIDS_FILE, "overlaps", "XL-02-03")
    assert err.where and "feature" in err.where


def test_duplicated_polygon_is_an_overlap(data_copy: Make) -> None:
    def dup(doc: Doc) -> None:
        _feature(doc, "DH-01-02")["geometry"] = _feature(doc, "DH-01-01")["geometry"]

    _raises(data_copy(grids=dup), GRIDS_FILE, "overlaps", "DH-01-01", "DH-01-02")


def test_grid_stretched_over_its_neighbour(data_copy: Make) -> None:
    def widen(doc: Doc) -> None:
        # Stretch BC-01-01's east side to the east side of its neighbour
        # BC-01-02, covering it.
        ring = _ring(doc, "BC-01-01")
        east = _ring(doc, "BC-01-02")
        ring[1], ring[2] = list(east[1]), list(east[2])

    _raises(data_copy(grids=widen), GRIDS_FILE, "overlaps", "BC-01-01")


@pytest.mark.parametrize(
    ("grid_id", "fragment"),
    [
        ("XL-2-03", "is not <TOWN>-<VV>-<GG>"),
        ("DH-02-03", "does not start with its town"),
        ("XL-03-09", "not in its village"),
    ],
)
def test_bad_grid_id(data_copy: Make, grid_id: str, fragment: str) -> None:
    def rename(doc: Doc) -> None:
        f = _feature(doc, "XL-02-03")
        f["properties"]["grid_id"] = grid_id
        f["id"] = grid_id

    _raises(data_copy(grids=rename), GRIDS_FILE, fragment, grid_id)


def test_duplicate_grid_id(data_copy: Make) -> None:
    def dup(doc: Doc) -> None:
        f = _feature(doc, "XL-02-04")
        f["properties"]["grid_id"] = f["id"] = "XL-02-03"

    _raises(data_copy(grids=dup), GRIDS_FILE, "duplicate grid id", "XL-02-03")


def test_unclosed_ring(data_copy: Make) -> None:
    _raises(data_copy(grids=lambda d: _ring(d, "NJ-01-01").pop()), GRIDS_FILE, "not closed", "NJ-01-01")


def test_polygon_outside_bounds(data_copy: Make) -> None:
    def move(doc: Doc) -> None:
        for pos in _ring(doc, "NJ-03-04"):
            pos[1] -= 0.5

    _raises(data_copy(grids=move), GRIDS_FILE, "outside the district bounds", "NJ-03-04")


def test_bowtie_ring(data_copy: Make) -> None:
    def twist(doc: Doc) -> None:
        ring = _ring(doc, "DH-03-01")
        ring[1], ring[2] = ring[2], ring[1]

    _raises(data_copy(grids=twist), GRIDS_FILE, "crosses or touches itself", "DH-03-01")


def test_missing_datum(data_copy: Make) -> None:
    _raises(data_copy(grids=lambda d: d.pop("datum")), GRIDS_FILE, "'datum'")


def test_missing_town_department(data_copy: Make) -> None:
    def drop(doc: Doc) -> None:
        doc["departments"] = [d for d in doc["departments"] if d["code"] != "PCS-NJ"]

    _raises(data_copy(departments=drop), DEPARTMENTS_FILE, "town NJ has no PCS-NJ")


def test_missing_district_department(data_copy: Make) -> None:
    def drop(doc: Doc) -> None:
        doc["departments"] = [d for d in doc["departments"] if d["code"] != "YJ"]

    _raises(data_copy(departments=drop), DEPARTMENTS_FILE, "missing district departments ['YJ']")


@pytest.mark.parametrize("code", ["sfs-XL", "SFS_XL", "SFS-XL-1", "A-B-C"])
def test_bad_department_code(data_copy: Make, code: str) -> None:
    def add(doc: Doc) -> None:
        doc["departments"].append({"code": code, "name": "某单位"})

    _raises(data_copy(departments=add), DEPARTMENTS_FILE, "does not match", code)


def test_town_unit_for_unknown_town(data_copy: Make) -> None:
    def add(doc: Doc) -> None:
        doc["departments"].append({"code": "SFS-QQ", "name": "某镇司法所", "town_code": "QQ"})

    _raises(data_copy(departments=add), DEPARTMENTS_FILE, "town 'QQ' is not a town", "SFS-QQ")


def test_invalid_json_names_the_file(data_copy: Make) -> None:
    folder = data_copy()
    (folder / DEPARTMENTS_FILE).write_text("{not json", encoding="utf-8")
    _raises(folder, DEPARTMENTS_FILE, "not valid JSON")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    _raises(tmp_path, GRIDS_FILE, "cannot read")
