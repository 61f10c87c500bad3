"""The edge's bounds (schemas/bounds.py) as every record a client fills applies them: times, points, free text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.bounds import EARLIEST, QueryTime, forbidden_character
from schemas.case_flow import CaseActionRequest
from schemas.clickhouse import row
from schemas.report import AcceptedReport, NetworkOrigin, Report
from schemas.vocabulary import Role

BODY: dict[str, Any] = {
    "report_id": "0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10",
    "grid_id": "XL-02-03",
    "title": "村口路灯不亮",
    "description": "石门村村口路灯坏了三天，\n晚上很黑。",
    "occurred_at": "2026-11-25T08:40:00+08:00",
}
#: every character free text refuses: C0 controls but \t \n \r, DEL, C1, bidi embeddings/overrides/isolates
FORBIDDEN = [
    *[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"],
    "\x7f", "\x85", "\x9f",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
]  # fmt: skip
ALLOWED = ["\t", "\n", "\r", "井", "😀", "\u3000", "\u200b", "\u2028", "“引号”", "a\\b"]


def _refused(model: type[BaseModel], data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return caught.value.errors()


def _fields(errors: list[dict[str, Any]]) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in errors}


# --- occurred_at ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    ["1999-12-31T23:59:59+08:00", "1999-12-31T15:59:59Z", "1970-01-01T00:00:00+08:00", "0001-01-01T00:00:00+08:00"],
)
def test_a_time_before_2000_is_refused_naming_occurred_at(when: str) -> None:
    errors = _refused(Report, BODY | {"occurred_at": when})
    assert _fields(errors) == {"occurred_at"}
    assert errors[0]["type"] == "time_out_of_range" and "2000" in errors[0]["msg"]


@pytest.mark.parametrize("when", ["2000-01-01T00:00:00+08:00", "1999-12-31T16:00:00Z", "2000-01-01T00:00:00Z"])
def test_2000_01_01_in_beijing_time_is_accepted(when: str) -> None:
    assert Report.model_validate(BODY | {"occurred_at": when}).occurred_at >= EARLIEST


@pytest.mark.parametrize("ahead, accepted", [(timedelta(minutes=9), True), (timedelta(minutes=11), False)])
def test_a_device_clock_may_run_ten_minutes_ahead(ahead: timedelta, accepted: bool) -> None:
    when = (datetime.now(UTC) + ahead).isoformat()
    if accepted:
        Report.model_validate(BODY | {"occurred_at": when})
    else:
        errors = _refused(Report, BODY | {"occurred_at": when})
        assert _fields(errors) == {"occurred_at"} and "10 分钟" in errors[0]["msg"]


@pytest.mark.parametrize("when", ["2106-02-07T06:28:16Z", "9999-12-31T23:59:59-12:00"])
def test_a_time_past_clickhouse_s_range_is_refused(when: str) -> None:
    assert _fields(_refused(Report, BODY | {"occurred_at": when})) == {"occurred_at"}


@pytest.mark.parametrize("days", [1, 7, 30, 365 * 5])
def test_old_incidents_are_accepted(days: int) -> None:
    Report.model_validate(BODY | {"occurred_at": (datetime.now(UTC) - timedelta(days=days)).isoformat()})


def test_an_accepted_report_is_bounded_by_its_receipt_not_by_the_reader_s_clock() -> None:
    received = datetime(2026, 11, 25, 1, tzinfo=UTC)
    report = Report.model_validate(BODY | {"occurred_at": "2026-11-25T01:09:00Z"})
    accepted = AcceptedReport.stamp(report, reporter_id="w1", reporter_role=Role.GRID_WORKER, received_at=received)
    assert AcceptedReport.model_validate_json(accepted.model_dump_json()) == accepted
    late = accepted.model_dump() | {"received_at": received - timedelta(minutes=2)}
    assert _fields(_refused(AcceptedReport, late)) == {"occurred_at"}
    assert _fields(_refused(AcceptedReport, accepted.model_dump() | {"occurred_at": "1970-01-01T00:00:00Z"})) == {
        "occurred_at"
    }


def test_every_accepted_time_fits_clickhouse_datetime() -> None:
    for when in ("2000-01-01T00:00:00+08:00", (datetime.now(UTC) + timedelta(minutes=9)).isoformat()):
        report = Report.model_validate(BODY | {"occurred_at": when})
        accepted = AcceptedReport.stamp(
            report, reporter_id="w1", reporter_role=Role.GRID_WORKER, received_at=datetime.now(UTC)
        )
        stored = row(accepted, case_id="6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61")["occurred_at"]
        assert datetime(1970, 1, 1) < stored < datetime(2106, 2, 7)


# --- coordinates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lat, lon, field",
    [
        (float("nan"), 108.3, "location.lat"),
        (22.7, float("nan"), "location.lon"),
        (float("inf"), 108.3, "location.lat"),
        (22.7, float("-inf"), "location.lon"),
        (90.000001, 108.3, "location.lat"),
        (-91, 108.3, "location.lat"),
        (22.7, 180.5, "location.lon"),
        (22.7, -181, "location.lon"),
        (1e308, 108.3, "location.lat"),
    ],
)
def test_a_point_must_be_finite_and_on_earth(lat: float, lon: float, field: str) -> None:
    data = {k: v for k, v in BODY.items() if k != "grid_id"} | {"location": {"lat": lat, "lon": lon, "datum": "WGS-84"}}
    assert field in _fields(_refused(Report, data))


def test_a_json_nan_coordinate_is_refused_as_the_intake_parses_it() -> None:
    # FastAPI reads the body with json.loads, which takes NaN and Infinity literals.
    raw = json.dumps({k: v for k, v in BODY.items() if k != "grid_id"} | {"location": {"lat": "X", "lon": 108.3, "datum": "WGS-84"}})
    for literal in ("NaN", "Infinity", "-Infinity"):
        data = json.loads(raw.replace('"X"', literal))
        assert "location.lat" in _fields(_refused(Report, data))


@pytest.mark.parametrize("lat, lon", [(90, 180), (-90, -180), (39.9, 116.4), (0.0, 0.0)])
def test_a_valid_point_anywhere_is_accepted_and_left_to_triage(lat: float, lon: float) -> None:
    data = {k: v for k, v in BODY.items() if k != "grid_id"} | {"location": {"lat": lat, "lon": lon, "datum": "WGS-84"}}
    assert Report.model_validate(data).location is not None


# --- free text --------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["title", "description"])
def test_a_report_text_refuses_each_forbidden_character(field: str, char: str) -> None:
    errors = _refused(Report, BODY | {field: f"路灯{char}不亮"})
    assert _fields(errors) == {field}
    assert errors[0]["type"] == "forbidden_character" and f"U+{ord(char):04X}" in errors[0]["msg"]


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["note", "reason", "subcategory"])
def test_a_case_action_text_refuses_each_forbidden_character(field: str, char: str) -> None:
    errors = _refused(CaseActionRequest, {"action": "resolve", field: f"已处理{char}完毕"})
    assert _fields(errors) == {field} and errors[0]["type"] == "forbidden_character"


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["event_id", "mapping_note", "subcategory_hint"])
def test_a_network_origin_text_refuses_each_forbidden_character(field: str, char: str) -> None:
    data = {"event_id": "GD1", "payload": {}} | {field: f"GD{char}1"}
    assert _fields(_refused(NetworkOrigin, data)) == {field}


def test_accepted_report_stamps_refuse_forbidden_characters_too() -> None:
    report = Report.model_validate(BODY)
    accepted = AcceptedReport.stamp(report, reporter_id="w1", reporter_role=Role.GRID_WORKER, received_at=datetime.now(UTC))
    for field in ("title", "description", "source_event_id", "mapping_note", "subcategory_hint"):
        assert _fields(_refused(AcceptedReport, accepted.model_dump() | {field: "ab\x00cd"})) == {field}


@pytest.mark.parametrize("char", ALLOWED, ids=repr)
def test_line_breaks_tabs_and_ordinary_unicode_are_kept(char: str) -> None:
    text = f"第一行{char}第二行"
    assert Report.model_validate(BODY | {"description": text}).description == text
    assert CaseActionRequest.model_validate({"action": "resolve", "note": text}).note == text


def test_lengths_stay_bounded() -> None:
    assert _fields(_refused(Report, BODY | {"title": "灯" * 101})) == {"title"}
    assert _fields(_refused(Report, BODY | {"description": "灯" * 4001})) == {"description"}
    assert _fields(_refused(CaseActionRequest, {"action": "resolve", "note": "灯" * 2001})) == {"note"}
    assert _fields(_refused(CaseActionRequest, {"action": "return", "reason": "灯" * 501})) == {"reason"}


def test_forbidden_character_says_where() -> None:
    assert forbidden_character("井盖\u202e缺失") == (3, "U+202E")
    assert forbidden_character("井盖缺失\n有坑\t") is None


# --- a query's period -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "9999-12-31T00:00:00+08:00"])
def test_a_query_time_outside_2000_to_2099_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(QueryTime).validate_python(value)


def test_a_naive_query_time_is_utc() -> None:
    assert TypeAdapter(QueryTime).validate_python("2026-11-25T08:00:00") == datetime(2026, 11, 25, 8, tzinfo=UTC)
