"""The district's indicators (综合评价), as DESIGN "Indicators" defines them.

Two steps. :func:`case_rows` reads, from ClickHouse, every case *as it stood
at the as-of time*: its latest version among those written up to then
(``case_versions`` keeps them all). :func:`indicators` then groups and counts, in Python,
with DESIGN's formulas:

- a case belongs to the period (and the day, Asia/Shanghai) of its **first**
  dispatch, and to the department that is its lead at the as-of time —
  except that a return counts against the department that returned it;
- 及时签收率 = signed by the sign deadline ÷ (signed + unsigned past it);
- 按期办结率 = resolved on time (latest resolve before the current deadline)
  ÷ (resolved + unresolved past the deadline), suspended cases left out;
- 结案率 = closed ÷ dispatched; 返工率 = reopened ≥ 1 ÷ resolved ≥ 1;
  退回率 = returned ≥ 1 ÷ dispatched;
- p50/p90 durations in seconds as ClickHouse's ``quantileExact`` takes them
  (the element at ⌊p·n⌋ of the sorted values).

Rejected and merged cases are not work done and count nowhere; cases closed
on the spot (自行处置) were never dispatched and are counted apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Protocol, Sequence
from zoneinfo import ZoneInfo

from schemas.vocabulary import CLOCK_RUNNING, NOT_WORK_STATES, RESOLVED_STATES, SlaClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
DIMENSIONS = ("department", "town", "grid", "category", "day", "network")
# the state sets as the values ClickHouse returns
OPEN_WORK = frozenset(s.value for s in CLOCK_RUNNING[SlaClock.RESOLVE])  # the resolve clock runs
RESOLVED = frozenset(s.value for s in RESOLVED_STATES)
NOT_WORK = frozenset(s.value for s in NOT_WORK_STATES)
DURATIONS = ("dispatch", "sign", "resolve", "close")

# The columns case_rows() returns, in order.
COLUMNS = (
    "case_id", "state", "lead", "town", "grid", "category", "received_at", "dispatched_at",
    "signed_at", "sign_deadline", "resolved_at", "resolve_deadline", "first_resolved_at", "closed_at",
    "suspended_at", "reopen_count", "returned_by", "on_the_spot",
    "dispatch_seconds", "sign_seconds", "resolve_seconds", "close_seconds", "network",
)  # fmt: skip
#: the columns of the case table that case_rows() renames
CASE_FIELDS = {"lead": "lead_department", "grid": "grid_id", "network": "source"}


class Engine(Protocol):
    def execute(self, sql: str) -> Sequence[tuple[Any, ...]]: ...


def case_rows_sql(database: str, as_of: datetime, since: datetime, until: datetime) -> str:
    """SQL for every case of the period as it stood at ``as_of`` (runs on 18.16 and chdb).

    Whole rows of the latest version, not ``argMax`` per column: aggregate
    functions skip NULLs, so ``argMax(signed_at, seq)`` would resurrect the
    sign of a dispatch that a return has since wiped.
    """
    picks = ", ".join(
        "toString(case_id)" if c == "case_id" else f"{CASE_FIELDS[c]} AS {c}" if c in CASE_FIELDS else c
        for c in COLUMNS
    )
    t = lambda d: f"toDateTime({int(d.timestamp())}, 'UTC')"  # noqa: E731
    return (
        f"SELECT {picks}\nFROM {database}.case_versions FINAL\n"
        f"WHERE (case_id, seq) IN (\n"
        f"    SELECT case_id, max(seq) FROM {database}.case_versions WHERE updated_at <= {t(as_of)} GROUP BY case_id)\n"
        f"  AND ((dispatched_at >= {t(since)} AND dispatched_at < {t(until)})\n"
        f"    OR (on_the_spot = 1 AND received_at >= {t(since)} AND received_at < {t(until)}))"
    )


def case_rows(engine: Engine, database: str, as_of: datetime, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Every case of [since, until) — by first dispatch, or receipt if closed on the spot — as of ``as_of``."""
    rows = engine.execute(case_rows_sql(database, as_of, since, until))
    return [{c: _typed(c, v) for c, v in zip(COLUMNS, row)} for row in rows]


_TIMES = frozenset(c for c in COLUMNS if c.endswith("_at") or c.endswith("_deadline"))
_INTS = frozenset({"reopen_count", "on_the_spot"} | {f"{d}_seconds" for d in DURATIONS})


def _typed(column: str, value: Any) -> Any:
    """One value as Python types, whichever engine read it (chdb's JSON gives text for times and UInt64)."""
    if value is None:
        return None
    if column in _TIMES:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when  # DateTime('UTC') comes naive
    if column in _INTS:
        return int(value)
    if column == "returned_by":
        return list(value)
    return value


def quantile_exact(values: Sequence[float], level: float) -> float | None:
    """ClickHouse's ``quantileExact``: the element at ⌊level·n⌋ of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.floor(level * len(ordered)))]


@dataclass
class Counts:
    """The numerators and denominators of one group."""

    dispatched: int = 0
    signed_on_time: int = 0
    sign_base: int = 0
    resolved_on_time: int = 0
    resolve_base: int = 0
    closed: int = 0
    resolved_once: int = 0
    reopened: int = 0
    returned: int = 0
    return_base: int = 0
    on_the_spot: int = 0
    durations: dict[str, list[int]] = field(default_factory=lambda: {d: [] for d in DURATIONS})

    def row(self, key: str) -> dict[str, Any]:
        """The indicator row of this group (rates None where the denominator is 0)."""

        def rate(n: int, d: int) -> float | None:
            return round(n / d, 4) if d else None

        out: dict[str, Any] = {
            "key": key,
            "dispatched": self.dispatched,
            "及时签收率": rate(self.signed_on_time, self.sign_base),
            "按期办结率": rate(self.resolved_on_time, self.resolve_base),
            "结案率": rate(self.closed, self.dispatched),
            "返工率": rate(self.reopened, self.resolved_once),
            "退回率": rate(self.returned, self.return_base),
            "signed_on_time": self.signed_on_time,
            "sign_base": self.sign_base,
            "resolved_on_time": self.resolved_on_time,
            "resolve_base": self.resolve_base,
            "closed": self.closed,
            "reopened": self.reopened,
            "resolved_once": self.resolved_once,
            "returned": self.returned,
            "on_the_spot": self.on_the_spot,
        }
        for name in DURATIONS:
            out[f"{name}_p50_s"] = quantile_exact(self.durations[name], 0.5)
            out[f"{name}_p90_s"] = quantile_exact(self.durations[name], 0.9)
        return out


def _key(case: dict[str, Any], by: str) -> str:
    if by == "department":
        return case["lead"] or "-"
    if by == "day":
        when = case["dispatched_at"] or case["received_at"]
        return when.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    return case[by] or "-"


def indicators(cases: Iterable[dict[str, Any]], by: str, as_of: datetime) -> list[dict[str, Any]]:
    """One indicator row per group of ``by`` (department, town, grid, category, day or source network), plus 合计."""
    if by not in DIMENSIONS:
        raise ValueError(f"--by must be one of {', '.join(DIMENSIONS)}")
    groups: dict[str, Counts] = defaultdict(Counts)
    total = Counts()
    for case in cases:
        if case["state"] in NOT_WORK:
            continue
        key = _key(case, by)
        if case["on_the_spot"]:
            groups[key].on_the_spot += 1
            total.on_the_spot += 1
            continue
        for counts in (groups[key], total):
            _count(counts, case, as_of)
        if by == "department":
            # A return counts against the department that returned it, not the lead it ended with.
            # (The lead keeps the case in its own base: it was dispatched there too.)
            groups[key].returned -= 1 if case["returned_by"] else 0
            for returner in dict.fromkeys(case["returned_by"]):
                groups[returner].returned += 1
                # (a case assigned back to a department that once returned it is in its base once)
                groups[returner].return_base += returner != key
    rows = [groups[k].row(k) for k in sorted(groups)]
    return rows + [total.row("合计")]


def _count(c: Counts, case: dict[str, Any], as_of: datetime) -> None:
    state = case["state"]
    c.dispatched += 1
    c.return_base += 1
    if case["signed_at"] is not None:
        c.sign_base += 1
        c.signed_on_time += case["sign_deadline"] is not None and case["signed_at"] <= case["sign_deadline"]
    elif state == "dispatched" and case["sign_deadline"] is not None and case["sign_deadline"] < as_of:
        c.sign_base += 1
    if case["suspended_at"] is None:
        if state in RESOLVED:
            c.resolve_base += 1
            deadline = case["resolve_deadline"]
            c.resolved_on_time += deadline is not None and case["resolved_at"] <= deadline
        elif state in OPEN_WORK and case["resolve_deadline"] is not None and case["resolve_deadline"] < as_of:
            c.resolve_base += 1
    c.closed += state == "closed"
    c.resolved_once += case["first_resolved_at"] is not None
    c.reopened += case["reopen_count"] > 0
    c.returned += bool(case["returned_by"])
    for name in DURATIONS:
        value = case[f"{name}_seconds"]
        if value is not None:
            c.durations[name].append(int(value))
