"""The deadline timer: finds cases whose escalation is due and nudges the case agent.

Table changes are made only inside the case agent (it alone writes a case),
so the timer does not escalate anything itself: it sends an
:class:`~schemas.case_flow.EscalationCheck` to the case-commands topic,
keyed by case id, and the agent raises what is due and records it. A check
sent twice (two ticks before the agent caught up, or a restart) raises
nothing twice, because the case remembers what it raised.

A tick reads only the cases that :class:`~processors.lifecycle.due_index.DueIndex`
says are due. The index is rebuilt from this worker's partitions of the case
table after a rebalance or a recovery (rows that came from the changelog,
not from the agent) and every ``REBUILD_EVERY_S`` as a safety net.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from processors.lifecycle.escalation import due, next_due
from schemas.case import Case
from schemas.case_flow import EscalationCheck
from schemas.vocabulary import CLOCKED_STATES

if TYPE_CHECKING:
    from processors.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: the table holds JSON: the clocked states as the values it stores
_CLOCKED_VALUES = frozenset(s.value for s in CLOCKED_STATES)
#: a check in flight is not sent again for this long (the agent answers in well under it)
RESEND_AFTER_S = 60.0
#: the whole table is read again this often even when nothing moved
REBUILD_EVERY_S = 600.0


def _case(key: bytes, stored: Any) -> Case | None:
    """The stored row as a case, or None for one with no clock running (or one that does not read)."""
    if stored is None or stored.get("state") not in _CLOCKED_VALUES:  # most cases are closed: skip them cheaply
        return None
    try:
        return Case.model_validate(stored)
    except ValueError as exc:  # a value no case agent wrote as it is now: skip it, keep the timer
        logger.error("case %r in the table does not read as a case (%s); not checked", key, exc)
        return None


def _scan(p: Pipeline) -> Iterator[tuple[bytes, datetime | None]]:
    for key, stored in list(p.case_table.items()):
        case = _case(key, stored)
        yield key, next_due(case, p.context.calendar) if case is not None else None


def register(p: Pipeline) -> None:
    """Every ``escalation_interval_s``, send a check for each of this worker's cases with an escalation due."""
    index = p.due_index
    built: dict[str, Any] = {"assigned": None, "at": 0.0}

    @p.app.timer(interval=p.settings.escalation_interval_s)
    async def deadlines() -> None:
        if p.app.rebalancing or p.app.in_recovery:
            index.stale = True  # the table is changing under the index: read it again afterwards
            return
        mono = time.monotonic()
        assigned = frozenset(p.app.assignor.assigned_actives())
        if index.stale or assigned != built["assigned"] or mono - built["at"] >= REBUILD_EVERY_S:
            started = time.monotonic()
            index.rebuild(_scan(p))
            built.update(assigned=assigned, at=mono)
            logger.info("deadline index: %d open cases from the table in %.2f s", len(index), time.monotonic() - started)
        now = p.clock.now()
        for key in index.take_due(now):
            case = _case(key, p.case_table.get(key))
            if case is None:
                continue
            if not due(case, now, p.context.calendar):
                index.note(key, next_due(case, p.context.calendar))
                continue
            # Looked at again after RESEND_AFTER_S unless the agent, raising it, notes the next time first.
            index.note(key, now + timedelta(seconds=RESEND_AFTER_S))
            await p.commands.send(key=key, value=EscalationCheck(case_id=case.case_id, at=now))
