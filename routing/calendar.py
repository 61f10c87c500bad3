"""The working-time calendar of the P3/P4 SLA clocks (DESIGN "SLA clocks"), loaded from ``calendar.yaml``.

Working time is one period a day (08:30–17:30 Asia/Shanghai) on working days:
Monday to Friday, less the State Council's public holidays, plus the weekend
days it makes working days (调休上班). That schedule is published one year at a
time, so the file says which years it covers; for a day outside them only the
plain Monday–Friday rule applies, and ``covers`` tells a caller which is which.

``add`` and ``elapsed`` take aware datetimes in any zone and do their
arithmetic in UTC: local time is used only to find each day's working period,
so the answer does not depend on the zone the caller happened to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from infra.datafile import Doc, Source, YMap, read_doc
from routing.sla import CLOCKS, Clock

UTC: Final = timezone.utc
SATURDAY: Final = 5  # date.weekday(): Monday is 0
_MINUTE: Final = timedelta(minutes=1)
_TIME: Final = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEYS: Final = ("timezone", "hours", "years_covered", "holidays", "workdays")


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and their one working period (``opens``–``closes`` in ``zone``)."""

    file: str
    zone: ZoneInfo
    opens: time
    closes: time
    years_covered: frozenset[int]
    holidays: dict[date, str]  # day off → its holiday's name (春节 …)
    workdays: dict[date, str]  # weekend day worked (调休上班) → the holiday it makes up for

    @property
    def day_minutes(self) -> int:
        """Minutes in one working day's period (540 for 08:30–17:30)."""
        return (self.closes.hour - self.opens.hour) * 60 + self.closes.minute - self.opens.minute

    def covers(self, d: date) -> bool:
        """Whether the file holds ``d``'s year's holidays; outside it, only Monday–Friday counts."""
        return d.year in self.years_covered

    def is_working_day(self, d: date) -> bool:
        """Monday–Friday unless a holiday; a weekend day listed as a workday (调休上班) works."""
        if d in self.holidays:
            return False
        return d in self.workdays or d.weekday() < SATURDAY

    def add(self, start: datetime, minutes: int, clock: Clock) -> datetime:
        """The instant ``minutes`` of ``clock`` after ``start`` (an SLA deadline), in UTC.

        On the working clock only time inside working periods counts: from a
        start outside a period the count begins at the next period's start, and
        a count that uses up a period exactly ends at that period's end (17:30),
        not at the next morning's start. Zero minutes is ``start`` itself.
        """
        at = _utc(start, "start")
        _check_clock(clock)
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, not {minutes!r}")
        left = timedelta(minutes=minutes)
        if clock == "wall" or not left:
            return at + left
        for opens, closes in self._periods(at):
            if opens + left <= closes:
                return opens + left
            left -= closes - opens
        raise AssertionError("unreachable: working periods never run out")

    def elapsed(self, start: datetime, end: datetime, clock: Clock) -> float:
        """Minutes of ``clock`` from ``start`` to ``end``, 0 if ``end`` is not later; the inverse of ``add``."""
        begin, finish = _utc(start, "start"), _utc(end, "end")
        _check_clock(clock)
        if finish <= begin:
            return 0.0
        if clock == "wall":
            return (finish - begin) / _MINUTE
        total = timedelta()
        for opens, closes in self._periods(begin):
            if opens >= finish:
                break
            total += min(closes, finish) - opens
        return total / _MINUTE  # one division of whole microseconds: add's minutes come back exactly

    def _periods(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working periods ending after ``after``, in order, as UTC (start, end); the first may be cut to start at ``after``."""
        day = after.astimezone(self.zone).date()
        while True:
            if self.is_working_day(day):
                closes = datetime.combine(day, self.closes, self.zone).astimezone(UTC)
                if closes > after:
                    yield max(datetime.combine(day, self.opens, self.zone).astimezone(UTC), after), closes
            day += timedelta(days=1)


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC)


def _check_clock(clock: str) -> None:
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r} (expected {', '.join(CLOCKS)})")


def load_calendar_file(source: Source) -> WorkingCalendar:
    """Load and validate ``calendar.yaml``; DataFileError names the file and line at fault."""
    doc = read_doc(source)
    root = doc.mapping(doc.root, 1, "the calendar file")
    doc.only_keys(root, _KEYS, "the calendar file")
    zone_name = doc.text(root, "timezone", "the calendar file") or ""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        doc.fail(root.line_of("timezone"), f"unknown timezone {zone_name!r} (e.g. Asia/Shanghai)")
    opens, closes = _hours(doc, root)
    years = _years(doc, root)
    holidays = _days(doc, root, "holidays", years, {})
    workdays = _days(doc, root, "workdays", years, holidays)
    return WorkingCalendar(
        doc.file,
        zone,
        opens,
        closes,
        frozenset(years),
        {d: name for d, (name, _) in holidays.items()},
        {d: name for d, (name, _) in workdays.items()},
    )


def _hours(doc: Doc, root: YMap) -> tuple[time, time]:
    hours = doc.sequence(root.get("hours"), root.line_of("hours"), "hours")
    if len(hours) != 2:
        doc.fail(hours.line, 'hours must be [start, end] of the working period, e.g. ["08:30", "17:30"]')
    opens, closes = (_time(doc, value, line) for value, line in zip(hours, hours.lines))
    if closes <= opens:
        doc.fail(hours.lines[1], f"hours end {closes:%H:%M} is not after their start {opens:%H:%M}")
    return opens, closes


def _time(doc: Doc, value: object, line: int) -> time:
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        # YAML 1.1 reads an unquoted 17:30 as the base-60 number 1050
        hint = " (quote it: unquoted, YAML reads it as a number)" if isinstance(value, int) else ""
        doc.fail(line, f'a time must be written "HH:MM", e.g. "08:30", not {value!r}{hint}')
    return time(int(match.group(1)), int(match.group(2)))


def _years(doc: Doc, root: YMap) -> set[int]:
    seq = doc.sequence(root.get("years_covered"), root.line_of("years_covered"), "years_covered")
    if not seq:
        doc.fail(seq.line, "years_covered must name at least one year")
    years: set[int] = set()
    for year, line in zip(seq, seq.lines):
        if type(year) is not int or not 1900 < year < 3000:
            doc.fail(line, f"years_covered must hold years like 2026, not {year!r}")
        if year in years:
            doc.fail(line, f"year {year} is listed twice in years_covered")
        years.add(year)
    return years


def _days(
    doc: Doc, root: YMap, key: str, years: set[int], holidays: dict[date, tuple[str, int]]
) -> dict[date, tuple[str, int]]:
    """The dates of ``holidays`` or ``workdays``, each with its name and line; ``holidays`` checks workdays."""
    seq = doc.sequence(root.get(key), root.line_of(key), key)
    days: dict[date, tuple[str, int]] = {}
    for entry, line in zip(seq, seq.lines):
        what = f"an entry of {key}"
        m = doc.mapping(entry, line, what)
        doc.only_keys(m, ("date", "from", "to", "name"), what)
        name = doc.text(m, "name", what) or ""
        if "date" in m and ("from" in m or "to" in m):
            doc.fail(m.line, f"{what} gives either date or from and to, not both")
        first_key = "date" if "date" in m else "from"
        first = _date(doc, m, first_key, what)
        last = first if first_key == "date" else _date(doc, m, "to", what)
        if last < first:
            doc.fail(m.line_of("to"), f"{what} ends ({last}) before it starts ({first})")
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            where = m.line_of("to" if day.year != first.year else first_key)
            if day.year not in years:
                doc.fail(where, f"{day} is outside years_covered ({', '.join(map(str, sorted(years)))})")
            if day in days:
                doc.fail(where, f"{day} is listed twice in {key} (first at line {days[day][1]})")
            if day in holidays:
                doc.fail(where, f"{day} is both a holiday (line {holidays[day][1]}) and a workday")
            if key == "workdays" and day.weekday() < SATURDAY:
                doc.fail(where, f"workday {day} is a {day:%A}: only a Saturday or Sunday can be made a workday")
            days[day] = (name, where)
    return days


def _date(doc: Doc, m: YMap, key: str, what: str) -> date:
    if key not in m:
        doc.fail(m.line, f"{what} has no {key!r}")
    value = m[key]
    if isinstance(value, str) and _ISO_DATE.match(value):  # a quoted date
        try:
            value = date.fromisoformat(value)
        except ValueError:
            doc.fail(m.line_of(key), f"{key!r} of {what} is not a valid date: {m[key]!r}")
    if type(value) is not date:  # a datetime is a date too, but not a day
        doc.fail(m.line_of(key), f"{key!r} of {what} must be a date like 2026-01-01, not {m[key]!r}")
    return value
