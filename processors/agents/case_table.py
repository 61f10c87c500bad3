"""The case agent's state and what it sends: one case's row, events, alerts, history and follow-up commands.

Shared by the handlers of :mod:`processors.agents.case` and
:mod:`processors.agents.links`, which all run in the case agent (keyed by
case id), so every change of a case is made in one place, in order. The
records are sent before the table is written: after a crash in between, a
re-delivered command is applied again to the old state and sends the same
records, which every consumer recognises by (case, seq).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from processors.agents import history
from processors.lifecycle.escalation import next_due
from processors.lifecycle.facts import with_facts
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import CandidateGone, LinkCommand, UnlinkCommand
from schemas.vocabulary import OPEN_STATES

if TYPE_CHECKING:
    from processors.pipeline import Pipeline



def key_of(case_id: object) -> bytes:
    """The raw key of a case on every topic and table."""
    return str(case_id).encode()


def stored(p: Pipeline, key: bytes) -> Case | None:
    """The case as the table holds it, or None."""
    value = p.case_table.get(key)
    return Case.model_validate(value) if value is not None else None


def remember(p: Pipeline, key: bytes, case: Case) -> None:
    """Store the case, with its facts, in the case table (the agent's own state); note its next escalation."""
    p.case_table[key] = with_facts(case).model_dump(mode="json")
    p.due_index.note(key, next_due(case, p.context.calendar))


async def publish(
    p: Pipeline,
    key: bytes,
    before: Case | None,
    case: Case,
    events: Sequence[CaseEvent],
    alerts: Sequence[DepartmentAlert] = (),
    follow_ups: Sequence[LinkCommand | UnlinkCommand] = (),
) -> None:
    """Send the events, the alerts, the case row (with its facts) and the follow-ups; keep the history.

    A case that leaves the open set tells its town's numbering agent, so no
    new report joins it any more.
    """
    history.append(p.history_table, key, events)
    for event in events:
        await p.case_events.send(key=key, value=event)
    for alert in alerts:
        await p.alerts(alert.department).send(key=key, value=alert)
    await p.cases.send(key=key, value=with_facts(case))
    for command in follow_ups:
        await p.commands.send(key=key_of(command.case_id), value=command)
    if before is not None and before.state in OPEN_STATES and case.state not in OPEN_STATES and case.town:
        await p.openings.send(key=case.town.encode(), value=CandidateGone(town=case.town, case_id=case.case_id))
