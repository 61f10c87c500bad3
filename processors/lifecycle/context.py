"""What the pure case logic needs besides the case itself (the district's data, loaded once per worker)."""

from __future__ import annotations

from dataclasses import dataclass

from routing import RuleSet, WorkingCalendar


@dataclass(frozen=True)
class Context:
    """What actions need besides the case: routing data, the calendar, the known departments."""

    rules: RuleSet
    calendar: WorkingCalendar
    min_confidence: float
    departments: frozenset[str]
