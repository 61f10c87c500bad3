"""Opening, dispatch and return of a case: pure functions, the shipped rules and calendar."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from district import load_registry
from processors.agents.accept import case_id_for
from processors.lifecycle.actions import apply_action
from processors.lifecycle.context import Context
from processors.lifecycle.opening import open_case
from processors.lifecycle.outcome import Applied, Refusal
from routing import TRIAGE_DEPARTMENT, load_calendar, load_rules
from schemas.case import Case
from schemas.case_flow import ActionCommand, CaseOpening, Classification, OpenCommand
from schemas.report import AcceptedReport, Point, Report
from schemas.vocabulary import CaseEventType, CaseState, Category, Datum, Role, Severity

RECEIVED = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)  # Wednesday 09:00 in Shanghai
OPENED = RECEIVED + timedelta(seconds=2)
RULES, CALENDAR = load_rules(), load_calendar()
CONTEXT = Context(RULES, CALENDAR, 0.45, frozenset(d.code for d in load_registry().departments))
REPORT_ID = UUID("0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10")


def _opening(
    category: Category,
    subcategory: str,
    severity: Severity,
    *,
    town: str = "XL",
    grid: str | None = "XL-02-03",
    confidence: float = 0.9,
) -> CaseOpening:
    place: dict[str, object] = {"grid_id": grid} if grid else {"location": Point(lat=30.0, lon=120.0, datum=Datum.WGS84)}
    report = AcceptedReport.stamp(
        Report(
            report_id=REPORT_ID,
            reporter_phone="13812345678",
            title="工资被拖欠",
            description="工地老板拖欠二十多个工人三个月工资",
            occurred_at=RECEIVED,
            **place,  # type: ignore[arg-type]
        ),
        reporter_id="w1",
        reporter_role=Role.GRID_WORKER,
        received_at=RECEIVED,
    )
    return CaseOpening(
        case_id=case_id_for(REPORT_ID),
        town=town,
        day="20261125",
        grid_id=grid,
        classification=Classification(
            category=category, subcategory=subcategory, severity=severity, confidence=confidence, severity_source="model"
        ),
        report=report,
    )


def _open(opening: CaseOpening) -> tuple[Case, list, list]:  # type: ignore[type-arg]
    return open_case(
        OpenCommand(case_no=f"{opening.town}-20261125-0001", opening=opening),
        OPENED,
        rules=RULES,
        calendar=CALENDAR,
        min_confidence=0.45,
    )


def test_a_wage_dispute_goes_to_rs_with_working_time_deadlines() -> None:
    case, events, alerts = _open(_opening(Category.DISPUTE, "wages", Severity.P3))
    assert [(e.seq, e.type) for e in events] == [(1, CaseEventType.ACCEPTED), (2, CaseEventType.DISPATCHED)]
    assert (case.state, case.lead_department, case.seq) == (CaseState.DISPATCHED, "RS", 2)
    assert [a.department for a in alerts if a.lead] == ["RS"]
    assert {a.department for a in alerts} == {"RS", *case.co_handlers}
    assert all(a.reporter_phone_masked == "138****5678" for a in alerts)
    # P3: sign within 8 working hours of 09:00:02 Wednesday: 17:00:02 the same day (08:30–17:30 days);
    # resolve within 5 working days: the next Wednesday, same time
    assert case.sla_clock == "working"
    shanghai = timezone(timedelta(hours=8))
    assert case.sign_deadline.astimezone(shanghai).strftime("%a %d %H:%M:%S") == "Wed 25 17:00:02"
    assert case.resolve_deadline.astimezone(shanghai).strftime("%a %d %H:%M:%S") == "Wed 02 09:00:02"
    assert events[1].payload["sign_deadline"] == case.sign_deadline.isoformat()
    assert alerts[0].sign_deadline == case.sign_deadline


def test_p1_runs_on_the_wall_clock_and_brings_co_handlers() -> None:
    case, events, alerts = _open(_opening(Category.DISASTER, "landslide", Severity.P1))
    assert case.sla_clock == "wall"
    assert case.sign_deadline == OPENED + timedelta(minutes=15)
    assert "ZF-XL" in case.co_handlers
    lead = [a for a in alerts if a.lead]
    assert [a.department for a in lead] == [case.lead_department] and lead[0].resolve_deadline is not None
    assert {a.department for a in alerts if not a.lead} == set(case.co_handlers)


def test_low_confidence_waits_in_triage_at_the_command_centre() -> None:
    case, events, alerts = _open(_opening(Category.URBAN, "street_light", Severity.P3, confidence=0.3))
    assert (case.state, case.lead_department) == (CaseState.TRIAGE, TRIAGE_DEPARTMENT)
    assert events[1].type is CaseEventType.TRIAGED and "low_confidence" in events[1].payload["reason"]
    assert [a.department for a in alerts] == [TRIAGE_DEPARTMENT]
    assert case.sign_deadline is None and case.dispatch_deadline is not None


def test_an_unplaced_town_level_case_waits_for_its_town_with_a_suggestion() -> None:
    case, events, alerts = _open(_opening(Category.DISPUTE, "neighbours", Severity.P3, town="XX", grid=None))
    assert (case.state, case.lead_department, case.town) == (CaseState.TRIAGE, TRIAGE_DEPARTMENT, None)
    assert events[1].payload["suggested_lead"] == "SFS"
    assert [a.department for a in alerts] == [TRIAGE_DEPARTMENT]


def _return(
    case: Case, *, department: str | None = None, role: Role = Role.DEPARTMENT_STAFF, reason: str | None = "不属于本部门职责"
) -> Applied | Refusal:
    action = ActionCommand(
        action_id=uuid4(),
        case_id=case.case_id,
        action="return",
        actor_id="clerk-1",
        actor_role=role,
        actor_department=department or case.lead_department,
        reason=reason,
        at=OPENED + timedelta(minutes=20),
    )
    return apply_action(case, action, CONTEXT)


def test_a_return_reroutes_without_the_returner_and_a_second_goes_to_triage() -> None:
    case, _, _ = _open(_opening(Category.DISPUTE, "land_forest_water", Severity.P2))
    assert case.lead_department == "ZRZY"
    first = _return(case)
    assert isinstance(first, Applied)
    assert [(e.seq, e.type, e.department) for e in first.events] == [
        (3, CaseEventType.RETURNED, "ZRZY"),
        (4, CaseEventType.DISPATCHED, "LY"),
    ]
    assert first.events[0].actor_id == "clerk-1" and first.events[0].payload["reason"] == "不属于本部门职责"
    assert (first.case.lead_department, first.case.returned_by) == ("LY", ["ZRZY"])
    assert first.case.dispatched_at == case.dispatched_at  # the period stays the first dispatch's
    assert first.case.sign_deadline == first.events[1].at + timedelta(hours=2)
    assert first.case.dispatch_deadline == first.events[0].at + timedelta(minutes=30)  # restarted by the return
    assert [a.department for a in first.alerts if a.lead] == ["LY"]

    second = _return(first.case)
    assert isinstance(second, Applied)
    assert second.case.state is CaseState.TRIAGE and second.case.lead_department == TRIAGE_DEPARTMENT
    assert second.case.returned_by == ["ZRZY", "LY"]
    assert second.events[-1].type is CaseEventType.TRIAGED and second.events[-1].payload["reason"].startswith("returned_twice: 已退回 2 次")
    assert [a.department for a in second.alerts] == [TRIAGE_DEPARTMENT]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (dict(department="CG"), "forbidden"),
        (dict(role=Role.GRID_WORKER), "forbidden"),
        (dict(reason="  "), "invalid"),
    ],
)
def test_a_return_that_is_not_allowed_changes_nothing(change: dict, code: str) -> None:  # type: ignore[type-arg]
    case, _, _ = _open(_opening(Category.DISPUTE, "wages", Severity.P3))
    outcome = _return(case, **change)
    assert isinstance(outcome, Refusal) and outcome.code == code and outcome.state is CaseState.DISPATCHED


def test_a_case_in_triage_cannot_be_returned() -> None:
    case, _, _ = _open(_opening(Category.URBAN, "street_light", Severity.P3, confidence=0.1))
    outcome = _return(case, department=TRIAGE_DEPARTMENT)
    assert isinstance(outcome, Refusal) and outcome.code == "not_allowed"


def test_the_same_open_gives_the_same_records() -> None:
    opening = _opening(Category.DISPUTE, "wages", Severity.P3)
    assert _open(opening) == _open(opening)
