"""The working-time calendar: worked SLA deadlines by hand, add/elapsed agreeing, and refused files."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infra.datafile import DataFileError
from routing import WorkingCalendar, load_calendar, load_sla

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = load_calendar()
HOUR, DAY = 60, 9 * 60  # working minutes


def sh(*parts: int) -> datetime:
    """A Shanghai wall time: sh(2026, 11, 27, 16, 0)."""
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[arg-type, misc]


def working(start: datetime, minutes: int) -> datetime:
    return CAL.add(start, minutes, "working")


def test_the_shipped_calendar_loads_cached_and_covers_this_year() -> None:
    assert load_calendar() is CAL
    assert CAL.covers(date(2026, 11, 25)) and CAL.covers(date(2025, 1, 1)) and not CAL.covers(date(2027, 1, 1))
    assert (CAL.zone.key, f"{CAL.opens:%H:%M}", f"{CAL.closes:%H:%M}") == ("Asia/Shanghai", "08:30", "17:30")
    assert CAL.day_minutes == load_sla().working_day_minutes == DAY  # sla.yaml's working day is this period
    by_year = {y: sum(d.year == y for d in CAL.holidays) for y in (2025, 2026)}
    assert by_year == {2025: 1 + 8 + 3 + 5 + 3 + 8, 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7}
    assert sorted(CAL.workdays) == [date.fromisoformat(d) for d in (
        "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    )]
    assert (CAL.holidays[date(2026, 2, 17)], CAL.holidays[date(2025, 10, 6)]) == ("春节", "国庆节、中秋节")


@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2026-11-27", True),  # Friday
        ("2026-11-28", False),  # Saturday
        ("2026-10-01", False),  # 国庆节, a Thursday
        ("2026-10-10", True),  # Saturday made a workday
        ("2026-10-11", False),  # Sunday
        ("2027-10-01", True),  # a Friday in a year not covered: only Monday–Friday counts
        ("2027-10-02", False),
    ],
)
def test_working_days(day: str, works: bool) -> None:
    assert CAL.is_working_day(date.fromisoformat(day)) is works


@pytest.mark.parametrize(
    ("start", "minutes", "deadline"),
    [
        # P3 sign (8 h) from Friday 16:00: Fri 16:00–17:30 is 1.5 h, Monday 08:30 + 6.5 h
        (sh(2026, 11, 27, 16, 0), 8 * HOUR, sh(2026, 11, 30, 15, 0)),
        (sh(2026, 11, 28, 10, 0), HOUR, sh(2026, 11, 30, 9, 30)),  # Saturday: counts from Monday 08:30
        (sh(2026, 11, 25, 7, 0), 2 * HOUR, sh(2026, 11, 25, 10, 30)),  # before opening: from 08:30
        (sh(2026, 11, 25, 18, 0), 2 * HOUR, sh(2026, 11, 26, 10, 30)),  # after closing: next morning
        (sh(2026, 11, 25, 8, 30), DAY, sh(2026, 11, 25, 17, 30)),  # a whole day ends at 17:30 ...
        (sh(2026, 11, 25, 9, 0), DAY - 30, sh(2026, 11, 25, 17, 30)),
        (sh(2026, 11, 25, 19, 0), DAY, sh(2026, 11, 26, 17, 30)),  # ... not at the next 08:30
        (sh(2026, 11, 25, 8, 30), DAY + 1, sh(2026, 11, 26, 8, 31)),
        # P4 resolve (15 d) from Monday 2026-11-02 08:30: three full weeks, ending on a Friday at 17:30
        (sh(2026, 11, 2, 8, 30), 15 * DAY, sh(2026, 11, 20, 17, 30)),
        # P3 resolve (5 d) over 国庆: 9-30 1 h; 10-01..07 off; 10-08, 10-09, Saturday 10-10, 10-12 (4 d); 10-13 8 h
        (sh(2026, 9, 30, 16, 30), 5 * DAY, sh(2026, 10, 13, 16, 30)),
        (sh(2026, 9, 18, 17, 0), HOUR, sh(2026, 9, 20, 9, 0)),  # Sunday 9-20 is a workday
        (sh(2026, 2, 13, 17, 0), HOUR, sh(2026, 2, 14, 9, 0)),  # so is Saturday 2-14, before 春节
        (sh(2026, 2, 14, 17, 0), HOUR, sh(2026, 2, 24, 9, 0)),  # 2-15..2-23 off
        (sh(2025, 12, 31, 17, 0), HOUR, sh(2026, 1, 4, 9, 0)),  # 元旦 1-1..1-3 off; Sunday 1-4 is a workday ...
        (sh(2026, 1, 3, 12, 0), HOUR, sh(2026, 1, 4, 9, 30)),  # ... so from a holiday it counts there
        (sh(2027, 1, 1, 9, 0), HOUR, sh(2027, 1, 1, 10, 0)),  # 2027 not covered: its 元旦 Friday works
        (sh(2026, 11, 25, 9, 0, 30, 250), 30, sh(2026, 11, 25, 9, 30, 30, 250)),  # seconds are kept
        (sh(2026, 11, 28, 10, 0), 0, sh(2026, 11, 28, 10, 0)),  # zero minutes: the start itself
    ],
)
def test_working_deadlines_by_hand(start: datetime, minutes: int, deadline: datetime) -> None:
    due = working(start, minutes)
    assert due == deadline and due.tzinfo is timezone.utc
    assert CAL.elapsed(start, due, "working") == minutes


def test_a_utc_start_gives_the_same_deadline() -> None:
    start = sh(2026, 11, 27, 16, 0)
    assert working(start.astimezone(timezone.utc), 8 * HOUR) == working(start, 8 * HOUR)
    assert working(start.astimezone(ZoneInfo("America/New_York")), 8 * HOUR) == sh(2026, 11, 30, 15, 0)


def test_the_wall_clock_counts_every_minute() -> None:
    start = sh(2026, 11, 27, 16, 0)  # Friday
    assert CAL.add(start, 15, "wall") == sh(2026, 11, 27, 16, 15)
    due = CAL.add(start, 24 * HOUR, "wall")
    assert due == sh(2026, 11, 28, 16, 0) and due.tzinfo is timezone.utc
    assert CAL.elapsed(start, sh(2026, 11, 30, 16, 0), "wall") == 3 * 24 * HOUR


def test_elapsed_working_minutes() -> None:
    assert CAL.elapsed(sh(2026, 9, 30, 17, 0), sh(2026, 10, 8, 9, 0), "working") == 60  # over 国庆
    assert CAL.elapsed(sh(2026, 11, 28, 9, 0), sh(2026, 11, 29, 17, 0), "working") == 0  # a weekend
    assert CAL.elapsed(sh(2026, 11, 25, 9, 0), sh(2026, 11, 25, 9, 0, 30), "working") == 0.5
    assert CAL.elapsed(sh(2026, 11, 25, 12, 0), sh(2026, 11, 25, 9, 0), "working") == 0  # end before start
    assert CAL.elapsed(sh(2026, 11, 25, 12, 0), sh(2026, 11, 25, 9, 0), "wall") == 0


@pytest.mark.parametrize("clock", ["working", "wall"])
def test_elapsed_undoes_add_from_random_starts(clock: str) -> None:
    rng = random.Random(20261127)
    first = sh(2024, 12, 20, 0, 0)  # across both covered years and into 2027
    for _ in range(2000):
        start = first + timedelta(seconds=rng.randrange(800 * 24 * 3600), microseconds=rng.randrange(10**6))
        minutes = rng.choice((0, 1, 30, 2 * HOUR, DAY, 2 * DAY, 5 * DAY, 15 * DAY, rng.randrange(20 * DAY)))
        due = CAL.add(start, minutes, clock)  # type: ignore[arg-type]
        assert due >= start
        assert CAL.elapsed(start, due, clock) == minutes, (start, minutes)  # type: ignore[arg-type]
        if clock == "working" and minutes:
            local = due.astimezone(SHANGHAI)
            assert CAL.is_working_day(local.date()) and CAL.opens < local.time() <= CAL.closes, (start, minutes)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(datetime(2026, 11, 25, 9, 0), 30, "working")
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.elapsed(sh(2026, 11, 25, 9, 0), datetime(2026, 11, 25, 10, 0), "wall")
    with pytest.raises(ValueError, match="unknown clock"):
        CAL.add(sh(2026, 11, 25, 9, 0), 30, "office")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        CAL.add(sh(2026, 11, 25, 9, 0), -1, "wall")


GOOD = """\
timezone: Asia/Shanghai
hours: ["08:30", "17:30"]
years_covered: [2026]
holidays:
  - {date: 2026-01-01, name: 元旦}
  - {from: 2026-10-01, to: 2026-10-07, name: 国庆节}
workdays:
  - {date: 2026-10-10, name: 国庆节}
"""
HOLIDAY = "  - {date: 2026-01-01, name: 元旦}"
RANGE = "  - {from: 2026-10-01, to: 2026-10-07, name: 国庆节}"
WORKDAY = "  - {date: 2026-10-10, name: 国庆节}"


def test_a_small_calendar_loads(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(GOOD, encoding="utf-8")
    cal = load_calendar(path)
    assert isinstance(cal, WorkingCalendar) and cal is not load_calendar(path)
    assert (len(cal.holidays), list(cal.workdays), cal.file) == (8, [date(2026, 10, 10)], str(path))


@pytest.mark.parametrize(
    ("line", "bad", "words"),
    [
        (HOLIDAY, "  - {date: 2026-02-30, name: 元旦}", ("not a valid date", "out of range")),
        (HOLIDAY, '  - {date: "2026-02-30", name: 元旦}', ("not a valid date",)),
        (HOLIDAY, "  - {date: 2026/01/01, name: 元旦}", ("must be a date",)),
        (HOLIDAY, "  - {date: 2026-01-01 08:00:00, name: 元旦}", ("must be a date",)),
        (HOLIDAY, "  - {date: 2026-01-01}", ("no 'name'",)),
        (HOLIDAY, "  - {date: 2026-01-01, name: 元旦, day: 1}", ("unknown key 'day'",)),
        (HOLIDAY, "  - {date: 2026-01-01, to: 2026-01-03, name: 元旦}", ("either date or from and to",)),
        (HOLIDAY, "  - {from: 2026-01-01, name: 元旦}", ("no 'to'",)),
        (RANGE, "  - {from: 2026-10-07, to: 2026-10-01, name: 国庆节}", ("ends (2026-10-01) before it starts",)),
        (RANGE, "  - from: 2026-10-01\n    to: 2026-10-00  # BAD\n    name: 国庆节", ("not a valid date",)),
        (RANGE, "  - from: 2026-10-07\n    to: 2026-10-01  # BAD\n    name: 国庆节", ("before it starts",)),
        (HOLIDAY, "  - {date: 2025-01-01, name: 元旦}", ("2025-01-01 is outside years_covered (2026)",)),
        (HOLIDAY, "  - from: 2026-12-31\n    to: 2027-01-01  # BAD\n    name: 元旦", ("2027-01-01 is outside",)),
        (WORKDAY, "  - {date: 2027-01-02, name: 国庆节}", ("outside years_covered",)),
        (HOLIDAY, f"{HOLIDAY}\n  - {{date: 2026-01-01, name: 元旦}}", ("2026-01-01 is listed twice in holidays",)),
        (RANGE, f"{RANGE}\n  - {{from: 2026-10-06, to: 2026-10-08, name: 国庆节}}", ("2026-10-06 is listed twice",)),
        (WORKDAY, f"{WORKDAY}\n  - {{date: 2026-10-10, name: 国庆节}}", ("listed twice in workdays",)),
        (WORKDAY, "  - {date: 2026-10-09, name: 国庆节}", ("2026-10-09 is a Friday", "Saturday or Sunday")),
        (WORKDAY, "  - {date: 2026-10-03, name: 国庆节}", ("both a holiday (line 6) and a workday",)),
        ('hours: ["08:30", "17:30"]', 'hours: ["08:30", 17:30]', ('"HH:MM"', "1050", "quote it")),
        ('hours: ["08:30", "17:30"]', 'hours: ["8.30", "17:30"]', ('"HH:MM"', "'8.30'")),
        ('hours: ["08:30", "17:30"]', 'hours: ["08:30", "24:00"]', ('"HH:MM"',)),
        ('hours: ["08:30", "17:30"]', 'hours: ["17:30", "08:30"]', ("end 08:30 is not after their start 17:30",)),
        ('hours: ["08:30", "17:30"]', 'hours: ["08:30", "08:30"]', ("not after",)),
        ('hours: ["08:30", "17:30"]', 'hours: ["08:30", "12:00", "13:00", "17:30"]', ("[start, end]",)),
        ("timezone: Asia/Shanghai", "timezone: Asia/Beijing", ("unknown timezone 'Asia/Beijing'",)),
        ("timezone: Asia/Shanghai", "timezone: Asia/Shanghai\nweekdays: [1, 2]", ("unknown key 'weekdays'",)),
        ("years_covered: [2026]", "years_covered: [2026, 2026]", ("listed twice in years_covered",)),
        ("years_covered: [2026]", 'years_covered: ["2026"]', ("years like 2026",)),
        ("years_covered: [2026]", "years_covered: []", ("at least one year",)),
    ],
)
def test_a_bad_calendar_names_file_and_line(tmp_path: Path, line: str, bad: str, words: tuple[str, ...]) -> None:
    assert line in GOOD.splitlines()
    text = GOOD.replace(line, bad if "# BAD" in bad else f"{bad}  # BAD")
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        load_calendar(path)
    [at] = [n for n, text_line in enumerate(text.splitlines(), 1) if "# BAD" in text_line]
    assert (exc.value.file, exc.value.line) == (str(path), at), str(exc.value)
    assert str(exc.value).startswith(f"{path}:{at}: ")
    for word in words:
        assert word in str(exc.value), (word, str(exc.value))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read") as exc:
        load_calendar(tmp_path / "nowhere.yaml")
    assert exc.value.file == str(tmp_path / "nowhere.yaml")
