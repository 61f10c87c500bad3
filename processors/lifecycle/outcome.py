"""What applying a command to a case gives: the change, or the refusal (nothing changed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import LinkCommand, UnlinkCommand
from schemas.vocabulary import CaseState


@dataclass(frozen=True)
class Refusal:
    """Why an action changed nothing.

    ``code``: ``forbidden`` (this person may not, HTTP 403), ``not_allowed``
    (not in this state, 409), ``invalid`` (a field is missing or wrong, 422,
    named in the message) or ``not_found`` (404).
    """

    code: str
    message: str
    state: CaseState | None
    allowed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Applied:
    """What an action changed: the new case, its events in order, the alerts to send, the commands it starts.

    ``follow_ups`` are commands for other cases (a merged case tells the case
    it joined; a split report tells the case it left), sent by the case
    agent after the events, keyed by their own case.
    """

    case: Case
    events: list[CaseEvent]
    alerts: list[DepartmentAlert] = field(default_factory=list)
    follow_ups: list[LinkCommand | UnlinkCommand] = field(default_factory=list)
