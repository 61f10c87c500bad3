"""The case agent (案件): the one place a case's state changes, in order per case.

It reads the case-commands topic, keyed by case id: an *open* (a numbered
new report: classify-time answer in hand, it routes and dispatches), a
person's *action* (sign, resolve, return … — :mod:`processors.lifecycle.actions`
decides; the verdict goes to the replies topic for the waiting intake) or a
timer's *check* (raise the escalations that are due, once). A
repeated open re-sends what the first one sent (same seq, same ids): the
first sends may have been lost in a crash after the table was written, and
every consumer recognises a repeat.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from processors.lifecycle.actions import allowed_actions, apply_action
from processors.lifecycle.escalation import escalate
from processors.lifecycle.facts import with_facts
from processors.lifecycle.opening import open_case
from processors.lifecycle.outcome import Applied
from schemas.case import Case
from schemas.case_flow import (
    ActionCommand,
    ActionVerdict,
    CaseCommand,
    EscalationCheck,
    OpenCommand,
)

if TYPE_CHECKING:
    from processors.pipeline import Pipeline

logger = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    """Run :func:`handle` over the case-commands topic."""
    p.each(p.commands, "cases", handle)


async def handle(p: Pipeline, command: CaseCommand | OpenCommand | ActionCommand) -> None:
    """Apply one command to its case."""
    inner = command.root if isinstance(command, CaseCommand) else command
    if isinstance(inner, OpenCommand):
        await _open(p, inner)
    elif isinstance(inner, ActionCommand):
        await _act(p, inner)
    else:
        await _check(p, inner)


def _stored(p: Pipeline, key: bytes) -> Case | None:
    stored = p.case_table.get(key)
    return Case.model_validate(stored) if stored is not None else None


async def _open(p: Pipeline, command: OpenCommand) -> None:
    key = str(command.opening.case_id).encode()
    existing = _stored(p, key)
    at = existing.accepted_at if existing else p.clock.now()
    # The first number given stays the case's number.
    if existing is not None and existing.case_no != command.case_no:
        command = command.model_copy(update={"case_no": existing.case_no})
    case, events, alerts = open_case(
        command, at, rules=p.context.rules, calendar=p.context.calendar, min_confidence=p.context.min_confidence
    )
    await _publish(p, key, existing or case, events, alerts)
    if existing is None:
        _remember(p, key, case)
        logger.info("case %s opened for report %s, lead %s", case.case_no, case.report_id, case.lead_department)


async def _act(p: Pipeline, action: ActionCommand) -> None:
    """Apply a person's action; answer it on the replies topic (the intake is waiting)."""
    key = str(action.case_id).encode()
    action_key = str(action.action_id).encode()
    done = p.action_table.get(action_key)
    if done is not None:  # the same action again (a retry): the same answer, no second change
        await p.replies.send(key=action_key, value=ActionVerdict.model_validate(done))
        return
    case = _stored(p, key)
    answer = dict(action_id=action.action_id, case_id=action.case_id)
    if case is None:
        verdict = ActionVerdict(**answer, applied=False, code="not_found", message="案件不存在")
    else:
        outcome = apply_action(case, action, p.context)
        if isinstance(outcome, Applied):
            # Send first, then remember: after a crash in between, the re-delivered
            # action is applied again to the old state and sends the same records
            # (its time is the action's own), which consumers recognise by (case, seq).
            await _publish(p, key, outcome.case, outcome.events, outcome.alerts)
            _remember(p, key, outcome.case)
            verdict = ActionVerdict(
                **answer, applied=True, code="applied", message="已办理", state=outcome.case.state,
                allowed=allowed_actions(outcome.case, action), seq=outcome.case.seq,
            )  # fmt: skip
            logger.info("case %s: %s by %s → %s", case.case_no, action.action.value, action.actor_id, outcome.case.state.value)
        else:
            verdict = ActionVerdict(
                **answer, applied=False, code=outcome.code, message=outcome.message, state=outcome.state,
                allowed=outcome.allowed, seq=case.seq,
            )  # fmt: skip
    p.action_table[action_key] = verdict.model_dump(mode="json")
    await p.replies.send(key=action_key, value=verdict)


async def _check(p: Pipeline, check: EscalationCheck) -> None:
    """A timer saw a deadline pass: raise what is due, once (the case remembers what it raised)."""
    key = str(check.case_id).encode()
    case = _stored(p, key)
    if case is None:
        return
    outcome = escalate(case, check.at, p.context.calendar)
    if outcome is None:
        return
    await _publish(p, key, outcome.case, outcome.events, outcome.alerts)
    _remember(p, key, outcome.case)
    for event in outcome.events:
        logger.info("case %s escalated: %s", case.case_no, event.payload)


def _remember(p: Pipeline, key: bytes, case: Case) -> None:
    """Store the case, with its facts, in the case table (the agent's own state)."""
    p.case_table[key] = with_facts(case).model_dump(mode="json")


async def _publish(p: Pipeline, key: bytes, case: Case, events, alerts) -> None:  # type: ignore[no-untyped-def]
    """Send the events, the alerts and the case row (with its facts), and keep the history."""
    history = list(p.history_table.get(key) or [])
    known = {e["seq"] for e in history}
    fresh = [e.model_dump(mode="json") for e in events if e.seq not in known]
    if fresh:
        p.history_table[key] = history + fresh
    for event in events:
        await p.case_events.send(key=key, value=event)
    for alert in alerts:
        await p.alerts(alert.department).send(key=key, value=alert)
    await p.cases.send(key=key, value=with_facts(case))
