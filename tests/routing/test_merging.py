"""The merge rules one at a time (routing/merging.py), and merge.yaml's validator (files in tmp_path)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from infra.datafile import DataFileError
from routing import default_data_dir
from routing.merge_rules import MergeRules, load_merge_rules
from routing.merging import (
    Candidate,
    Incident,
    MergeEvidence,
    cell_of,
    find_match,
    neighbour_cells,
    place_names,
    text_similarity,
)

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=timezone(timedelta(hours=8)))
LAT, LON = 22.764070, 108.413494  # DH-01-02's centroid
GRID = "DH-01-02"
M_PER_DEG = 111_195.0


@pytest.fixture(scope="module")
def rules() -> MergeRules:
    return load_merge_rules()


def report(
    text: str = "井盖缺失 建设路128号门前人行道上有个井盖不见了",
    *,
    network: str = "mobile",
    code: str = "URBAN/manhole_cover",
    north: float = 0.0,
    east: float = 0.0,
    point: bool = True,
    grid: str | None = GRID,
    at: timedelta = timedelta(0),
) -> Incident:
    """A report ``north``/``east`` metres from the base point, ``at`` after T0."""
    category, _, sub = code.partition("/")
    lat = LAT + north / M_PER_DEG
    lon = LON + east / (M_PER_DEG * math.cos(math.radians(LAT)))
    return Incident(
        uuid.uuid4(), network, category, sub or None, lat if point else None, lon if point else None, grid, T0 + at, text
    )


def case_of(first: Incident, *more: Incident) -> Candidate:
    case = Candidate.opened(uuid.uuid4(), first)
    for r in more:
        case = case.linked(r)
    return case


def match(new: Incident, *cases: Candidate, rules: MergeRules) -> MergeEvidence | None:
    return find_match(new, cases, rules)


# -- place -----------------------------------------------------------------------------------


def test_near_points_merge_with_the_metres_as_evidence(rules: MergeRules) -> None:
    case = case_of(report())
    found = match(report("井盖缺失，已拍照", network="urban", east=35, at=timedelta(minutes=42)), case, rules=rules)
    assert found is not None and found.case_id == case.case_id and found.rule == "same_incident"
    assert found.metres == pytest.approx(35, abs=0.5) and found.minutes == pytest.approx(42)


def test_the_same_problem_300_m_away_at_the_same_time_is_another_incident(rules: MergeRules) -> None:
    case = case_of(report())
    assert match(report(east=300), case, rules=rules) is None
    assert match(report(north=rules.metres + 5), case, rules=rules) is None


def test_12345_points_may_be_geocoded_tens_of_metres_off(rules: MergeRules) -> None:
    case = case_of(report())
    off = rules.metres + 40  # beyond a GPS point's reach, within a geocoded one's
    assert match(report(north=off), case, rules=rules) is None
    assert match(report(network="hotline12345", north=off), case, rules=rules) is not None


# -- category --------------------------------------------------------------------------------


def test_networks_that_classify_one_hole_differently_merge(rules: MergeRules) -> None:
    case = case_of(report("路面坑洼，已拍照", network="urban", code="URBAN/road_damage"))
    call = report("来电人反映：路上有个大坑", network="hotline12345", code="TRAFFIC/broken_traffic_facility", east=50)
    assert match(call, case, rules=rules) is not None


def test_different_problems_at_one_spot_are_different_cases(rules: MergeRules) -> None:
    light = case_of(report("路灯不亮 建设路口一排路灯晚上都不亮", code="URBAN/street_light"))
    vending = report("占道经营 建设路口流动摊贩把人行道占了", code="URBAN/street_vending", east=5, at=timedelta(minutes=20))
    assert match(vending, light, rules=rules) is None


def test_a_category_only_report_needs_the_text_to_say_the_same_problem(rules: MergeRules) -> None:
    light = case_of(report("路灯不亮 建设路一排路灯晚上都不亮", code="URBAN/street_light"))
    same = report("建设路路灯坏了，晚上黑漆漆的", code="URBAN", east=10)
    other = report("流动摊贩把人行道占了", code="URBAN", east=10)
    assert match(same, light, rules=rules) is not None
    assert match(other, light, rules=rules) is None
    # and it may be the other half of a compatibility group: TRAFFIC (any) with URBAN/road_damage
    hole = case_of(report("路面坑洼 路面有个大坑", code="URBAN/road_damage"))
    assert match(report("路面有个大坑，车子颠得厉害", code="TRAFFIC", east=10), hole, rules=rules) is not None


# -- time ------------------------------------------------------------------------------------


def test_a_persistent_problem_stays_one_incident_while_its_case_is_open(rules: MergeRules) -> None:
    case = case_of(report())
    later = report("井盖缺失还没修好 建设路128号的井盖还没修好", network="hotline12345", at=timedelta(days=9))
    found = match(later, case, rules=rules)
    assert found is not None and found.rule == "persistent_problem" and found.minutes == pytest.approx(9 * 1440)
    assert "9.0 天" in found.summary()


def test_a_transient_event_on_another_day_is_a_new_incident(rules: MergeRules) -> None:
    noise = case_of(report("噪声扰民 工地半夜施工", code="ENVIRONMENT/noise"))
    assert match(report("工地又在半夜施工", code="ENVIRONMENT/noise", at=timedelta(hours=3)), noise, rules=rules)
    assert match(report("工地又在半夜施工", code="ENVIRONMENT/noise", at=timedelta(days=1)), noise, rules=rules) is None


def test_time_is_the_incidents_own_and_counts_to_the_nearest_report_of_the_case(rules: MergeRules) -> None:
    fight = report("打架斗殴 两伙人打架", code="SECURITY/fight_brawl", at=timedelta(days=-3))  # last night's batch, days old
    case = case_of(fight, replace(fight, report_id=uuid.uuid4(), occurred_at=fight.occurred_at + timedelta(hours=5)))
    assert case.reports == 2 and case.last_occurred_at == fight.occurred_at + timedelta(hours=5)
    call = report("有人打架", code="SECURITY/fight_brawl", at=timedelta(days=-3, hours=12))  # 7 h after the latest
    found = match(call, case, rules=rules)
    assert found is not None and found.minutes == pytest.approx(7 * 60)
    assert match(report("有人打架", code="SECURITY/fight_brawl", at=timedelta(days=-3, hours=-7)), case, rules=rules)


def test_a_persistent_and_a_transient_subcategory_together_are_transient(rules: MergeRules) -> None:
    persistent, transient = report(code="URBAN/manhole_cover"), report(code="ENVIRONMENT/noise")
    assert rules.pair_kind(persistent, persistent) == "persistent"
    assert rules.pair_kind(persistent, transient) == "transient"
    assert rules.pair_kind(persistent, report(code="URBAN")) == "persistent"  # unknown: the other side's kind
    assert rules.kind("LIVELIHOOD", "schooling") == rules.default_kind == "transient"


# -- grid only, no place ---------------------------------------------------------------------


def test_without_a_point_the_same_grid_is_the_place_evidence(rules: MergeRules) -> None:
    case = case_of(report())
    call = report("来电人反映：建设路有个井盖被偷了", network="hotline12345", point=False, at=timedelta(hours=2))
    found = match(call, case, rules=rules)
    assert found is not None and found.rule == "same_grid" and found.metres is None
    assert found.summary().startswith("同一网格 (无坐标), 相隔 2.0 小时")
    assert match(replace(call, grid_id="DH-01-03"), case, rules=rules) is None


def test_in_one_grid_two_different_road_names_are_two_spots(rules: MergeRules) -> None:
    case = case_of(report("井盖缺失 解放路有个井盖不见了", point=False))
    assert match(report("井盖丢失 人民路有个井盖不见了", point=False), case, rules=rules) is None
    assert match(report("井盖丢失 解放路88号门前井盖没了", point=False), case, rules=rules) is not None
    # an estate and a road may name one spot two ways: no conflict between kinds
    assert match(report("井盖丢失 翠苑小区门口井盖没了", point=False), case, rules=rules) is not None


def test_a_report_with_neither_point_nor_grid_is_never_merged(rules: MergeRules) -> None:
    case = case_of(report(point=False, grid=None))
    assert match(report(point=False, grid=None), case, rules=rules) is None
    assert match(report(point=False, grid=None), case_of(report()), rules=rules) is None


def test_a_case_without_a_point_is_placed_by_the_first_report_that_brings_one(rules: MergeRules) -> None:
    first = report(point=False)
    case = case_of(first, report(east=400))
    assert case.placed_by is not None and case.anchor is case.placed_by
    assert match(report(east=420), case, rules=rules) is not None  # near the anchor
    assert match(report(east=0), case, rules=rules) is None  # 400 m from it
    assert case_of(report(), report(east=50)).placed_by is None  # the first had a point: it stays the anchor


def test_the_report_that_opened_a_case_does_not_join_it(rules: MergeRules) -> None:
    first = report()
    assert match(first, case_of(first), rules=rules) is None


def test_the_nearest_of_two_cases_wins(rules: MergeRules) -> None:
    near, far = case_of(report(east=10)), case_of(report(east=90))
    found = match(report(east=0), far, near, rules=rules)
    assert found is not None and found.case_id == near.case_id


# -- text ------------------------------------------------------------------------------------


def test_call_takers_framing_does_not_count_as_likeness(rules: MergeRules) -> None:
    a = "来电人反映：有人在楼道里给电动车充电。请相关单位按时办理并回复。"
    b = "来电人反映：小区门口井盖没了。请相关单位按时办理并回复。"
    assert text_similarity(a, b, rules) == 0.0
    assert text_similarity("市民来电称，建设路井盖缺失", "来电人反映：建设路井盖缺失", rules) == 1.0


def test_an_inspectors_terse_words_match_a_long_summary(rules: MergeRules) -> None:
    terse = "井盖缺失，已拍照"
    summary = "群众来电反映，建设路与民主路交叉口井盖缺失，晚上很危险，来电人要求尽快处理。"
    assert text_similarity(terse, summary, rules) == 1.0
    assert text_similarity(terse, "路灯不亮，已拍照", rules) == 0.0


def test_place_names_are_roads_estates_and_numbered_groups(rules: MergeRules) -> None:
    names = place_names("人民路与环城东路交叉口，翠苑小区门口，石门村12组，过马路很危险，路灯不亮", rules)
    assert names["road"] == {"人民路", "城东路"}
    assert "翠苑小区" in names["estate"]
    assert names["group"] == {"12组"}


def test_summary_is_one_chinese_line(rules: MergeRules) -> None:
    evidence = MergeEvidence(uuid.uuid4(), "same_incident", 35.2, 42.0, 0.612)
    assert evidence.summary() == "相距 35 米, 相隔 42 分钟, 文本相似度 0.61 (同一事件)"


# -- cells -----------------------------------------------------------------------------------


def test_a_cell_and_its_eight_neighbours(rules: MergeRules) -> None:
    cells = neighbour_cells(LAT, LON, rules)
    assert len(set(cells)) == 9 and cell_of(LAT, LON, rules) in cells
    assert cell_of(LAT, LON, rules) == cell_of(LAT + 1e-7, LON + 1e-7, rules)
    assert cell_of(LAT, LON, rules) not in neighbour_cells(LAT + 3 * rules.cell_metres / M_PER_DEG, LON, rules)


def test_every_point_within_reach_is_in_a_neighbouring_cell(rules: MergeRules) -> None:
    rng = random.Random(5)
    reach = rules.longest_reach
    for _ in range(3000):
        lat, lon = rng.uniform(22.60, 22.85), rng.uniform(108.20, 108.50)
        bearing, metres = rng.uniform(0, 2 * math.pi), reach * rng.choice((1.0, rng.random()))
        other_lat = lat + metres * math.cos(bearing) / M_PER_DEG
        other_lon = lon + metres * math.sin(bearing) / (M_PER_DEG * math.cos(math.radians(lat)))
        assert cell_of(other_lat, other_lon, rules) in neighbour_cells(lat, lon, rules)


# -- the data file ---------------------------------------------------------------------------


def test_the_shipped_file_loads_once(rules: MergeRules) -> None:
    assert load_merge_rules() is load_merge_rules()
    assert rules.cell_metres >= rules.longest_reach
    assert "URBAN/manhole_cover" in rules.kinds and any("URBAN/road_damage" in g for g in rules.groups)


Edit = Callable[[str], str]


def shipped_with(edit: Edit) -> Callable[[Path], Path]:
    def write(tmp_path: Path) -> Path:
        path = tmp_path / "merge.yaml"
        path.write_text(edit((default_data_dir() / "merge.yaml").read_text(encoding="utf-8")), encoding="utf-8")
        return path

    return write


def swap(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return edit


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (swap("cell_metres: 300", "cell_metres: 300\ncell_size: 2  # BAD"), ("unknown key", "cell_size")),
        (swap("cell_metres: 300", "cell_metres: 150  # BAD"), ("longest reach",)),
        (swap("  metres: 100", "  metres: -5  # BAD"), ("positive number",)),
        (swap("    hotline12345: 60", "    hotline: 60  # BAD"), ("unknown network", "hotline")),
        (swap("  transient: 8h", "  transient: 8 hours  # BAD"), ("duration",)),
        (swap("  vague: 0.05", "  vague: 1.5  # BAD"), ("from 0 to 1",)),
        (swap("  default: transient", "  default: forever  # BAD"), ("kinds.default",)),
        (swap("    - URBAN/manhole_cover", "    - URBAN/manhole  # BAD"), ("unknown subcategory", "manhole")),
        (swap("    - URBAN/manhole_cover", "    - ROADS/manhole_cover  # BAD"), ("known category",)),
        (swap("  transient:\n    - ENVIRONMENT/noise", "  transient:\n    - URBAN/manhole_cover  # BAD"),
         ("listed twice",)),
        (swap("compatible:\n", "compatible:\n  - [URBAN/garbage]  # BAD\n"), ("two or more",)),
        (swap('group: ["#组", "#队"]', 'group: ["#"]  # BAD'), ("'#' must be followed",)),
    ],
)
def test_a_bad_merge_file_names_file_and_line(tmp_path: Path, edit: Edit, words: tuple[str, ...]) -> None:
    path = shipped_with(edit)(tmp_path)
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "# BAD" in text)
    with pytest.raises(DataFileError) as exc:
        load_merge_rules(path)
    message = str(exc.value)
    assert message.startswith(f"{path}:{line}: "), message
    for word in words:
        assert word in message, (word, message)


def test_an_empty_or_missing_section_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"empty\.yaml:1: the file is empty"):
        load_merge_rules(empty)
    no_time = tmp_path / "no_time.yaml"
    no_time.write_text("cell_metres: 300\nplace: {metres: 100}\ntext: {}\nkinds: {default: transient}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"no_time\.yaml:1: the merge file has no 'time'"):
        load_merge_rules(no_time)
