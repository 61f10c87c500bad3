from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

from district import load_registry, wgs84_to_gcj02
from processors.agents.accept import case_id_for, opening_for, shanghai_day
from processors.lifecycle.decide import report_text
from schemas.case_flow import UNKNOWN_TOWN
from schemas.report import AcceptedReport, Point, Report
from schemas.vocabulary import Category, Datum, Role, Severity

RECEIVED = datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 25th in Shanghai


def _report(**fields: object) -> AcceptedReport:
    base: dict[str, object] = dict(
        report_id=UUID("0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10"),
        reporter_phone="13812345678",
        title="路灯不亮",
        description="村口路灯坏了",
        occurred_at=RECEIVED,
    )
    base.update(fields)
    return AcceptedReport.stamp(
        Report(**base), reporter_id="w1", reporter_role=Role.GRID_WORKER, received_at=RECEIVED  # type: ignore[arg-type]
    )


def test_case_id_is_derived_from_the_report_id() -> None:
    rid = UUID("0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10")
    assert case_id_for(rid) == case_id_for(rid)
    assert case_id_for(rid) != case_id_for(UUID("5d0e6a2b-91c4-4f7a-8e3d-2c1b0a9f8e77"))


def test_days_are_shanghai_days() -> None:
    assert shanghai_day(RECEIVED) == "20261125"


def test_a_grid_report_joins_its_town_and_is_classified(report_classifier) -> None:  # type: ignore[no-untyped-def]
    opening = opening_for(_report(grid_id="XL-02-03"), load_registry(), report_classifier)
    assert (opening.town, opening.grid_id, opening.day) == ("XL", "XL-02-03", "20261125")
    assert (opening.classification.category, opening.classification.subcategory) == (Category.URBAN, "street_light")


def test_the_title_is_read_with_the_description() -> None:
    assert report_text(_report(grid_id="XL-02-03", description="村口那盏一直黑着")) == "路灯不亮。村口那盏一直黑着"
    assert report_text(_report(grid_id="XL-02-03", description="路灯不亮，村口那盏")) == "路灯不亮，村口那盏"


def test_a_gcj02_point_is_placed_after_conversion(report_classifier) -> None:  # type: ignore[no-untyped-def]
    registry = load_registry()
    grid = registry.grid("NJ-01-02")
    assert grid is not None
    lat, lon = grid.centroid
    glat, glon = wgs84_to_gcj02(lat, lon)
    opening = opening_for(_report(location=Point(lat=glat, lon=glon, datum=Datum.GCJ02)), registry, report_classifier)
    assert opening.grid_id == "NJ-01-02"
    assert abs(opening.lat - lat) < 1e-5 and abs(opening.lon - lon) < 1e-5  # type: ignore[operator]


def test_a_point_outside_the_district_is_not_guessed(report_classifier) -> None:  # type: ignore[no-untyped-def]
    opening = opening_for(
        _report(location=Point(lat=30.0, lon=120.0, datum=Datum.WGS84)), load_registry(), report_classifier
    )
    assert (opening.town, opening.grid_id, opening.place_note) == (UNKNOWN_TOWN, None, "outside_district")


def test_a_severity_hint_raises_but_never_lowers(report_classifier) -> None:  # type: ignore[no-untyped-def]
    registry = load_registry()
    plain = opening_for(_report(grid_id="XL-02-03"), registry, report_classifier).classification
    assert plain.severity is not Severity.P1
    raised = opening_for(_report(grid_id="XL-02-03", severity_hint="P1"), registry, report_classifier).classification
    assert (raised.severity, raised.severity_source) == (Severity.P1, "hint")
    lowered = opening_for(_report(grid_id="XL-02-03", severity_hint="P4"), registry, report_classifier).classification
    assert lowered.severity == plain.severity
