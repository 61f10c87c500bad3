"""Return (退回): the lead department says a dispatched case is not theirs, and it is routed again.

DESIGN "The case lifecycle": re-routing excludes every department that has
returned the case, and a case returned twice goes to manual triage at the
command centre (ZZZX). Only the lead department's staff or head may return,
only while the case is ``dispatched`` (before it is signed), and only with a
reason. Pure functions; the case agent applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from processors.decide import plan_dispatch
from processors.dispatching import dispatch, event_for
from routing import RuleSet, WorkingCalendar
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import CaseAction, Classification
from schemas.vocabulary import CaseEventType, CaseState, Role

RETURNING_ROLES = frozenset({Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD})


@dataclass(frozen=True)
class Refusal:
    """Why an action changed nothing: ``forbidden`` (who) or ``not_allowed`` (when) or ``invalid`` (what)."""

    code: str
    message: str
    state: CaseState
    allowed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Applied:
    """What an action changed: the new case, its events in order, the alerts to send."""

    case: Case
    events: list[CaseEvent]
    alerts: list[DepartmentAlert]


def return_case(
    case: Case,
    action: CaseAction,
    at: datetime,
    *,
    rules: RuleSet,
    calendar: WorkingCalendar,
    min_confidence: float,
) -> Applied | Refusal:
    """Apply a return to ``case`` at ``at``, or say why not (nothing changes then)."""
    if action.actor_role not in RETURNING_ROLES or action.actor_department != case.lead_department:
        return Refusal("forbidden", f"只有主办部门 {case.lead_department} 可以退回此案件", case.state)
    if case.state is not CaseState.DISPATCHED:
        return Refusal("not_allowed", f"案件当前状态为 {case.state.value}，只有已派遣、未签收的案件可以退回", case.state)
    if not (action.reason or "").strip():
        return Refusal("invalid", "退回必须填写原因 (字段 reason)", case.state, ["return"])

    returner = case.lead_department
    assert returner is not None  # dispatched cases have a lead
    returned_by = [*case.returned_by, returner]
    after_return = case.model_copy(
        update=dict(seq=case.seq + 1, state=CaseState.ACCEPTED, returned_by=returned_by, updated_at=at)
    )
    returned = event_for(
        after_return,
        CaseEventType.RETURNED,
        returner,
        {"reason": action.reason, "action_id": str(action.action_id)},
        actor_id=action.actor_id,
        actor_role=action.actor_role,
    )
    plan = plan_dispatch(_classification(case), case.town, rules, min_confidence, excluded=returned_by)
    # A return restarts the dispatch clock (DESIGN "SLA clocks").
    redispatched, event, alerts = dispatch(
        after_return, plan, at=at, dispatch_clock_from=at, calendar=calendar, bare_codes=rules.units.town_units
    )
    return Applied(redispatched, [returned, event], alerts)


def _classification(case: Case) -> Classification:
    """The classification the case was opened with (kept on the case)."""
    assert case.category is not None and case.severity is not None
    return Classification(
        category=case.category,
        subcategory=case.subcategory,
        severity=case.severity,
        confidence=case.confidence if case.confidence is not None else 1.0,
        severity_source="case",
    )
