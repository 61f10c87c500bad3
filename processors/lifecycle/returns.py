"""Return (退回): the lead department says a dispatched case is not theirs, and it is routed again.

DESIGN "The case lifecycle": re-routing excludes every department that has
returned the case, and a case returned twice goes to manual triage at the
command centre (ZZZX). Who may return, and when, is the lifecycle table's
business (:mod:`processors.lifecycle.actions`); this is what a return does.
"""

from __future__ import annotations

from datetime import datetime

from processors.lifecycle.decide import plan_dispatch
from processors.lifecycle.dispatching import dispatch, event_for
from processors.lifecycle.outcome import Applied
from routing import RuleSet, WorkingCalendar
from schemas.case import Case
from schemas.case_flow import ActionCommand, Classification
from schemas.vocabulary import CaseEventType, CaseState


def return_case(
    case: Case,
    action: ActionCommand,
    at: datetime,
    *,
    rules: RuleSet,
    calendar: WorkingCalendar,
    min_confidence: float,
) -> Applied:
    """Apply a return to ``case`` at ``at``: who may, when, and with what is checked by the lifecycle."""
    returner = case.lead_department
    assert returner is not None  # dispatched cases have a lead
    returned_by = [*case.returned_by, returner]
    after_return = case.model_copy(
        update=dict(seq=case.seq + 1, state=CaseState.ACCEPTED, returned_by=returned_by, co_done=[], updated_at=at)
    )
    returned = event_for(
        after_return,
        CaseEventType.RETURNED,
        returner,
        {"reason": action.reason, "action_id": str(action.action_id)},
        actor_id=action.actor_id,
        actor_role=action.actor_role,
    )
    plan = plan_dispatch(classification_of_case(case), case.town, rules, min_confidence, excluded=returned_by)
    # A return restarts the dispatch clock (DESIGN "SLA clocks").
    redispatched, event, alerts = dispatch(
        after_return, plan, at=at, dispatch_clock_from=at, calendar=calendar, bare_codes=rules.units.town_units
    )
    return Applied(redispatched, [returned, event], alerts)


def classification_of_case(case: Case) -> Classification:
    """The classification the case was opened with (kept on the case)."""
    assert case.category is not None and case.severity is not None
    return Classification(
        category=case.category,
        subcategory=case.subcategory,
        severity=case.severity,
        confidence=case.confidence if case.confidence is not None else 1.0,
        severity_source="case",
    )
