"""Open a numbered case (案卷建立): the case, its first events and its alerts (pure, no Kafka).

The case id comes with the opening, derived from the report id by the
accept stage, so a report processed twice opens the same case.
"""

from __future__ import annotations

from datetime import datetime

from processors.lifecycle.decide import plan_dispatch
from processors.lifecycle.dispatching import dispatch, event_for
from routing import RuleSet, WorkingCalendar, triage
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import UNKNOWN_TOWN, OpenCommand
from schemas.vocabulary import CaseEventType, CaseState


def open_case(
    command: OpenCommand,
    at: datetime,
    *,
    rules: RuleSet,
    calendar: WorkingCalendar,
    min_confidence: float,
) -> tuple[Case, list[CaseEvent], list[DepartmentAlert]]:
    """Accept the case (案卷建立) and dispatch it per the routing rules: the case, its events, its alerts.

    A report handled on the spot is closed at once; one that joins an open
    case (``command.merge``) is recorded as merged into it; one with a code
    its network's table does not know waits in triage.
    """
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
        source_event_id=report.source_event_id,
        mapping_note=report.mapping_note,
        original_payload=report.original_payload,
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
    if command.merge is not None:
        # 一事多报: one more report of an open case's incident. Its own case keeps the
        # report and the evidence, and is never dispatched; the open case is told.
        merged = case.model_copy(
            update=dict(seq=2, state=CaseState.MERGED, merged_into=command.merge.case_id,
                        merge_evidence=command.merge.evidence)
        )  # fmt: skip
        joined = event_for(
            merged, CaseEventType.MERGED, None, {"merge_into": str(command.merge.case_id), "automatic": True,
                                                 **command.merge.evidence},
        )  # fmt: skip
        return merged, [accepted, joined], []
    if report.mapping_note:
        # A network's code that did not map: a person places or classifies it.
        plan = triage(f"unmapped: {report.mapping_note}", sla=rules.sla.default(c.severity.value))
    else:
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
