"""The shipped district data: validates, has the shape DESIGN describes."""

from __future__ import annotations

import re
from pathlib import Path

from district import Department, Grid, Registry, load_registry
from district.registry import GRIDS_FILE, default_data_dir
from district.tools import make_grids

# DESIGN "Places": the district lies within these bounds (WGS-84).
DESIGN_BOUNDS = (108.20, 22.60, 108.50, 22.85)


def grid(registry: Registry, grid_id: str) -> Grid:
    g = registry.grid(grid_id)
    assert g is not None, grid_id
    return g


def department_of(registry: Registry, code: str) -> Department:
    d = registry.department(code)
    assert d is not None, code
    return d


def test_shipped_data_loads_and_is_cached(registry: Registry) -> None:
    assert load_registry() is registry
    assert registry.name == "XX区"
    assert registry.datum == "WGS-84"


def test_loading_an_explicit_folder_validates_it() -> None:
    reg = load_registry(Path(str(default_data_dir())))
    assert len(reg.grids) == len(load_registry().grids)


def test_towns_villages_grids(registry: Registry) -> None:
    towns = {t.code: t.name for t in registry.towns}
    assert towns == {"DH": "东湖街道", "XL": "西岭镇", "NJ": "南江镇", "BC": "北城街道"}
    assert 10 <= len(registry.villages) <= 14
    assert len(registry.grids) >= 40
    for town in registry.towns:
        villages = [v for v in registry.villages if v.town_code == town.code]
        assert len(villages) == 3
        # 村 in a 镇, 社区 in a 街道.
        suffix = "社区" if town.kind == "街道" else "村"
        assert all(v.name.endswith(suffix) for v in villages), villages
        assert len(registry.grids_in(town.code)) >= 10


def test_grid_ids_and_names(registry: Registry) -> None:
    for g in registry.grids:
        assert re.fullmatch(r"[A-Z]{2}-\d{2}-\d{2}", g.grid_id)
        assert g.grid_id.startswith(g.village_code + "-")
        assert g.village_code.startswith(g.town_code + "-")
        assert g.name.startswith(g.town_name + g.village_name + "第")
        assert g.name.endswith("网格")
    assert grid(registry, "XL-02-03").name == "西岭镇石门村第三网格"
    assert registry.grid("XL-99-01") is None


def test_everything_is_inside_the_design_bounds(registry: Registry) -> None:
    west, south, east, north = DESIGN_BOUNDS
    assert west <= registry.bbox[0] < registry.bbox[2] <= east
    assert south <= registry.bbox[1] < registry.bbox[3] <= north
    for g in registry.grids:
        x0, y0, x1, y1 = g.bbox
        assert west <= x0 and x1 <= east and south <= y0 and y1 <= north


def test_departments(registry: Registry) -> None:
    codes = {d.code for d in registry.departments}
    for code in "ZZZX SFJ JJ CG SCJG YJ XF STHJ ZJ RS WJ MZ ZRZY JR WX XFJ LY JY".split():
        assert code in codes
    for town in registry.towns:
        for unit in ("SFS", "PCS", "ZF"):
            dept = registry.department(f"{unit}-{town.code}")
            assert dept is not None and dept.town_code == town.code and dept.town_level
            assert dept.name.startswith(town.name)
    assert all(re.fullmatch(r"[A-Z]+(-[A-Z]+)?", c) for c in codes)
    assert department_of(registry, "SFS-XL").name == "西岭镇司法所"
    assert department_of(registry, "PCS-DH").name == "东湖街道派出所"
    assert department_of(registry, "ZF-NJ").name == "南江镇政府"
    assert department_of(registry, "ZF-BC").name == "北城街道办事处"
    assert department_of(registry, "YJ").name == "应急管理局"
    assert registry.department("NOPE") is None


def test_bare_town_units_resolve_by_town(registry: Registry) -> None:
    bare = registry.department("SFS")
    assert bare is not None and bare.town_code is None and bare.town_level
    assert bare not in registry.departments  # it names a lead, it cannot receive a case
    assert registry.department_for("SFS", "XL") == registry.department("SFS-XL")
    assert registry.department_for("SFS", None) == bare
    assert registry.department_for("YJ", "XL") == registry.department("YJ")
    assert registry.department_for("SFS", "ZZ") is None


def test_committed_geojson_is_the_generator_output() -> None:
    # The GeoJSON is the data; this keeps it and its generator in step.
    committed = (default_data_dir() / GRIDS_FILE).read_text(encoding="utf-8")
    assert make_grids.render(make_grids.build()) == committed
