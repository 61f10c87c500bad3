"""Automatic escalation (督办) at SLA deadlines: which are due, and what raising them records.

DESIGN "SLA clocks": level 1 when a deadline passes — to the lead
department's head for the sign and resolve clocks, to the command centre's
duty staff for the dispatch clock; level 2 when a further half of that
clock's SLA has passed (in the same kind of time), to the command centre's
head. Each escalation is raised once: its id ``clock:level:deadline`` is kept
on the case, in the case table, so a re-sent check or a restarted worker
finds it raised. A clock that restarts (a return, a reopen, an extension)
has a new deadline, hence new escalations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from processors.lifecycle.dispatching import alert_for, event_for
from processors.lifecycle.outcome import Applied
from routing import TRIAGE_DEPARTMENT, WorkingCalendar
from schemas.case import Case
from schemas.vocabulary import CLOCK_RUNNING, CaseEventType, SlaClock


@dataclass(frozen=True)
class Due:
    """One escalation whose time has come."""

    clock: str
    level: int
    deadline: datetime  # the clock's deadline (level 2 is due half an SLA later)

    @property
    def id(self) -> str:
        return f"{self.clock}:{self.level}:{self.deadline.isoformat()}"

    @property
    def to(self) -> str:
        """Who is told (DESIGN): the lead's head, the centre's duty staff, or the centre's head."""
        if self.level == 2:
            return "command_centre_head"
        return "command_centre_duty" if self.clock == SlaClock.DISPATCH.value else "department_head"


def _running(case: Case) -> Iterator[tuple[SlaClock, datetime, int | None]]:
    """(clock, deadline, SLA minutes) of each clock running on ``case`` (a suspended case's resolve clock stops)."""
    for name, deadline, minutes in (
        (SlaClock.DISPATCH, case.dispatch_deadline, case.sla_dispatch_minutes),
        (SlaClock.SIGN, case.sign_deadline, case.sla_sign_minutes),
        (SlaClock.RESOLVE, case.resolve_deadline, case.sla_resolve_minutes),
    ):
        if deadline is None or case.state not in CLOCK_RUNNING[name]:
            continue
        if name is SlaClock.RESOLVE and case.suspended_at is not None:
            continue
        yield name, deadline, minutes


def due(case: Case, now: datetime, calendar: WorkingCalendar) -> list[Due]:
    """The escalations of ``case`` due at ``now`` and not yet raised (suspended cases' resolve clock stops)."""
    clock = case.sla_clock or "wall"
    found: list[Due] = []
    for name, deadline, minutes in _running(case):
        if deadline <= now:
            found.append(Due(name.value, 1, deadline))
            if minutes and calendar.add(deadline, minutes // 2, clock) <= now:  # type: ignore[arg-type]
                found.append(Due(name.value, 2, deadline))
    return [d for d in found if d.id not in case.escalations]


def next_due(case: Case, calendar: WorkingCalendar) -> datetime | None:
    """When :func:`due` first has something for ``case``: the earliest escalation not yet raised.

    None when none can fall due as the case stands (no running clock, all raised). The timer
    keeps its cases by this time, so a tick looks at the cases due, not at the whole table.
    """
    clock = case.sla_clock or "wall"
    times: list[datetime] = []
    for name, deadline, minutes in _running(case):
        if Due(name.value, 1, deadline).id not in case.escalations:
            times.append(deadline)
        elif minutes and Due(name.value, 2, deadline).id not in case.escalations:
            times.append(calendar.add(deadline, minutes // 2, clock))  # type: ignore[arg-type]
    return min(times, default=None)


def escalate(case: Case, now: datetime, calendar: WorkingCalendar) -> Applied | None:
    """Raise every due escalation of ``case`` at ``now``: one event and one alert each; None if none is due."""
    pending = due(case, now, calendar)
    if not pending:
        return None
    events, alerts = [], []
    current = case
    for d in pending:
        current = current.model_copy(
            update=dict(seq=current.seq + 1, updated_at=now, escalations=[*current.escalations, d.id])
        )
        department = TRIAGE_DEPARTMENT if d.to != "department_head" else (case.lead_department or TRIAGE_DEPARTMENT)
        event = event_for(
            current,
            CaseEventType.ESCALATED,
            department,
            {"clock": d.clock, "level": d.level, "deadline": d.deadline.isoformat(), "to": d.to},
        )
        events.append(event)
        alerts.append(alert_for(current, event, department, lead=department == case.lead_department,
                                escalation=f"{d.clock}:{d.level}"))
    return Applied(current, events, alerts)
