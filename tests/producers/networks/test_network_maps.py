"""The networks' mapping tables: the shipped ones cover the district, and a bad table is refused at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from district import load_registry
from infra.datafile import DataFileError
from producers.networks.adapt import FORMATS
from producers.networks.maps import NETWORKS, NetworkMaps, load_maps
from producers.networks.tools import make_maps
from schemas.vocabulary import SourceNetwork

GOOD = """\
network: comprehensive
categories:
  MD04: {name: 劳资纠纷, category: DISPUTE, subcategory: wages}
  QT01: {name: 城市管理类问题, category: URBAN}
grids:
  "451002101203": XL-02-03
"""


def _load(tmp_path: Path, text: str) -> NetworkMaps:
    (tmp_path / "comprehensive.yaml").write_text(text, encoding="utf-8")
    return load_maps(tmp_path)


def test_every_shipped_table_maps_every_grid_of_the_district() -> None:
    maps = load_maps()
    grid_ids = {g.grid_id for g in load_registry().grids}
    assert len(grid_ids) == 48
    for network in NETWORKS:
        table = maps[network]
        assert set(table.grids.values()) == grid_ids, network
        assert len(table.categories) >= 15, network


def test_every_network_with_a_table_has_a_format() -> None:
    assert tuple(FORMATS) == NETWORKS


def test_the_networks_write_their_grids_differently() -> None:
    maps = load_maps()
    codes = {n: maps[n].grids for n in NETWORKS}
    for a in NETWORKS:
        for b in NETWORKS:
            if a is not b:
                assert not set(codes[a]) & set(codes[b]), (a, b)
    assert not set(codes[SourceNetwork.URBAN]) & {g.grid_id for g in load_registry().grids}


def test_the_grid_sections_are_what_the_generator_writes() -> None:
    assert make_maps.main(["--check"]) == 0, "run python -m producers.networks.tools.make_maps"


def test_a_folder_with_one_table_takes_the_others_from_the_shipped(tmp_path: Path) -> None:
    maps = _load(tmp_path, GOOD)
    assert maps[SourceNetwork.COMPREHENSIVE].grids == {"451002101203": "XL-02-03"}
    assert maps[SourceNetwork.URBAN] == load_maps()[SourceNetwork.URBAN]
    assert maps[SourceNetwork.COMPREHENSIVE].categories["QT01"].subcategory is None


def test_a_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        load_maps(tmp_path / "nowhere")


FAULTS = {
    "unknown grid id": (GOOD.replace("XL-02-03", "XL-09-09"), 6, "unknown unified grid id 'XL-09-09'"),
    "grid id not text": (GOOD.replace("XL-02-03", "[XL-02-03]"), 6, "must map to a grid id"),
    "unknown category": (GOOD.replace("category: URBAN", "category: WEATHER"), 4, "unknown category 'WEATHER'"),
    "unknown subcategory": (GOOD.replace("wages", "salary"), 3, "unknown subcategory 'salary' of DISPUTE"),
    "subcategory of another category": (GOOD.replace("wages", "noise"), 3, "unknown subcategory 'noise'"),
    "unknown severity": (GOOD.replace("category: URBAN}", "category: URBAN, severity: P9}"), 4, "severity of"),
    "unknown key": (GOOD.replace("category: URBAN}", "category: URBAN, lead: CG}"), 4, "unknown key 'lead'"),
    "no name": (GOOD.replace("name: 城市管理类问题, ", ""), 4, "has no 'name'"),
    "duplicate code": (GOOD.replace("  QT01:", "  MD04:"), 4, "duplicate key 'MD04' (first at line 3)"),
    "duplicate grid code": (GOOD + '  "451002101203": XL-02-04\n', 7, "duplicate key '451002101203'"),
    "code written as a number": (GOOD.replace('"451002101203"', "451002101203"), 6, "keys must be strings"),
    "code with spaces": (GOOD.replace('"451002101203"', '" 451002101203"'), 6, "has spaces around it"),
    "grids as a list": (GOOD.replace('  "451002101203": XL-02-03', "  - XL-02-03"), 5, "grids must be a mapping"),
    "entry not a mapping": (GOOD.replace("{name: 城市管理类问题, category: URBAN}", "URBAN"), 4, "must be a mapping"),
    "no grids section": (GOOD.split("grids:")[0], 1, "the table has no 'grids'"),
    "another network's table": (GOOD.replace("comprehensive", "urban"), 1, "expected 'comprehensive'"),
    "unknown top-level key": ("datum: WGS-84\n" + GOOD, 1, "unknown key 'datum'"),
    "not YAML": (GOOD + "  - oops\n", 7, "not valid YAML"),
}


@pytest.mark.parametrize("text, line, problem", FAULTS.values(), ids=FAULTS.keys())
def test_a_bad_table_is_refused_naming_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    with pytest.raises(DataFileError) as caught:
        _load(tmp_path, text)
    file = str(tmp_path / "comprehensive.yaml")
    assert (caught.value.file, caught.value.line) == (file, line), str(caught.value)
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{file}:{line}: ")
