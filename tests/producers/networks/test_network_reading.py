"""The rules every network's adapter shares: times, points, phones, titles, codes, ids and blame."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from producers.networks.adapt import AdapterError, adapt, load_maps, report_id_for
from producers.networks.format import derive_title, mobile_or_none
from producers.networks.maps import NetworkMaps
from producers.networks.times import (
    COMPACT_SECONDS,
    EPOCH_MS,
    ISO_8601,
    LOCAL_SECONDS,
    SLASHED_MINUTES,
)
from schemas.vocabulary import Datum, SourceNetwork

UTC = timezone.utc
AT_0840_BEIJING = datetime(2026, 11, 25, 0, 40, tzinfo=UTC)
WAGES = {
    "sjbh": "ZZ202611250007",
    "wgbm": "451002101203",
    "sjlx": "MD04",
    "sjms": "两户因工钱起争执，要求调解。",
    "fssj": "2026-11-25 08:40:00",
}


@pytest.fixture(scope="module")
def maps() -> NetworkMaps:
    return load_maps()


# -- times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "clock, value",
    [
        (LOCAL_SECONDS, "2026-11-25 08:40:00"),
        (SLASHED_MINUTES, "2026/11/25 08:40"),
        (COMPACT_SECONDS, "20261125084000"),
        (COMPACT_SECONDS, 20261125084000),
        (EPOCH_MS, 1795567200000),
        (EPOCH_MS, "1795567200000"),
        (ISO_8601, "2026-11-25T08:40:00+08:00"),
        (ISO_8601, "2026-11-25T00:40:00Z"),
        (ISO_8601, "2026-11-25T08:40:00"),  # no offset: Beijing time
    ],
)
def test_every_format_reads_the_same_instant(clock, value) -> None:  # type: ignore[no-untyped-def]
    assert clock.parse(value) == AT_0840_BEIJING
    assert clock.parse(value).tzinfo is UTC


def test_an_excel_export_without_leading_zeros_is_read() -> None:
    assert SLASHED_MINUTES.parse("2026/1/5 8:40") == datetime(2026, 1, 5, 0, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    "clock, value, says",
    [
        (EPOCH_MS, 1795567200, "看起来是秒而不是毫秒"),
        (EPOCH_MS, True, "毫秒时间戳"),
        (LOCAL_SECONDS, "2026-11-25 08:40", "2026-11-25 08:40:00"),
        (LOCAL_SECONDS, "1999-12-31 23:59:59", "2000–2099"),
        (SLASHED_MINUTES, "2026/02/30 08:40", "不是有效的日期时间"),
        (COMPACT_SECONDS, "2026112508400", "20261125084000"),
        (ISO_8601, "0001-01-01T00:00:00+08:00", "2000–2099"),
        (ISO_8601, "2026-11-25", "ISO 8601"),
    ],
)
def test_a_time_that_is_none_is_refused_saying_why(clock, value, says: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=says):
        clock.parse(value)


@pytest.mark.parametrize("clock", [LOCAL_SECONDS, SLASHED_MINUTES, COMPACT_SECONDS, EPOCH_MS, ISO_8601])
def test_every_format_writes_what_it_reads(clock) -> None:  # type: ignore[no-untyped-def]
    when = datetime(2026, 11, 25, 0, 40, 17, 250000, tzinfo=UTC)
    assert timedelta(0) <= when - clock.parse(clock.render(when)) < clock.resolution


# -- the event as a whole ------------------------------------------------------------------------


def test_the_report_id_is_pinned() -> None:
    # A changed namespace would turn every resent event into a new report and a new case.
    assert report_id_for(SourceNetwork.COMPREHENSIVE, "ZZ202611250007") == uuid.UUID(
        "007aa240-7a4e-5bb0-947d-c4acd6ab8dc8"
    )
    assert report_id_for(SourceNetwork.URBAN, "ZZ202611250007") != report_id_for(
        SourceNetwork.COMPREHENSIVE, "ZZ202611250007"
    )


def test_a_numeric_code_or_id_in_json_is_its_digits(maps: NetworkMaps) -> None:
    typed = adapt(SourceNetwork.COMPREHENSIVE, WAGES | {"wgbm": 451002101203}, maps)
    assert typed.report == adapt(SourceNetwork.COMPREHENSIVE, WAGES, maps).report
    urban = {"TASK_NUM": 2611250042, "CELL_CODE": "CG-XL-0203", "EVENT_DESC": "井盖缺失", "DISCOVER_TIME": 1795567200000}
    assert adapt(SourceNetwork.URBAN, urban, maps).origin.event_id == "2611250042"


def test_no_grid_and_no_category_is_no_note(maps: NetworkMaps) -> None:
    bare = {k: v for k, v in WAGES.items() if k not in ("wgbm", "sjlx")}
    adapted = adapt(SourceNetwork.COMPREHENSIVE, bare, maps)
    assert adapted.report.grid_id is None and adapted.report.category_hint is None
    assert adapted.origin.mapping_note is None


def test_a_huge_unknown_code_is_noted_briefly(maps: NetworkMaps) -> None:
    adapted = adapt(SourceNetwork.COMPREHENSIVE, WAGES | {"wgbm": "9" * 3000}, maps)
    assert adapted.origin.mapping_note is not None and len(adapted.origin.mapping_note) < 100
    assert adapted.origin.payload["wgbm"] == "9" * 3000


def test_a_refusal_of_the_unified_report_names_the_field_that_fed_it(maps: NetworkMaps) -> None:
    # A table made without the validator (grid id not in the registry's shape) must still give an AdapterError.
    table = maps[SourceNetwork.COMPREHENSIVE]
    broken = NetworkMaps(dict(maps.tables) | {table.network: replace(table, grids={"451002101203": "not a grid"})})
    with pytest.raises(AdapterError) as caught:
        adapt(SourceNetwork.COMPREHENSIVE, WAGES, broken)
    assert caught.value.field == "wgbm"
    assert "grid_id" in caught.value.message


# -- places --------------------------------------------------------------------------------------


def test_zeros_are_no_fix_not_a_point(maps: NetworkMaps) -> None:
    adapted = adapt(SourceNetwork.COMPREHENSIVE, WAGES | {"jd": 0, "wd": "0"}, maps)
    assert adapted.report.location is None


def test_a_point_keeps_the_networks_datum(maps: NetworkMaps) -> None:
    urban = {"TASK_NUM": "1", "EVENT_DESC": "井盖缺失", "DISCOVER_TIME": 1795567200000, "COORD_X": 108.29, "COORD_Y": 22.71}
    point = adapt(SourceNetwork.URBAN, urban, maps).report.location
    assert point is not None and (point.lat, point.lon, point.datum) == (22.71, 108.29, Datum.GCJ02)


@pytest.mark.parametrize("zb", ["108.2849,22.7114", " 108.2849 ， 22.7114 ", "108.2849, 22.7114"])
def test_a_joined_point_is_read_with_either_comma(zb: str, maps: NetworkMaps) -> None:
    env = {"wtbh": "HB1", "wtms": "生活污水直排入河。", "fxsj": "2026/11/25 08:40", "zb": zb}
    point = adapt(SourceNetwork.ENVIRONMENT, env, maps).report.location
    assert point is not None and (point.lon, point.lat) == (108.2849, 22.7114)


@pytest.mark.parametrize(
    "change, field",
    [({"jd": 181}, "jd"), ({"wd": -91}, "wd"), ({"jd": None, "wd": 22.7}, "jd"), ({"jd": "108,3", "wd": 22.7}, "jd")],
)
def test_a_bad_coordinate_names_its_field(change: dict, field: str, maps: NetworkMaps) -> None:
    with pytest.raises(AdapterError) as caught:
        adapt(SourceNetwork.COMPREHENSIVE, WAGES | {"jd": 108.28, "wd": 22.71} | change, maps)
    assert caught.value.field == field


# -- phones, titles, descriptions ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, phone",
    [
        ("13812341234", "13812341234"),
        (13812341234, "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("8613812341234", "13812341234"),
        ("0771-5521234", None),
        ("138****1234", None),
        ("12812341234", None),
        ("１３８１２３４１２３４", None),
        (["13812341234"], None),
        (None, None),
    ],
)
def test_only_a_mobile_number_is_a_call_back_phone(value: object, phone: str | None) -> None:
    assert mobile_or_none(value) == phone


@pytest.mark.parametrize(
    "text, title",
    [
        ("来电人反映：石门村村口路灯坏了三天，晚上看不清路。", "石门村村口路灯坏了三天"),
        ("市民来电反映，湖滨路积水严重。", "湖滨路积水严重"),
        ("井盖缺失", "井盖缺失"),
        ("火。后山起火了", "火。后山起火了"),
        ("石门村村口往北两百米处的排水沟里有生活污水直接排进石门河里", "石门村村口往北两百米处的排水沟里有生活…"),
    ],
)
def test_a_title_is_made_from_the_text_when_the_network_has_none(text: str, title: str) -> None:
    assert derive_title(text) == title
    assert 2 <= len(derive_title(text)) <= 20


def test_the_callers_address_is_appended_to_the_summary(maps: NetworkMaps) -> None:
    call = {"work_order_no": "GD1", "call_time": "20261125084000", "summary": "来电人反映：路灯不亮。", "caller_address": "石门村"}
    report = adapt(SourceNetwork.HOTLINE, call, maps).report
    assert report.description == "来电人反映：路灯不亮。（来电人地址：石门村）"
    assert report.title == "路灯不亮"
    with pytest.raises(AdapterError) as caught:
        adapt(SourceNetwork.HOTLINE, call | {"summary": "反" * 3995}, maps)
    assert caught.value.field == "summary"


# -- hostile text and times (schemas.bounds): refused naming the network's own field ----------------

_NETWORK_TEXT_FIELDS = [
    (SourceNetwork.HOTLINE, "summary"),
    (SourceNetwork.HOTLINE, "title"),
    (SourceNetwork.HOTLINE, "caller_address"),
    (SourceNetwork.HOTLINE, "appeal_type"),  # a code: it would be quoted in the mapping note
    (SourceNetwork.HOTLINE, "area_path"),
    (SourceNetwork.URBAN, "EVENT_DESC"),
    (SourceNetwork.URBAN, "ADDRESS"),
    (SourceNetwork.URBAN, "SUB_TYPE_CODE"),
    (SourceNetwork.COMPREHENSIVE, "sjms"),
    (SourceNetwork.COMPREHENSIVE, "sjbt"),
    (SourceNetwork.COMPREHENSIVE, "wgbm"),
]


def _sample(network: SourceNetwork) -> dict:
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "schemas" / "examples" / network.value
    return json.loads(min(folder.glob("valid__*.json")).read_text(encoding="utf-8"))


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\u202e", "\u2066", "\u2069"], ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("network, field", _NETWORK_TEXT_FIELDS, ids=lambda v: getattr(v, "value", v))
def test_a_forbidden_character_is_refused_naming_the_networks_field(
    network: SourceNetwork, field: str, char: str, maps: NetworkMaps
) -> None:
    payload = _sample(network) | {field: f"石门村{char}村口"}
    with pytest.raises(AdapterError) as refused:
        adapt(network, payload, maps)
    assert refused.value.field == field
    assert f"U+{ord(char):04X}" in refused.value.message


def test_line_breaks_in_a_summary_are_kept(maps: NetworkMaps) -> None:
    payload = _sample(SourceNetwork.HOTLINE) | {"summary": "来电人反映：路灯不亮。\r\n\t已三天。"}
    assert "\r\n\t已三天" in adapt(SourceNetwork.HOTLINE, payload, maps).report.description


@pytest.mark.parametrize("ahead, refused", [(timedelta(minutes=9), False), (timedelta(minutes=11), True), (timedelta(days=400), True)])
def test_a_time_ahead_of_the_server_is_refused_naming_the_time_field(
    ahead: timedelta, refused: bool, maps: NetworkMaps
) -> None:
    when = datetime.now(UTC) + ahead
    payload = _sample(SourceNetwork.EMERGENCY) | {"occurTime": ISO_8601.render(when)}
    if not refused:
        assert adapt(SourceNetwork.EMERGENCY, payload, maps).report.occurred_at == when.replace(microsecond=0)
        return
    with pytest.raises(AdapterError) as caught:
        adapt(SourceNetwork.EMERGENCY, payload, maps)
    assert caught.value.field == "occurTime" and "10 分钟" in caught.value.message


def test_an_old_incident_is_accepted(maps: NetworkMaps) -> None:
    payload = _sample(SourceNetwork.HOTLINE) | {"call_time": "20000101000000"}  # 2000-01-01 00:00 Beijing
    assert adapt(SourceNetwork.HOTLINE, payload, maps).report.occurred_at.year in (1999, 2000)
