"""``gridflow soak`` for one short minute on the test stack: rows written, measurements real, nothing left running.

The soak runs as ``python -m gridflow soak`` with its own home, topics,
database and ports, the test stack named as external servers (so it starts
and stops none of its own, and measures no server's memory but its own
services'). A "minute" is 15 s (``--minute-seconds``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from harness import started_by

from infra.settings import Settings
from infra.stack.processes import pid_alive, port_open, wait_for

# A soak, even a short one, is of the slow kind (issue 12: dependency outages, soak, the 1M restart).
pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_a_one_minute_soak_writes_its_rows_and_leaves_nothing_running(
    pipeline_settings: Settings, stack: Settings, tmp_path: Path
) -> None:
    settings = pipeline_settings.replace(kafka_bootstrap=stack.bootstrap, clickhouse_url=stack.clickhouse)
    out = tmp_path / "soak.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "gridflow", "soak", "--rate", "10", "--minutes", "1", "--minute-seconds", "15",
         "--workers", "1", "--out", str(out)],
        cwd=REPO, env={**os.environ, **settings.to_env()}, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr[-4000:]
    assert run.returncode == 0, output

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    rows = [line for line in lines if line["kind"] == "minute"]
    [summary] = [line for line in lines if line["kind"] == "summary"]
    assert [row["minute"] for row in rows] == [1]
    row = rows[0]
    # 15 s at 10/s: ~150 posted; accepted or refused (a 4xx: a test of the simulator's bodies, not of the soak)
    assert 100 <= row["posted"] <= 200 and row["accepted"] >= 30, row
    assert row["accepted"] <= row["posted"], row  # (refused counts answers: a refused repeat is one more)
    assert set(row["rss_mib"]) == {"worker-0", "intake"}, row  # external servers are not the soak's to read
    assert all(mib is not None and mib > 20 for mib in row["rss_mib"].values()), row  # a Python service is tens of MiB
    assert set(row["cpu_pct"]) == {"worker-0", "intake", "soak"}, row
    assert all(pct is not None and 0 < pct < 100 * (os.cpu_count() or 1) for pct in row["cpu_pct"].values()), row
    assert row["lag"]["worker"] is not None and row["lag"]["worker"] >= 0, row
    assert row["lag"]["sink"] is not None and row["lag"]["sink"] >= 0, row
    latency = row["latency"]
    assert latency["count"] > 50, row  # most of the minute's reports reached an alert within it
    assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"] < 15_000, row
    assert row["dead_letters"] == 0, row

    reconciled = summary["reconciled"]
    assert reconciled["missing"] == 0 and reconciled["clickhouse_cases"] == reconciled["accepted"] >= 30, summary
    assert summary["latency"]["count"] >= latency["count"], summary
    assert summary["levelled_off"]["intake"]["levelled"] is None  # one minute cannot tell
    assert "第 1 分钟 minute" in run.stdout and "核对 reconciled: 一致 agree" in run.stdout, output

    # Everything it started is gone: the pids it printed, anything with its home, the intake's port.
    printed = {name: int(pid) for name, pid in re.findall(r"([\w-]+) pid (\d+)", run.stdout)}
    assert set(printed) == {"worker-0", "intake"}, run.stdout
    assert wait_for(lambda: not any(map(pid_alive, printed.values())) and not started_by(settings.home), 10)
    assert not port_open(settings.intake_host, settings.intake_port)
