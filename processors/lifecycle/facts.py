"""Response-time facts of a case (综合评价的基础数据), computed by the processors at every change.

Written with every version of the case row, so ClickHouse needs no event
replay: a deduplicated read (``argMax(…, seq)``, optionally ``WHERE
updated_at <= as_of``) gives the facts as they stood at any time.

Durations (seconds): dispatch = receipt → first dispatch; sign = latest
dispatch → sign (DESIGN); resolve = latest dispatch → latest resolve (the
lead's own time, as the resolve clock runs); close = receipt → close (the
reporter's wait). SLA met: a sign by the sign deadline of the dispatch it
answered; the latest resolve before the *current* resolve deadline (DESIGN
"Indicators").
"""

from __future__ import annotations

from datetime import datetime

from schemas.case import Case
from schemas.vocabulary import RESOLVED_STATES


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    """Whole seconds between the two times as ClickHouse stores them (DateTime drops the fraction).

    So a duration always equals the difference of the stored times: from
    10:00:00.7 to 10:23:30.0 is 1410 s, as 10:00:00 to 10:23:30 reads, not 1409.
    """
    if start is None or end is None:
        return None
    return max(0, int(end.timestamp()) - int(start.timestamp()))


def with_facts(case: Case) -> Case:
    """``case`` with its response-time facts brought up to date."""
    signed = case.signed_at is not None
    resolved = case.resolved_at is not None and case.state in RESOLVED_STATES
    return case.model_copy(
        update=dict(
            dispatch_seconds=_seconds(case.received_at, case.dispatched_at),
            sign_seconds=_seconds(case.last_dispatched_at, case.signed_at) if signed else None,
            resolve_seconds=_seconds(case.last_dispatched_at, case.resolved_at) if resolved else None,
            close_seconds=_seconds(case.received_at, case.closed_at),
            sign_met=(case.signed_at <= case.sign_deadline) if signed and case.sign_deadline else None,  # type: ignore[operator]
            resolve_met=(case.resolved_at <= case.resolve_deadline) if resolved and case.resolve_deadline else None,  # type: ignore[operator]
            return_count=len(case.returned_by),
        )
    )
