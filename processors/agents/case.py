"""The case agent (案件): the one place a case's state changes, in order per case.

It reads the case-commands topic, keyed by case id: an *open* (a numbered
new report: classify-time answer in hand, it routes and dispatches — or
records it as one more report of an open case), a person's *action* (sign,
resolve, return … — :mod:`processors.lifecycle.actions` decides; the verdict
goes to the replies topic for the waiting intake), a timer's *check* (raise
the escalations that are due, once), or a report joining or leaving the case
(:mod:`processors.agents.links`). A repeated open re-sends what the first
one sent (same seq, same ids): the first sends may have been lost in a
crash after the table was written, and every consumer recognises a repeat.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from processors.agents.case_table import key_of, publish, remember, stored
from processors.agents.links import detach, link_report, unlink_report
from processors.lifecycle.actions import allowed_actions, apply_action
from processors.lifecycle.escalation import escalate
from processors.lifecycle.opening import open_case
from processors.lifecycle.outcome import Applied
from schemas.case_flow import (
    ActionCommand,
    ActionVerdict,
    CaseCommand,
    DetachCommand,
    EscalationCheck,
    LinkCommand,
    OpenCommand,
    UnlinkCommand,
)

if TYPE_CHECKING:
    from processors.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: verdicts a case keeps for retried actions (its latest ones)
ACTIONS_KEPT = 50


def register(p: Pipeline) -> None:
    """Run :func:`handle` over the case-commands topic."""
    p.each(p.commands, "cases", handle)


async def handle(p: Pipeline, command: CaseCommand | OpenCommand | ActionCommand) -> None:
    """Apply one command to its case."""
    inner = command.root if isinstance(command, CaseCommand) else command
    await _HANDLERS[type(inner)](p, inner)


async def _open(p: Pipeline, command: OpenCommand) -> None:
    key = key_of(command.opening.case_id)
    existing = stored(p, key)
    at = existing.accepted_at if existing else p.clock.now()
    # The first number given stays the case's number.
    if existing is not None and existing.case_no != command.case_no:
        command = command.model_copy(update={"case_no": existing.case_no})
    ctx = p.context
    case, events, alerts = open_case(
        command, at, rules=ctx.rules, calendar=ctx.calendar, min_confidence=ctx.min_confidence
    )
    follow_ups = []
    if command.merge is not None:
        report = command.opening.report
        follow_ups.append(
            LinkCommand(
                case_id=command.merge.case_id, report_case_id=case.case_id, report_id=report.report_id,
                source=report.source, reporter_id=report.reporter_id, occurred_at=report.occurred_at,
                evidence=command.merge.evidence, at=at,
            )  # fmt: skip
        )
    await publish(p, key, None, existing or case, events, alerts, follow_ups)
    if existing is None:
        remember(p, key, case)
        logger.info("case %s opened for report %s, lead %s", case.case_no, case.report_id, case.lead_department)


async def _act(p: Pipeline, action: ActionCommand) -> None:
    """Apply a person's action; answer it on the replies topic (the intake is waiting)."""
    key = key_of(action.case_id)
    reply_key = str(action.action_id).encode()
    # A retry is the same action of the same person on the same case: an action_id
    # reused by someone else, or on another case, is an action of its own.
    answered = dict(p.action_table.get(key) or {})
    action_key = f"{action.actor_id}:{action.action_id}"
    done = answered.get(action_key)
    if done is not None:  # the same action again (a retry): the same answer, no second change
        await p.replies.send(key=reply_key, value=ActionVerdict.model_validate(done))
        return
    case = stored(p, key)
    answer = dict(action_id=action.action_id, case_id=action.case_id)
    if case is None:
        verdict = ActionVerdict(**answer, applied=False, code="not_found", message="案件不存在")
    else:
        outcome = apply_action(case, action, p.context)
        if isinstance(outcome, Applied):
            await publish(p, key, case, outcome.case, outcome.events, outcome.alerts, outcome.follow_ups)
            remember(p, key, outcome.case)
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
    answered[action_key] = verdict.model_dump(mode="json")
    # the latest answers of the case only: a client retries within minutes, not after fifty more actions
    p.action_table[key] = dict(list(answered.items())[-ACTIONS_KEPT:])
    await p.replies.send(key=reply_key, value=verdict)


async def _check(p: Pipeline, check: EscalationCheck) -> None:
    """A timer saw a deadline pass: raise what is due, once (the case remembers what it raised)."""
    key = key_of(check.case_id)
    case = stored(p, key)
    if case is None:
        return
    outcome = escalate(case, check.at, p.context.calendar)
    if outcome is None:
        return
    await publish(p, key, case, outcome.case, outcome.events, outcome.alerts)
    remember(p, key, outcome.case)
    for event in outcome.events:
        logger.info("case %s escalated: %s", case.case_no, event.payload)


#: each kind of command on the case-commands topic, and who applies it
_HANDLERS: dict[type, Callable[[Pipeline, Any], Awaitable[None]]] = {
    OpenCommand: _open,
    ActionCommand: _act,
    EscalationCheck: _check,
    LinkCommand: link_report,
    UnlinkCommand: unlink_report,
    DetachCommand: detach,
}
