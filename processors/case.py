"""The case agent (案件): the one place a case's state changes, in order per case.

For now it opens a case and dispatches it to the placeholder department;
the lifecycle comes later. A repeated open command re-sends what the first
one sent (same seq, same ids): the first sends may have been lost in a crash
after the table was written, and every consumer recognises a repeat.
"""

from __future__ import annotations

import logging

from processors.opening import open_case
from processors.pipeline import Pipeline
from schemas.case import Case
from schemas.case_flow import CaseOpen

logger = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    @p.app.agent(p.commands, name="cases")
    async def cases(stream):  # type: ignore[no-untyped-def]
        async for command in stream:
            await handle(p, command)


async def handle(p: Pipeline, command: CaseOpen) -> None:
    """Apply one command to its case."""
    key = str(command.opening.case_id).encode()
    stored = p.case_table.get(key)
    existing = Case.model_validate(stored) if stored is not None else None
    at = existing.accepted_at if existing else p.clock.now()
    # The first number given stays the case's number.
    if existing is not None and existing.case_no != command.case_no:
        command = CaseOpen(case_no=existing.case_no, opening=command.opening)
    case, events, alerts = open_case(command, p.settings.placeholder_department, at)
    current = existing or case
    for event in events:
        await p.case_events.send(key=key, value=event)
    for alert in alerts:
        await p.alerts(alert.department).send(key=key, value=alert)
    await p.cases.send(key=key, value=current)
    if existing is None:
        p.case_table[key] = case.model_dump(mode="json")
        logger.info("case %s opened for report %s", case.case_no, case.report_id)
