"""SQL over the ``cases`` table that several readers share: the API's listings, the dashboards, the alert rules.

The state sets come from :mod:`schemas.vocabulary`, rendered here, so a
state added to the lifecycle reaches every query at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from schemas.vocabulary import CLOCK_RUNNING, OPEN_STATES, SlaClock


def in_list(values: Iterable[Enum]) -> str:
    """``('a', 'b')`` for an IN clause, in the enum's declaration order (stable SQL text)."""
    members = set(values)
    order = {m: i for i, m in enumerate(type(next(iter(members))))} if members else {}
    return "(" + ", ".join(f"'{m.value}'" for m in sorted(members, key=order.__getitem__)) + ")"


#: 在办: the case is still being worked
IS_OPEN = f"state IN {in_list(OPEN_STATES)}"
#: the resolve clock runs (not suspended): the cases the breach rate is a share of
RESOLVE_CLOCK_RUNNING = f"state IN {in_list(CLOCK_RUNNING[SlaClock.RESOLVE])} AND isNull(suspended_at)"


def overdue(now: str) -> str:
    """Past its sign deadline unsigned, or past its resolve deadline unresolved, at the SQL time ``now``.

    A suspended case's resolve clock stands still, so it is not overdue on it.
    """
    signing = f"state IN {in_list(CLOCK_RUNNING[SlaClock.SIGN])}"
    return f"(({signing} AND sign_deadline < {now}) OR ({RESOLVE_CLOCK_RUNNING} AND resolve_deadline < {now}))"


__all__ = ["IS_OPEN", "RESOLVE_CLOCK_RUNNING", "in_list", "overdue"]
