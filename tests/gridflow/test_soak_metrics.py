"""The soak's arithmetic: VmRSS parsing, lag, nearest-rank percentiles, the levelling-off rule, the summary's minutes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gridflow.soak_metrics import (
    CLOCK_TICKS,
    at_minutes,
    consumer_lag,
    cpu_percent,
    cpu_seconds,
    latency_summary,
    levelling,
    percentile,
    rss_mib,
    vmrss_kib,
)

STATUS = """Name:\tpython
State:\tS (sleeping)
VmPeak:\t  400000 kB
VmRSS:\t  204800 kB
RssAnon:\t  150000 kB
"""


def test_vmrss_is_read_from_its_own_line() -> None:
    assert vmrss_kib(STATUS) == 204800  # not VmPeak, not RssAnon
    assert vmrss_kib("Name:\tkthreadd\nState:\tS\n") is None  # kernel threads have none


def test_rss_of_a_live_process_and_of_a_gone_one(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_text(STATUS)
    assert rss_mib(42, proc=tmp_path) == 200.0
    assert rss_mib(43, proc=tmp_path) is None
    assert (rss_mib(os.getpid()) or 0) > 1  # this test's own process, read from the real /proc


def test_cpu_seconds_count_past_a_command_name_with_spaces_and_parens(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    (tmp_path / "42" / "stat").write_text(f"42 (a b) (c)) S 1 42 42 0 -1 4194560 10 0 0 0 {3 * CLOCK_TICKS} {CLOCK_TICKS} 0 0\n")
    assert cpu_seconds(42, tmp_path) == 4.0
    assert cpu_seconds(43, tmp_path) is None  # gone
    own = cpu_seconds(os.getpid())
    assert own is not None and own > 0  # this test process has used some CPU


def test_cpu_percent_is_a_share_of_one_core() -> None:
    assert cpu_percent(10.0, 40.0, 60.0) == 50.0
    assert cpu_percent(10.0, 130.0, 60.0) == 200.0  # two cores busy
    assert cpu_percent(None, 40.0, 60.0) is None and cpu_percent(10.0, None, 60.0) is None
    assert cpu_percent(10.0, 40.0, 0.0) is None


def test_lag_is_end_minus_committed_summed_over_committed_partitions() -> None:
    ends = {("t", 0): 100, ("t", 1): 50, ("t", 2): 7, ("u", 0): 30}
    committed = {("t", 0): 90, ("t", 1): 50, ("t", 2): -1, ("u", 0): 31}
    # 10 + 0; -1 ("none") is not counted; a commit read after the end (31 > 30) is 0, never -1
    assert consumer_lag(ends, committed) == 10
    assert consumer_lag(ends, {}) == 0
    assert consumer_lag({}, {("t", 0): 5}) == 0  # an end not known is skipped, not taken as 0


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1 … 100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # unsorted input
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 0)


def test_latency_summary_in_milliseconds() -> None:
    summary = latency_summary([0.2, 0.1, 0.3, 1.5])
    assert summary == {"count": 4, "p50_ms": 200.0, "p99_ms": 1500.0, "max_ms": 1500.0}
    assert latency_summary([]) == {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}


def test_memory_that_flattens_has_levelled_off() -> None:
    # fast growth while caches fill, then a sawtooth around a plateau
    verdict = levelling([100, 180, 200, 204, 199, 203, 205, 201, 204])
    assert verdict.levelled is True
    assert verdict.earlier_peak == 204 and verdict.last_peak == 205
    assert "levelled off" in verdict.text()


def test_a_steady_leak_has_not_levelled_off() -> None:
    # 2 % a minute for 30 minutes: the last ten minutes grow by ~20 %
    readings = [100 * 1.02**m for m in range(30)]
    verdict = levelling(readings)
    assert verdict.levelled is False
    assert verdict.share is not None and 0.15 < verdict.share < 0.25
    assert "still growing" in verdict.text()


def test_the_threshold_is_the_line() -> None:
    assert levelling([100, 100, 105]).levelled is True  # exactly 5 %
    assert levelling([100, 100, 105.1]).levelled is False
    assert levelling([100, 100, 110], threshold=0.10).levelled is True


def test_the_last_third_is_the_last_ceil_n_over_3_minutes() -> None:
    # 5 minutes: minutes 4-5 against 1-3; a peak at minute 3 belongs to "before"
    verdict = levelling([100, 100, 150, 120, 120])
    assert (verdict.earlier_peak, verdict.last_peak, verdict.levelled) == (150, 120, True)
    verdict = levelling([100, 100, 100, 150, 120])
    assert (verdict.earlier_peak, verdict.last_peak, verdict.levelled) == (100, 150, False)


def test_too_few_minutes_or_a_gone_process_cannot_be_judged() -> None:
    assert levelling([100, 200]).levelled is None
    assert levelling([100, None, None, None]).levelled is None  # only one reading
    assert "undetermined" in levelling([]).text()


def test_summary_minutes_are_1_10_30_or_the_last() -> None:
    rows = [{"minute": m} for m in range(1, 6)]
    assert [r["minute"] for r in at_minutes(rows)] == [1, 5]  # 10 and 30 are past the end: the last, once
    rows = [{"minute": m} for m in range(1, 31)]
    assert [r["minute"] for r in at_minutes(rows)] == [1, 10, 30]
    assert [r["minute"] for r in at_minutes([{"minute": 1}])] == [1]
    assert at_minutes([]) == []
