"""The case state machine (案件生命周期): which action, by whom, in which state, does what.

DESIGN "The case lifecycle". One table, :data:`RULES`, says for every
action the states it is allowed in, who may take it (the actor's *standing*
towards this case: its lead department, a co-handler, the reporter, the
command centre) and what it needs; :func:`apply_action` checks them in that
order and either refuses (nothing changes) or returns the new case with its
events. Pure: the case agent (:mod:`processors.case`) applies the result, so
every change of a case is made in one place, in order.

Standing, not role alone: a department clerk may sign only the cases his
department leads; a grid worker verifies only the reports he made; a town's
sub-centre acts only on its own town's cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Callable

from gridflow.accounts.policy import in_town_scope
from processors.dispatching import dispatch, event_for
from processors.outcome import Applied, Refusal
from processors.returns import return_case
from routing import Dispatch, RuleSet, WorkingCalendar, route
from schemas.case import Case
from schemas.case_flow import CaseAction as ActionCommand
from schemas.vocabulary import CaseAction, CaseEventType, CaseState, Role


class Standing(str, Enum):
    """How the actor stands towards this case."""

    LEAD = "lead"  # 主办部门
    CO = "co"  # 协办部门
    REPORTER = "reporter"  # the grid worker (or network) that reported it
    CENTRE = "centre"  # 指挥中心 (the district's, or the case's town's sub-centre)


OPEN = frozenset(
    {CaseState.ACCEPTED, CaseState.TRIAGE, CaseState.DISPATCHED, CaseState.SIGNED, CaseState.IN_PROGRESS, CaseState.RESOLVED}
)
WORKING = frozenset({CaseState.SIGNED, CaseState.IN_PROGRESS})
BEFORE_SIGN = frozenset({CaseState.ACCEPTED, CaseState.TRIAGE, CaseState.DISPATCHED})


@dataclass(frozen=True)
class Context:
    """What actions need besides the case: routing data, the calendar, the known departments."""

    rules: RuleSet
    calendar: WorkingCalendar
    min_confidence: float
    departments: frozenset[str]


Condition = Callable[[Case], "str | None"]  # None when it holds, else why not (Chinese)
Needs = Callable[[ActionCommand, Case, Context], "str | None"]  # None when complete, else the field's problem


def _not_suspended(case: Case) -> str | None:
    return "案件已挂起，请先恢复办理" if case.suspended_at is not None else None


def _no_pending(case: Case) -> str | None:
    return f"已有待审批的{_REQUEST_NAMES[case.pending_request]}申请" if case.pending_request else None


def _pending(case: Case) -> str | None:
    return None if case.pending_request else "没有待审批的延期或挂起申请"


def _suspended(case: Case) -> str | None:
    return None if case.suspended_at is not None else "案件未挂起"


def _all(*conditions: Condition) -> Condition:
    def check(case: Case) -> str | None:
        return next((why for why in (c(case) for c in conditions) if why), None)

    return check


def _reason(action: ActionCommand, case: Case, ctx: Context) -> str | None:
    return None if (action.reason or "").strip() else "请填写原因 (字段 reason)"


def _note(action: ActionCommand, case: Case, ctx: Context) -> str | None:
    return None if (action.note or "").strip() or action.photos else "请填写备注或附照片 (字段 note)"


def _extension(action: ActionCommand, case: Case, ctx: Context) -> str | None:
    return _reason(action, case, ctx) or (None if action.hours else "请填写延期小时数 (字段 hours)")


def _merge(action: ActionCommand, case: Case, ctx: Context) -> str | None:
    if action.merge_into is None:
        return "请指定合并到的案件 (字段 merge_into)"
    return "不能合并到本案件自身 (字段 merge_into)" if action.merge_into == case.case_id else None


def _assign(action: ActionCommand, case: Case, ctx: Context) -> str | None:
    if action.department is None:
        return "请指定主办部门 (字段 department)"
    if action.department not in ctx.departments or action.department == "ZZZX":
        return f"未知的部门代码 {action.department} (字段 department)"
    if action.subcategory is not None and action.category is None:
        return "指定小类时也要指定类别 (字段 category)"
    if action.category is not None and action.subcategory is not None:
        try:
            ctx.rules.taxonomy.subcategory(action.category.value, action.subcategory)
        except ValueError:
            return f"类别 {action.category.value} 没有小类 {action.subcategory} (字段 subcategory)"
    return None


@dataclass(frozen=True)
class Rule:
    """When an action is allowed: states, standings, an extra condition on the case, required fields."""

    states: frozenset[CaseState]
    who: frozenset[Standing]
    condition: Condition | None = None
    needs: Needs | None = None


_L, _C, _R, _Z = Standing.LEAD, Standing.CO, Standing.REPORTER, Standing.CENTRE

RULES: dict[CaseAction, Rule] = {
    CaseAction.SIGN: Rule(frozenset({CaseState.DISPATCHED}), frozenset({_L})),
    CaseAction.START: Rule(frozenset({CaseState.SIGNED}), frozenset({_L}), _not_suspended),
    CaseAction.RESOLVE: Rule(WORKING, frozenset({_L}), _not_suspended),
    CaseAction.VERIFY: Rule(frozenset({CaseState.RESOLVED}), frozenset({_R, _Z})),
    CaseAction.REOPEN: Rule(frozenset({CaseState.RESOLVED}), frozenset({_R, _Z}), needs=_reason),
    CaseAction.RETURN: Rule(frozenset({CaseState.DISPATCHED}), frozenset({_L}), needs=_reason),
    CaseAction.REJECT: Rule(BEFORE_SIGN, frozenset({_Z}), needs=_reason),
    CaseAction.MERGE: Rule(BEFORE_SIGN, frozenset({_Z}), needs=_merge),
    CaseAction.ASSIGN: Rule(frozenset({CaseState.TRIAGE}), frozenset({_Z}), needs=_assign),
    CaseAction.REQUEST_EXTENSION: Rule(WORKING, frozenset({_L}), _all(_not_suspended, _no_pending), _extension),
    CaseAction.REQUEST_SUSPENSION: Rule(WORKING, frozenset({_L}), _all(_not_suspended, _no_pending), _reason),
    CaseAction.APPROVE: Rule(WORKING, frozenset({_Z}), _pending),
    CaseAction.REFUSE: Rule(WORKING, frozenset({_Z}), _pending, _reason),
    CaseAction.RESUME: Rule(WORKING, frozenset({_L, _Z}), _suspended),
    CaseAction.ESCALATE: Rule(OPEN - {CaseState.RESOLVED}, frozenset({_Z})),
    CaseAction.NOTE: Rule(OPEN, frozenset({_L, _C, _Z}), needs=_note),
    CaseAction.PART_DONE: Rule(
        frozenset({CaseState.DISPATCHED}) | WORKING,
        frozenset({_C}),
        # the condition needs the actor, so it is checked in _part_done
    ),
}

_REQUEST_NAMES = {"extension": "延期", "suspension": "挂起", None: ""}
_STATE_NAMES = {
    CaseState.ACCEPTED: "已受理",
    CaseState.TRIAGE: "待人工分拨",
    CaseState.DISPATCHED: "已派遣",
    CaseState.SIGNED: "已签收",
    CaseState.IN_PROGRESS: "处置中",
    CaseState.RESOLVED: "已办结",
    CaseState.CLOSED: "已结案",
    CaseState.REJECTED: "不予受理",
    CaseState.MERGED: "已合并",
    CaseState.RECEIVED: "已接收",
}


def standings(case: Case, action: ActionCommand) -> frozenset[Standing]:
    """The actor's standings towards ``case`` (from his token, never from the request body)."""
    found: set[Standing] = set()
    if action.actor_role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and action.actor_department:
        if action.actor_department == case.lead_department:
            found.add(Standing.LEAD)
        if action.actor_department in case.co_handlers:
            found.add(Standing.CO)
    if action.actor_role in (Role.GRID_WORKER, Role.INTEGRATOR) and action.actor_id == case.reporter_id:
        found.add(Standing.REPORTER)
    if action.actor_role is Role.COMMAND_CENTRE and in_town_scope(action.actor_role, action.actor_town, case.town):
        found.add(Standing.CENTRE)
    return frozenset(found)


def allowed_actions(case: Case, action: ActionCommand) -> list[str]:
    """The actions this actor may take on ``case`` now (fields aside), in the table's order."""
    mine = standings(case, action)
    return [
        name.value
        for name, rule in RULES.items()
        if case.state in rule.states and rule.who & mine and not (rule.condition and rule.condition(case))
    ]


def apply_action(case: Case, action: ActionCommand, ctx: Context) -> Applied | Refusal:
    """Check ``action`` against the table and apply it at its own time; a refusal changes nothing."""
    rule = RULES[action.action]
    mine = standings(case, action)
    allowed = allowed_actions(case, action)
    if not rule.who & mine:
        who = "、".join(_WHO_NAMES[s] for s in sorted(rule.who, key=lambda s: s.value))
        return Refusal("forbidden", f"只有{who}可以执行「{action.action.value}」", case.state, allowed)
    if case.state not in rule.states:
        return Refusal(
            "not_allowed", f"案件{_STATE_NAMES[case.state]}，不能执行「{action.action.value}」", case.state, allowed
        )
    why = rule.condition(case) if rule.condition else None
    if why:
        return Refusal("not_allowed", why, case.state, allowed)
    problem = rule.needs(action, case, ctx) if rule.needs else None
    if problem:
        return Refusal("invalid", problem, case.state, allowed)
    return _EFFECTS[action.action](case, action, ctx)


_WHO_NAMES = {Standing.LEAD: "主办部门", Standing.CO: "协办部门", Standing.REPORTER: "上报网格员", Standing.CENTRE: "指挥中心"}


# --- effects ---------------------------------------------------------------------------------------


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
    return _step(
        case,
        action,
        CaseEventType.MERGED,
        department=case.lead_department,
        extra={"merge_into": str(action.merge_into)},
        state=CaseState.MERGED,
        merged_into=action.merge_into,
    )


def _assign_case(case: Case, action: ActionCommand, ctx: Context) -> Applied:
    """人工分拨: the command centre names the lead (and may correct the category)."""
    assert action.department is not None and case.severity is not None
    category = action.category or case.category
    subcategory = action.subcategory if action.category else case.subcategory
    co: tuple[str, ...] = ()
    if category is not None:
        routed = route(
            ctx.rules,
            category=category.value,
            subcategory=subcategory,
            town=case.town,
            severity=case.severity.value,
            excluded=frozenset(case.returned_by),
        )
        sla = routed.sla
        co = tuple(c for c in routed.co_handlers if c != action.department)
    else:
        sla = ctx.rules.sla.default(case.severity.value)
    corrected = case.model_copy(
        update=dict(
            category=category, subcategory=subcategory, confidence=1.0 if action.category else case.confidence
        )
    )
    after, event, alerts = dispatch(
        corrected,
        Dispatch(action.department, co, sla),
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
            department="ZZZX",
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
        department="ZZZX",
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
        department="ZZZX",
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


_EFFECTS: dict[CaseAction, Callable[[Case, ActionCommand, Context], Applied]] = {
    CaseAction.SIGN: _sign,
    CaseAction.START: _start,
    CaseAction.RESOLVE: _resolve,
    CaseAction.VERIFY: _verify,
    CaseAction.REOPEN: _reopen,
    CaseAction.RETURN: _return,
    CaseAction.REJECT: _reject,
    CaseAction.MERGE: _merge_case,
    CaseAction.ASSIGN: _assign_case,
    CaseAction.REQUEST_EXTENSION: _request("extension", CaseEventType.EXTENSION_REQUESTED),
    CaseAction.REQUEST_SUSPENSION: _request("suspension", CaseEventType.SUSPENSION_REQUESTED),
    CaseAction.APPROVE: _approve,
    CaseAction.REFUSE: _refuse,
    CaseAction.RESUME: _resume,
    CaseAction.ESCALATE: _escalate,
    CaseAction.NOTE: _note_effect,
    CaseAction.PART_DONE: _part_done,
}
