"""The deadline timer: finds cases whose escalation is due and nudges the case agent.

Table changes are made only inside the case agent (it alone writes a case),
so the timer does not escalate anything itself: it sends an
:class:`~schemas.case_flow.EscalationCheck` to the case-commands topic,
keyed by case id, and the agent raises what is due and records it. The
timer reads only this worker's partitions of the case table; a check sent
twice (two ticks before the agent caught up, or a restart) raises nothing
twice, because the case remembers what it raised.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from processors.lifecycle.escalation import due
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


def register(p: Pipeline) -> None:
    """Every ``escalation_interval_s``, send a check for each of this worker's cases with an escalation due."""
    sent: dict[str, float] = {}  # escalation id → when its check was sent

    @p.app.timer(interval=p.settings.escalation_interval_s)
    async def deadlines() -> None:
        now = p.clock.now()
        mono = time.monotonic()
        for key, stored in list(p.case_table.items()):
            # Most cases are closed: skip them before paying for a full validation.
            if stored.get("state") not in _CLOCKED_VALUES:
                continue
            try:
                case = Case.model_validate(stored)
            except ValueError as exc:  # a value no case agent wrote as it is now: skip it, keep the timer
                logger.error("case %r in the table does not read as a case (%s); not checked", key, exc)
                continue
            pending = [d.id for d in due(case, now, p.context.calendar)]
            fresh = [i for i in pending if mono - sent.get(f"{case.case_id}:{i}", -RESEND_AFTER_S) >= RESEND_AFTER_S]
            if not fresh:
                continue
            for i in fresh:
                sent[f"{case.case_id}:{i}"] = mono
            await p.commands.send(key=key, value=EscalationCheck(case_id=case.case_id, at=now))
        # forget old entries so the map does not grow without bound
        for k in [k for k, t in sent.items() if mono - t > 10 * RESEND_AFTER_S]:
            del sent[k]
