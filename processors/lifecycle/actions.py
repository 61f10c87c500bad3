"""The case state machine (案件生命周期): which action, by whom, in which state, needing what.

DESIGN "The case lifecycle". One table, :data:`RULES`, says for every
action the states it is allowed in, who may take it (the actor's *standing*
towards this case: its lead department, a co-handler, the reporter, the
command centre) and what it needs; :func:`apply_action` checks them in that
order and either refuses (nothing changes) or hands the action to its
effect (:mod:`processors.lifecycle.effects`), which returns the new case
with its events. Pure: the case agent (:mod:`processors.agents.case`) applies the result, so
every change of a case is made in one place, in order.

Standing, not role alone: a department clerk may sign only the cases his
department leads; a grid worker verifies only the reports he made; a town's
sub-centre acts only on its own town's cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from accounts.policy import in_town_scope
from processors.lifecycle.context import Context
from processors.lifecycle.effects import EFFECTS
from processors.lifecycle.outcome import Applied, Refusal
from routing import TRIAGE_DEPARTMENT
from schemas.case import Case
from schemas.case_flow import ActionCommand
from schemas.vocabulary import OPEN_STATES, CaseAction, CaseState, Role


class Standing(str, Enum):
    """How the actor stands towards this case."""

    LEAD = "lead"  # 主办部门
    CO = "co"  # 协办部门
    REPORTER = "reporter"  # the grid worker (or network) that reported it
    CENTRE = "centre"  # 指挥中心 (the district's, or the case's town's sub-centre)


WORKING = frozenset({CaseState.SIGNED, CaseState.IN_PROGRESS})
BEFORE_SIGN = frozenset({CaseState.ACCEPTED, CaseState.TRIAGE, CaseState.DISPATCHED})


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
    if action.department not in ctx.departments or action.department == TRIAGE_DEPARTMENT:
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
    CaseAction.SPLIT: Rule(frozenset({CaseState.MERGED}), frozenset({_Z})),
    CaseAction.REQUEST_EXTENSION: Rule(WORKING, frozenset({_L}), _all(_not_suspended, _no_pending), _extension),
    CaseAction.REQUEST_SUSPENSION: Rule(WORKING, frozenset({_L}), _all(_not_suspended, _no_pending), _reason),
    CaseAction.APPROVE: Rule(WORKING, frozenset({_Z}), _pending),
    CaseAction.REFUSE: Rule(WORKING, frozenset({_Z}), _pending, _reason),
    CaseAction.RESUME: Rule(WORKING, frozenset({_L, _Z}), _suspended),
    CaseAction.ESCALATE: Rule(OPEN_STATES - {CaseState.RESOLVED}, frozenset({_Z})),
    CaseAction.NOTE: Rule(OPEN_STATES, frozenset({_L, _C, _Z}), needs=_note),
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
    return EFFECTS[action.action](case, action, ctx)


_WHO_NAMES = {Standing.LEAD: "主办部门", Standing.CO: "协办部门", Standing.REPORTER: "上报网格员", Standing.CENTRE: "指挥中心"}
