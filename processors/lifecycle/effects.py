"""What each allowed action does to a case (办理动作的效果): the new case and its events.

:mod:`processors.lifecycle.actions` decides *whether* an action is allowed;
an effect here is called only after that and cannot refuse. Every effect is
pure and stamps the action's own time, so a re-delivered action gives the
same records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from processors.lifecycle.context import Context
from processors.lifecycle.dispatching import dispatch, event_for
from processors.lifecycle.linking import split_off
from processors.lifecycle.outcome import Applied
from processors.lifecycle.returns import return_case
from routing import TRIAGE_DEPARTMENT, Dispatch, route
from schemas.case import Case
from schemas.case_flow import ActionCommand, LinkCommand
from schemas.vocabulary import CaseAction, CaseEventType, CaseState


def _details(action: ActionCommand) -> dict[str, Any]:
    """What every action event records about the request itself."""
    payload: dict[str, Any] = {"action_id": str(action.action_id)}
    for name in ("note", "reason", "hours", "department"):
        value = getattr(action, name)
        if value is not None:
            payload[name] = value
    if action.photos:
        payload["photos"] = list(action.photos)
    return payload


def _step(
    case: Case,
    action: ActionCommand,
    kind: CaseEventType,
    *,
    department: str | None = None,
    extra: dict[str, Any] | None = None,
    **changes: Any,
) -> Applied:
    """The case after one event of ``kind`` by the actor, with ``changes``."""
    updated = case.model_copy(update=dict(changes, seq=case.seq + 1, updated_at=action.at))
    event = event_for(
        updated,
        kind,
        department if department is not None else action.actor_department,
        {**_details(action), **(extra or {})},
        actor_id=action.actor_id,
        actor_role=action.actor_role,
    )
    return Applied(updated, [event])


def _sign(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(case, action, CaseEventType.SIGNED, state=CaseState.SIGNED, signed_at=action.at)


def _start(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(case, action, CaseEventType.STARTED, state=CaseState.IN_PROGRESS)


def _resolve(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(
        case,
        action,
        CaseEventType.RESOLVED,
        state=CaseState.RESOLVED,
        resolved_at=action.at,
        first_resolved_at=case.first_resolved_at or action.at,
        # a request for more time is moot once the work is done
        pending_request=None,
        pending_hours=None,
    )


def _verify(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(case, action, CaseEventType.CLOSED, state=CaseState.CLOSED, closed_at=action.at)


def _reopen(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    # Back to the same department, no new sign; the resolve clock restarts now.
    deadline = _add(ctx, case, action.at, case.sla_resolve_minutes)
    return _step(
        case,
        action,
        CaseEventType.REOPENED,
        department=case.lead_department,
        extra={"resolve_deadline": deadline.isoformat() if deadline else None},
        state=CaseState.IN_PROGRESS,
        reopen_count=case.reopen_count + 1,
        resolve_deadline=deadline,
    )


def _return(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return return_case(
        case, action, action.at, rules=ctx.rules, calendar=ctx.calendar, min_confidence=ctx.min_confidence
    )


def _reject(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(case, action, CaseEventType.REJECTED, department=case.lead_department, state=CaseState.REJECTED)


def _merge_case(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    """合并 by hand: this case and its reports join another; that case is told (it counts them)."""
    assert action.merge_into is not None
    evidence = {"rule": "manual", "summary": f"人工合并 ({action.actor_id})"}
    merged = _step(
        case,
        action,
        CaseEventType.MERGED,
        department=case.lead_department,
        extra={"merge_into": str(action.merge_into)},
        state=CaseState.MERGED,
        merged_into=action.merge_into,
        merge_evidence=evidence,
    )
    tell = LinkCommand(
        case_id=action.merge_into, report_case_id=case.case_id, report_id=case.report_id, source=case.source,
        reporter_id=case.reporter_id, occurred_at=case.received_at, reports=case.report_count,
        reporters=case.reporter_count, evidence=evidence, at=action.at,
    )  # fmt: skip
    return Applied(merged.case, merged.events, merged.alerts, [tell])


def _split(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    """拆分: a wrongly merged report becomes its own case, routed and alerted as new."""
    return split_off(
        case, action.at, ctx, actor_id=action.actor_id, actor_role=action.actor_role, details=_details(action)
    )


def _assign_case(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    """人工分拨: the command centre names the lead (and may correct the category)."""
    assert action.department is not None and case.severity is not None
    category = action.category or case.category
    subcategory = action.subcategory if action.category else case.subcategory
    if category is not None:
        plan = route(
            ctx.rules,
            category=category.value,
            subcategory=subcategory,
            town=case.town,
            severity=case.severity.value,
            excluded=case.returned_by,
            lead=action.department,
        )
    else:
        plan = Dispatch(action.department, (), ctx.rules.sla.default(case.severity.value))
    corrected = case.model_copy(
        update=dict(
            category=category, subcategory=subcategory, confidence=1.0 if action.category else case.confidence
        )
    )
    after, event, alerts = dispatch(
        corrected,
        plan,
        at=action.at,
        dispatch_clock_from=action.at if case.returned_by else case.received_at,
        calendar=ctx.calendar,
        bare_codes=ctx.rules.units.town_units,
    )
    # A person dispatched it: the event names him and what he asked.
    event = event.model_copy(
        update=dict(actor_id=action.actor_id, actor_role=action.actor_role, payload={**event.payload, **_details(action)})
    )
    return Applied(after, [event], alerts)


def _request(kind: str, event: CaseEventType) -> Callable[[Case, ActionCommand, Context], Applied]:
    def effect(case: Case, action: ActionCommand, ctx: Context) -> Applied:
        return _step(
            case,
            action,
            event,
            pending_request=kind,
            pending_hours=action.hours if kind == "extension" else None,
        )

    return effect


def _approve(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    if case.pending_request == "extension":
        # An extension moves the resolve deadline, on the case's own clock.
        deadline = _add(ctx, case, case.resolve_deadline, (case.pending_hours or 0) * 60)
        return _step(
            case,
            action,
            CaseEventType.APPROVED,
            department=TRIAGE_DEPARTMENT,
            extra={"request": "extension", "hours": case.pending_hours,
                   "resolve_deadline": deadline.isoformat() if deadline else None},
            pending_request=None,
            pending_hours=None,
            extension_count=case.extension_count + 1,
            resolve_deadline=deadline,
        )
    return _step(
        case,
        action,
        CaseEventType.APPROVED,
        department=TRIAGE_DEPARTMENT,
        extra={"request": "suspension"},
        pending_request=None,
        pending_hours=None,
        suspended_at=action.at,
    )


def _refuse(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(
        case,
        action,
        CaseEventType.REFUSED,
        department=TRIAGE_DEPARTMENT,
        extra={"request": case.pending_request},
        pending_request=None,
        pending_hours=None,
    )


def _resume(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    """End a suspension: the resolve deadline moves by the suspended time (it did not count)."""
    assert case.suspended_at is not None
    clock = case.sla_clock or "wall"
    paused = ctx.calendar.elapsed(case.suspended_at, action.at, clock)  # type: ignore[arg-type]
    deadline = _add(ctx, case, case.resolve_deadline, round(paused))
    return _step(
        case,
        action,
        CaseEventType.RESUMED,
        extra={"suspended_minutes": round(paused, 1), "resolve_deadline": deadline.isoformat() if deadline else None},
        suspended_at=None,
        resolve_deadline=deadline,
    )


def _escalate(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(
        case, action, CaseEventType.ESCALATED, department=case.lead_department, extra={"level": "manual"}
    )


def _note_effect(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    return _step(case, action, CaseEventType.NOTE)


def _part_done(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    done = list(dict.fromkeys([*case.co_done, action.actor_department or ""]))
    return _step(case, action, CaseEventType.PART_DONE, co_done=done)


def _add(ctx: Context, case: Case, start: datetime | None, minutes: int | None) -> datetime | None:
    if start is None or minutes is None:
        return None
    return ctx.calendar.add(start, minutes, case.sla_clock or "wall")  # type: ignore[arg-type]


EFFECTS: dict[CaseAction, Callable[[Case, ActionCommand, Context], Applied]] = {
    CaseAction.SIGN: _sign,
    CaseAction.START: _start,
    CaseAction.RESOLVE: _resolve,
    CaseAction.VERIFY: _verify,
    CaseAction.REOPEN: _reopen,
    CaseAction.RETURN: _return,
    CaseAction.REJECT: _reject,
    CaseAction.MERGE: _merge_case,
    CaseAction.ASSIGN: _assign_case,
    CaseAction.SPLIT: _split,
    CaseAction.REQUEST_EXTENSION: _request("extension", CaseEventType.EXTENSION_REQUESTED),
    CaseAction.REQUEST_SUSPENSION: _request("suspension", CaseEventType.SUSPENSION_REQUESTED),
    CaseAction.APPROVE: _approve,
    CaseAction.REFUSE: _refuse,
    CaseAction.RESUME: _resume,
    CaseAction.ESCALATE: _escalate,
    CaseAction.NOTE: _note_effect,
    CaseAction.PART_DONE: _part_done,
}
