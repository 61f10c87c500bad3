"""Dispatch (任务派遣): put a case in its lead's hands, alert every department, set the deadlines.

Pure functions, shared by the opening of a case and by its re-routing after a
return. A plan that needs a person (low confidence, unknown town, returned
twice) sends the case to triage at the command centre (ZZZX) instead: state
``triage``, no department clock yet, the dispatch clock still running.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from routing import TRIAGE_DEPARTMENT, Dispatch, WorkingCalendar
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.pii import mask_phone, mask_phones_in_text
from schemas.vocabulary import CaseEventType, CaseState, Role

SYSTEM_ACTOR = "gridflow"


def dispatch(
    case: Case,
    plan: Dispatch,
    *,
    at: datetime,
    dispatch_clock_from: datetime,
    calendar: WorkingCalendar,
    bare_codes: frozenset[str],
) -> tuple[Case, CaseEvent, list[DepartmentAlert]]:
    """The case after dispatching it per ``plan`` at ``at``: the new case, its event and its alerts.

    ``dispatch_clock_from`` is when the dispatch clock started (receipt, or
    the latest return). ``bare_codes`` are the town-level codes written
    without a town (``ZF``): kept on the case, but alerted only once the
    case's town is known (they have no topic).
    """
    sla = plan.sla
    common: dict[str, Any] = dict(
        seq=case.seq + 1,
        sla_clock=sla.clock,
        sla_dispatch_minutes=sla.dispatch_minutes,
        dispatch_deadline=calendar.add(dispatch_clock_from, sla.dispatch_minutes, sla.clock),
        updated_at=at,
    )
    deadline = common["dispatch_deadline"].isoformat()
    if plan.in_triage:
        updated = case.model_copy(
            update=dict(
                common,
                state=CaseState.TRIAGE,
                lead_department=TRIAGE_DEPARTMENT,
                co_handlers=[],
                triage_reason=plan.triage_reason,
                sign_deadline=None,
                resolve_deadline=None,
            )
        )
        suggested: dict[str, Any] = {}
        if plan.lead != TRIAGE_DEPARTMENT:
            suggested = {"suggested_lead": plan.lead, "suggested_co_handlers": list(plan.co_handlers)}
        payload = {"reason": plan.triage_reason, "dispatch_deadline": deadline, **suggested}
        event = event_for(updated, CaseEventType.TRIAGED, TRIAGE_DEPARTMENT, payload)
        return updated, event, [alert_for(updated, event, TRIAGE_DEPARTMENT, lead=True)]

    updated = case.model_copy(
        update=dict(
            common,
            state=CaseState.DISPATCHED,
            lead_department=plan.lead,
            co_handlers=list(plan.co_handlers),
            triage_reason=None,
            dispatched_at=case.dispatched_at or at,
            last_dispatched_at=at,
            signed_at=None,
            sla_sign_minutes=sla.sign_minutes,
            sla_resolve_minutes=sla.resolve_minutes,
            sign_deadline=calendar.add(at, sla.sign_minutes, sla.clock),
            resolve_deadline=calendar.add(at, sla.resolve_minutes, sla.clock),
        )
    )
    assert updated.sign_deadline is not None and updated.resolve_deadline is not None
    payload = {
        "lead": plan.lead,
        "co_handlers": list(plan.co_handlers),
        "sla_clock": sla.clock,
        "dispatch_deadline": deadline,
        "sign_deadline": updated.sign_deadline.isoformat(),
        "resolve_deadline": updated.resolve_deadline.isoformat(),
    }
    event = event_for(updated, CaseEventType.DISPATCHED, plan.lead, payload)
    alerts = [
        alert_for(updated, event, code, lead=code == plan.lead)
        for code in [plan.lead, *plan.co_handlers]
        if code not in bare_codes
    ]
    return updated, event, alerts


def event_for(
    case: Case,
    kind: CaseEventType,
    department: str | None,
    payload: dict[str, Any],
    *,
    actor_id: str = SYSTEM_ACTOR,
    actor_role: Role = Role.SYSTEM,
) -> CaseEvent:
    """The event that brought ``case`` to its current ``seq`` and state, at its ``updated_at``."""
    return CaseEvent(
        case_id=case.case_id,
        case_no=case.case_no,
        seq=case.seq,
        type=kind,
        state=case.state,
        actor_id=actor_id,
        actor_role=actor_role,
        at=case.updated_at,
        department=department,
        payload=payload,
    )


def alert_for(
    case: Case,
    event: CaseEvent,
    department: str,
    *,
    lead: bool,
    escalation: str | None = None,
    kind: str | None = None,
) -> DepartmentAlert:
    """The alert ``department`` receives; the phone masked (DESIGN "Personal information"), in the text too."""
    return DepartmentAlert(
        alert_id=f"{case.case_id}:{event.seq}:{department}",
        kind=kind or ("escalation" if escalation else "dispatch"),
        escalation=escalation,
        case_id=case.case_id,
        case_no=case.case_no,
        department=department,
        lead=lead,
        category=case.category,
        subcategory=case.subcategory,
        severity=case.severity,
        title=mask_phones_in_text(case.title),
        description=mask_phones_in_text(case.description),
        town=case.town,
        grid_id=case.grid_id,
        reporter_phone_masked=mask_phone(case.reporter_phone),
        dispatched_at=event.at,
        sign_deadline=case.sign_deadline if lead else None,
        resolve_deadline=case.resolve_deadline if lead else None,
        triage_reason=case.triage_reason,
        report_count=case.report_count,
    )
