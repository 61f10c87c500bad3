"""From an accepted report to a case: pure functions, no Kafka.

Ids are derived, not drawn: the case id is a UUIDv5 of the report id, so a
report processed twice (at-least-once delivery) opens the same case.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from classifier import ReportClassifier
from district import Registry, place_report
from processors.decide import classification_of, plan_dispatch
from processors.dispatching import dispatch, event_for
from routing import RuleSet, WorkingCalendar
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import CaseOpen, CaseOpening
from schemas.report import AcceptedReport
from schemas.vocabulary import CaseEventType, CaseState

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_NAMESPACE = uuid.UUID("6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61")
UNKNOWN_TOWN = "XX"  # the district itself (XX区), until the place is known


def case_id_for(report_id: uuid.UUID) -> uuid.UUID:
    """The case a report opens: the same id every time the report is processed."""
    return uuid.uuid5(CASE_NAMESPACE, str(report_id))


def shanghai_day(when: datetime) -> str:
    """YYYYMMDD of ``when`` in Asia/Shanghai (case numbers and reports count local days)."""
    return when.astimezone(SHANGHAI).strftime("%Y%m%d")


def opening_for(report: AcceptedReport, registry: Registry, classifier: ReportClassifier) -> CaseOpening:
    """Place and classify the report, and say which town's numbering it joins."""
    point = report.location
    placement = place_report(
        registry,
        report.grid_id,
        point.lat if point else None,
        point.lon if point else None,
        point.datum.value if point else None,
    )
    return CaseOpening(
        case_id=case_id_for(report.report_id),
        town=placement.town_code or UNKNOWN_TOWN,
        day=shanghai_day(report.received_at),
        grid_id=placement.grid_id,
        lat=placement.lat,
        lon=placement.lon,
        place_note=placement.reason.code if placement.reason else None,
        classification=classification_of(
            classifier,
            report_text(report),
            report.category_hint.value if report.category_hint else None,
            report.severity_hint.value if report.severity_hint else None,
        ),
        report=report,
    )


def report_text(report: AcceptedReport) -> str:
    """The text the classifier reads: the title (the worker's own summary) and the description."""
    if report.description.startswith(report.title):
        return report.description
    return f"{report.title}。{report.description}"


def case_number(town: str, day: str, n: int) -> str:
    """案件编号 such as ``XL-20261125-0042``."""
    return f"{town}-{day}-{n:04d}"


def open_case(
    command: CaseOpen,
    at: datetime,
    *,
    rules: RuleSet,
    calendar: WorkingCalendar,
    min_confidence: float,
) -> tuple[Case, list[CaseEvent], list[DepartmentAlert]]:
    """Accept the case (案卷建立) and dispatch it per the routing rules: the case, its events, its alerts."""
    opening = command.opening
    report = opening.report
    c = opening.classification
    town = None if opening.town == UNKNOWN_TOWN else opening.town
    case = Case(
        case_id=opening.case_id,
        case_no=command.case_no,
        seq=1,
        report_id=report.report_id,
        source=report.source,
        town=town,
        grid_id=opening.grid_id,
        lat=opening.lat,
        lon=opening.lon,
        category=c.category,
        subcategory=c.subcategory,
        confidence=c.confidence,
        severity=c.severity,
        title=report.title,
        description=report.description,
        reporter_id=report.reporter_id,
        reporter_phone=report.reporter_phone,
        state=CaseState.ACCEPTED,
        received_at=report.received_at,
        accepted_at=at,
        updated_at=at,
    )
    accepted = event_for(
        case,
        CaseEventType.ACCEPTED,
        None,
        {
            "report_id": str(report.report_id),
            "town": opening.town,
            "grid_id": opening.grid_id,
            "place_note": opening.place_note,
            "classification": c.model_dump(mode="json"),
        },
    )
    if report.handled_on_spot:
        # 自行处置: recorded and closed at once, counted apart from dispatched cases.
        closed = case.model_copy(
            update=dict(seq=2, state=CaseState.CLOSED, on_the_spot=True, resolved_at=at, first_resolved_at=at,
                        closed_at=at)
        )
        done = event_for(
            closed, CaseEventType.RESOLVED_ON_SPOT, None, {"photos": list(report.photo_ids)},
            actor_id=report.reporter_id, actor_role=report.reporter_role,
        )
        return closed, [accepted, done], []
    plan = plan_dispatch(c, town, rules, min_confidence)
    case, dispatched, alerts = dispatch(
        case,
        plan,
        at=at,
        dispatch_clock_from=report.received_at,
        calendar=calendar,
        bare_codes=rules.units.town_units,
    )
    return case, [accepted, dispatched], alerts
