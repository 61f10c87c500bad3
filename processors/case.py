"""The case agent (案件): the one place a case's state changes, in order per case.

It reads the case-commands topic, keyed by case id: an *open* (a numbered
new report: classify-time answer in hand, it routes and dispatches) or a
person's *action* (for now a return, 退回, which re-routes the case). A
repeated open re-sends what the first one sent (same seq, same ids): the
first sends may have been lost in a crash after the table was written, and
every consumer recognises a repeat.
"""

from __future__ import annotations

import logging

from processors.opening import open_case
from processors.pipeline import Pipeline
from processors.returns import Applied, return_case
from schemas.case import Case
from schemas.case_flow import CaseAction, CaseCommand, CaseOpen

logger = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    @p.app.agent(p.commands, name="cases")
    async def cases(stream):  # type: ignore[no-untyped-def]
        async for command in stream:
            await handle(p, command)


async def handle(p: Pipeline, command: CaseCommand | CaseOpen | CaseAction) -> None:
    """Apply one command to its case."""
    inner = command.root if isinstance(command, CaseCommand) else command
    if isinstance(inner, CaseOpen):
        await _open(p, inner)
    else:
        await _act(p, inner)


def _stored(p: Pipeline, key: bytes) -> Case | None:
    stored = p.case_table.get(key)
    return Case.model_validate(stored) if stored is not None else None


async def _open(p: Pipeline, command: CaseOpen) -> None:
    key = str(command.opening.case_id).encode()
    existing = _stored(p, key)
    at = existing.accepted_at if existing else p.clock.now()
    # The first number given stays the case's number.
    if existing is not None and existing.case_no != command.case_no:
        command = command.model_copy(update={"case_no": existing.case_no})
    case, events, alerts = open_case(
        command, at, rules=p.rules, calendar=p.calendar, min_confidence=p.settings.classifier_min_confidence
    )
    await _publish(p, key, existing or case, events, alerts)
    if existing is None:
        p.case_table[key] = case.model_dump(mode="json")
        logger.info("case %s opened for report %s, lead %s", case.case_no, case.report_id, case.lead_department)


async def _act(p: Pipeline, action: CaseAction) -> None:
    key = str(action.case_id).encode()
    case = _stored(p, key)
    if case is None:
        logger.warning("action %s on unknown case %s ignored", action.action_id, action.case_id)
        return
    # The action's own (intake-stamped) time: a re-delivered action yields
    # the very same events, which every consumer recognises by (case, seq).
    outcome = return_case(
        case,
        action,
        action.at,
        rules=p.rules,
        calendar=p.calendar,
        min_confidence=p.settings.classifier_min_confidence,
    )
    if not isinstance(outcome, Applied):
        logger.info("action %s on case %s refused: %s", action.action_id, case.case_no, outcome.message)
        return
    # Send first, then remember: after a crash in between, the re-delivered
    # action is applied again to the old state and sends the same records.
    await _publish(p, key, outcome.case, outcome.events, outcome.alerts)
    p.case_table[key] = outcome.case.model_dump(mode="json")
    logger.info("case %s returned by %s, now %s", case.case_no, case.lead_department, outcome.case.lead_department)


async def _publish(p: Pipeline, key: bytes, case: Case, events, alerts) -> None:  # type: ignore[no-untyped-def]
    for event in events:
        await p.case_events.send(key=key, value=event)
    for alert in alerts:
        await p.alerts(alert.department).send(key=key, value=alert)
    await p.cases.send(key=key, value=case)
