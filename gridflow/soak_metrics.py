"""The soak's arithmetic: resident memory from ``/proc``, consumer lag, latency percentiles, and when memory has levelled off.

Pure functions (``rss_mib`` only reads a file), so each rule is tested on its
own numbers. The levelling-off rule, stated once here and printed by the
soak: split the minutes into the last third and what came before; a
process's memory has levelled off when the peak of the last third is at
most ``threshold`` (5 %) above the peak before it. Peaks, not the last
reading, because a JVM's or an allocator's memory saws up and down within a
minute; a steady leak still shows, as the growth over the last third.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: clock ticks per second of /proc's CPU times
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: the default levelling-off threshold: growth of the last third's peak over the earlier peak
LEVEL_THRESHOLD = 0.05
#: fewer minutes than this and there is no "last third" to compare with what came before
LEVEL_MIN_MINUTES = 3


def vmrss_kib(status: str) -> int | None:
    """The ``VmRSS`` of a ``/proc/<pid>/status`` text in KiB; None when absent (a zombie, a kernel thread)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            fields = line.split()
            # "VmRSS:    123456 kB": the kernel always writes kB
            return int(fields[1]) if len(fields) >= 2 and fields[1].isdigit() else None
    return None


def rss_mib(pid: int, proc: Path = Path("/proc")) -> float | None:
    """Resident memory of ``pid`` in MiB (one decimal), or None once it is gone."""
    try:
        kib = vmrss_kib((proc / str(pid) / "status").read_text())
    except OSError:
        return None
    return None if kib is None else round(kib / 1024, 1)


def cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float | None:
    """User + system CPU time ``pid`` has used, in seconds; None once it is gone.

    ``/proc/<pid>/stat`` fields 14 and 15, in clock ticks; the command name
    (field 2, in parentheses) may hold spaces and parentheses, so the fields
    are counted from its last ``)``.
    """
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 13:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_percent(before: float | None, after: float | None, wall_s: float) -> float | None:
    """Share of one core used between two :func:`cpu_seconds` readings ``wall_s`` apart (100 = one core busy)."""
    if before is None or after is None or wall_s <= 0:
        return None
    return round(100 * max(0.0, after - before) / wall_s, 1)


def consumer_lag(ends: Mapping[Hashable, int], committed: Mapping[Hashable, int]) -> int:
    """Records not yet committed, summed over the partitions a group has committed on: end offset − committed offset.

    A partition without a committed offset (or with -1, "none") is not
    counted: the group has not consumed it yet, and counting its whole log
    would report history, not lag. A committed offset past the end (the
    end read a moment earlier) counts as 0, never negative; a partition
    whose end is unknown is skipped.
    """
    total = 0
    for partition, offset in committed.items():
        end = ends.get(partition)
        if offset is None or offset < 0 or end is None:
            continue
        total += max(0, end - offset)
    return total


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0 < p ≤ 100) by nearest rank: a value that occurred, not an interpolation."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile p must be in (0, 100], not {p}")
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p99 and max of latencies given in seconds, in milliseconds (None when there are none)."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "count": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
    }


@dataclass(frozen=True)
class Levelling:
    """The verdict on one process's memory over a run."""

    levelled: bool | None  # None: too few readings to tell
    earlier_peak: float | None = None  # MiB, before the last third
    last_peak: float | None = None  # MiB, in the last third
    growth: float | None = None  # last_peak - earlier_peak, MiB
    share: float | None = None  # growth / earlier_peak

    def text(self) -> str:
        """A short user-facing verdict in Chinese and English."""
        if self.levelled is None:
            return f"无法判断 undetermined (< {LEVEL_MIN_MINUTES} minutes)"
        assert self.growth is not None and self.share is not None
        word = "已平稳 levelled off" if self.levelled else "仍在增长 still growing"
        return f"{word} ({self.growth:+.1f} MiB, {self.share:+.1%})"


def levelling(readings: Sequence[float | None], threshold: float = LEVEL_THRESHOLD) -> Levelling:
    """Whether memory levelled off: the last third's peak at most ``threshold`` above the peak before it.

    ``readings`` are one per minute, in order; None (no reading: the
    process was gone) is left out. The last third is the last
    ⌈n/3⌉ readings, so a 5-minute run compares minutes 4–5 with 1–3 and a
    30-minute run minutes 21–30 with 1–20.
    """
    values = [r for r in readings if r is not None]
    if len(values) < LEVEL_MIN_MINUTES:
        return Levelling(None)
    tail = math.ceil(len(values) / 3)
    earlier, last = max(values[:-tail]), max(values[-tail:])
    growth = last - earlier
    share = growth / earlier if earlier > 0 else (0.0 if growth <= 0 else math.inf)
    return Levelling(share <= threshold, earlier, last, round(growth, 1), share)


def at_minutes(rows: Sequence[Mapping[str, object]], wanted: Sequence[int] = (1, 10, 30)) -> list[Mapping[str, object]]:
    """The rows of the ``wanted`` minutes; a minute past the run's end is its last row (each row at most once)."""
    if not rows:
        return []
    by_minute = {row["minute"]: row for row in rows}
    last = rows[-1]
    picked: list[Mapping[str, object]] = []
    for minute in wanted:
        row = by_minute.get(minute, last if minute > last["minute"] else None)  # type: ignore[operator]
        if row is not None and all(row is not seen for seen in picked):
            picked.append(row)
    return picked
