"""From an accepted report to a case: pure functions, no Kafka.

Ids are derived, not drawn: the case id is a UUIDv5 of the report id, so a
report processed twice (at-least-once delivery) opens the same case.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from district import Registry, place_report
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import CaseOpen, CaseOpening
from schemas.pii import mask_phone
from schemas.report import AcceptedReport
from schemas.vocabulary import CaseEventType, CaseState, Role, Severity

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_NAMESPACE = uuid.UUID("6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61")
UNKNOWN_TOWN = "XX"  # the district itself (XX区), until the place is known
SYSTEM_ACTOR = "gridflow"


def case_id_for(report_id: uuid.UUID) -> uuid.UUID:
    """The case a report opens: the same id every time the report is processed."""
    return uuid.uuid5(CASE_NAMESPACE, str(report_id))


def shanghai_day(when: datetime) -> str:
    """YYYYMMDD of ``when`` in Asia/Shanghai (case numbers and reports count local days)."""
    return when.astimezone(SHANGHAI).strftime("%Y%m%d")


def opening_for(report: AcceptedReport, registry: Registry) -> CaseOpening:
    """Place the report and say which town's numbering it joins."""
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
        report=report,
    )


def case_number(town: str, day: str, n: int) -> str:
    """案件编号 such as ``XL-20261125-0042``."""
    return f"{town}-{day}-{n:04d}"


def open_case(command: CaseOpen, department: str, at: datetime) -> tuple[Case, list[CaseEvent], list[DepartmentAlert]]:
    """Accept the case and dispatch it to ``department``: the case, its two events, its alert."""
    opening = command.opening
    report = opening.report
    severity = report.severity_hint or Severity.P3
    base = dict(case_id=opening.case_id, case_no=command.case_no, actor_id=SYSTEM_ACTOR, actor_role=Role.SYSTEM, at=at)
    events = [
        CaseEvent(
            **base,
            seq=1,
            type=CaseEventType.ACCEPTED,
            state=CaseState.ACCEPTED,
            payload={"report_id": str(report.report_id), "town": opening.town, "grid_id": opening.grid_id},
        ),
        CaseEvent(
            **base,
            seq=2,
            type=CaseEventType.DISPATCHED,
            state=CaseState.DISPATCHED,
            department=department,
            payload={"lead": department, "co_handlers": []},
        ),
    ]
    case = Case(
        case_id=opening.case_id,
        case_no=command.case_no,
        seq=len(events),
        report_id=report.report_id,
        source=report.source,
        town=None if opening.town == UNKNOWN_TOWN else opening.town,
        grid_id=opening.grid_id,
        lat=opening.lat,
        lon=opening.lon,
        category=report.category_hint,
        severity=severity,
        title=report.title,
        description=report.description,
        reporter_id=report.reporter_id,
        reporter_phone=report.reporter_phone,
        state=CaseState.DISPATCHED,
        lead_department=department,
        received_at=report.received_at,
        accepted_at=at,
        dispatched_at=at,
        updated_at=at,
    )
    alert = DepartmentAlert(
        alert_id=f"{case.case_id}:{events[-1].seq}:{department}",
        case_id=case.case_id,
        case_no=case.case_no,
        department=department,
        lead=True,
        category=case.category,
        severity=severity,
        title=case.title,
        description=case.description,
        town=case.town,
        grid_id=case.grid_id,
        reporter_phone_masked=mask_phone(case.reporter_phone),
        dispatched_at=at,
    )
    return case, events, [alert]
