"""``gridflow demo``: the whole pipeline on this machine, fed by the simulator.

Starts the stack (Kafka, ClickHouse), the workers and the intake as child
processes, runs the district simulator against the intake, and prints a live
line: reports accepted (the intake's 202s), cases dispatched or sent to
triage (read from the case-events topic, i.e. the workers' own output) and cases in ClickHouse
(a deduplicated read). At the end it waits for the three to agree.

However the demo ends, its intake and workers end with it: stopped in order
on Ctrl-C or SIGTERM, and through their lifeline (:mod:`infra.lifeline`)
within 10 s of a SIGKILL of the demo's pid or group. Kafka and ClickHouse
stay up, as after a normal end: ``gridflow stack up`` is the long-lived,
shared part (the next demo, ``gridflow intake`` by hand and
``gridflow report`` use it, and its topics and tables are the record the
demo's cases are read from), stopped only by ``gridflow stack down``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from accounts.directory import add_account
from gridflow import launch
from infra.clickhouse import ServerEngine
from infra.settings import Settings
from infra.tail import TopicTail
from schemas.case_event import CaseEvent
from schemas.report import AcceptedReport
from schemas.topics import CASE_EVENTS, REPORTS
from schemas.vocabulary import CaseEventType, Role

logger = logging.getLogger(__name__)


class DistinctCounter:
    """Distinct ids on a topic since a time: what Kafka itself says happened."""

    def __init__(self, settings: Settings, topic: str, since_ms: int, id_of: Callable[[bytes], str | None]) -> None:
        self.ids: set[str] = set()
        self.id_of = id_of
        self.tail = TopicTail(settings, settings.topic(topic), self._on, since_ms=since_ms)

    def _on(self, _key: bytes | None, value: bytes | None, _ts: int) -> None:
        if value:
            found = self.id_of(value)
            if found is not None:
                self.ids.add(found)

    def __len__(self) -> int:
        return len(self.ids)


def _routed_case(raw: bytes) -> str | None:
    """A case that left acceptance: dispatched to a department, or sent to triage (人工分拨)."""
    event = CaseEvent.model_validate_json(raw)
    return str(event.case_id) if event.type in (CaseEventType.DISPATCHED, CaseEventType.TRIAGED) else None


def _triaged_case(raw: bytes) -> str | None:
    event = CaseEvent.model_validate_json(raw)
    return str(event.case_id) if event.type is CaseEventType.TRIAGED else None


def _merged_case(raw: bytes) -> str | None:
    """A report found to be one more of an open case (一事多报): its own case, merged on opening."""
    event = CaseEvent.model_validate_json(raw)
    automatic = event.type is CaseEventType.MERGED and event.payload.get("automatic")
    return str(event.case_id) if automatic else None


def _accepted_report(raw: bytes) -> str | None:
    return str(AcceptedReport.model_validate_json(raw).report_id)


def _clickhouse_cases(engine: ServerEngine, settings: Settings, since: float) -> int:
    rows = engine.execute(
        f"SELECT count() FROM {settings.clickhouse_database}.cases FINAL "
        f"WHERE received_at >= toDateTime({int(since)}, 'UTC')"
    )
    return int(rows[0][0])


def run_demo(settings: Settings, rate: float, duration: float, workers: int, work_for: float = 120.0) -> int:
    """Run until ``duration`` seconds pass (0: until Ctrl-C); return the exit code."""
    from district import load_registry
    from producers.simulate import run_simulation
    from producers.simulate.departments import DepartmentPlayers

    say = lambda line: print(line, flush=True)  # noqa: E731 - user-facing output
    if launch.ports_taken(settings, workers, say):
        return 1
    # SIGTERM ends the demo like Ctrl-C does, so its children are stopped too.
    launch.interrupt_on_sigterm()
    settings = launch.prepare(settings, say)  # the demo's minute SLAs, the stack, topics, tables
    engine = ServerEngine.from_settings(settings)

    children = launch.start_services(settings, workers, say)
    started = time.time()
    try:
        launch.wait_ready(settings, workers)
        token = add_account(settings, "demo-cc", Role.COMMAND_CENTRE)
        token_file = settings.home / "demo-token.txt"
        write_secret(token_file, token + "\n")
        intake_url = settings.intake_url
        say("")
        say("gridflow 演示已启动 — where to look:")
        say(f"  接口 intake:        {intake_url}/docs  (OpenAPI: {intake_url}/openapi.json)")
        say(f"  指挥中心令牌 token:  {token_file}  (curl -H \"Authorization: Bearer $(cat {token_file})\" {intake_url}/api/v1/reports/<report_id>)")
        say(f"  日志 logs:          {settings.log_dir}")
        say(f"  ClickHouse:         clickhouse-client --port {settings.clickhouse_port} -q 'SELECT state, count() FROM {settings.clickhouse_database}.cases FINAL GROUP BY state'")
        say("  Grafana:            docker compose up (dashboards/); not installable on this machine")
        say("  停止 stop:           Ctrl-C, then `gridflow stack down`")
        say("")

        since = int(started * 1000)
        accepted = DistinctCounter(settings, REPORTS.name, since, _accepted_report)
        dispatched = DistinctCounter(settings, CASE_EVENTS.name, since, _routed_case)
        triaged = DistinctCounter(settings, CASE_EVENTS.name, since, _triaged_case)
        merged = DistinctCounter(settings, CASE_EVENTS.name, since, _merged_case)
        counters = (accepted, dispatched, triaged, merged)
        for counter in counters:
            counter.tail.start()
        stop = threading.Event()
        stats: dict[str, Any] = {}

        def progress(s: dict[str, Any]) -> None:
            stats.update(s)

        sim = threading.Thread(
            target=lambda: stats.update(
                run_simulation(
                    settings, rate=rate, duration=duration, url=intake_url, on_progress=progress, stop=stop,
                    network_formats=True,
                )
            ),
            daemon=True,
        )
        players = DepartmentPlayers(settings, load_registry(), intake_url).start()
        say("模拟部门与指挥中心已上岗 — simulated departments and command centre are working the cases")
        sim.start()
        try:
            while sim.is_alive():
                time.sleep(2)
                say(_line(stats, len(accepted), len(dispatched), len(triaged), len(merged),
                          _safe_count(engine, settings, started)))  # fmt: skip
        except KeyboardInterrupt:
            stop.set()
            sim.join(30)
        say("模拟结束，等待流水线处理完毕 … (draining)")
        deadline = time.monotonic() + 120

        def settled() -> int:
            # every accepted report is a case: routed (dispatched or in triage), or merged into an open one
            return len(dispatched.ids | merged.ids)

        ch = _safe_count(engine, settings, started)
        while time.monotonic() < deadline and not (len(accepted) == settled() == ch):
            time.sleep(1)
            ch = _safe_count(engine, settings, started)
        say(_line(stats, len(accepted), len(dispatched), len(triaged), len(merged), ch))
        agree = len(accepted) == settled() == ch
        elapsed = max(float(stats.get("elapsed", 0)), 1e-9)
        say(
            f"{'一致 agree' if agree else '不一致 DISAGREE'}: accepted (Kafka)={len(accepted)} "
            f"dispatched or merged={settled()} clickhouse={ch}; simulator got {stats.get('accepted', 0)} 202s, "
            f"{stats.get('accepted', 0) / elapsed:.1f} accepted/s over {elapsed:.0f} s"
        )
        say(_per_network(engine, settings, started))
        for counter in counters:
            counter.tail.stop()
        if work_for > 0:
            say(f"各部门继续办理 {work_for:.0f} 秒 … (departments keep working)")
            _sleep_unless_interrupted(work_for)
        players.stop()
        say(f"模拟办理 actions taken: {players.summary()}")
        say(_report(engine, settings, started))
        return 0 if agree else 1
    finally:
        launch.stop_services(children)
        engine.close()


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only (0600) from its first byte.

    The file is made anew with that mode (``os.open``, not a chmod after
    writing) and moved over ``path``, so an older, wider file of that name
    is replaced, never reused, and a reader sees the old file or the new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)  # a leftover of a crash; O_EXCL below makes the file ours
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sleep_unless_interrupted(seconds: float) -> None:
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass


def _report(engine: ServerEngine, settings: Settings, started: float) -> str:
    """`gridflow report --by department` over the demo's cases, as of now (after the sink caught up)."""
    from datetime import datetime, timedelta, timezone

    from analytics.indicators import case_rows, indicators
    from analytics.report import render, title_for
    from analytics.targets import load_targets

    time.sleep(settings.sink_batch_seconds + 2)  # the last versions reach ClickHouse
    now = datetime.now(timezone.utc)
    since = datetime.fromtimestamp(started, timezone.utc) - timedelta(minutes=1)
    rows = indicators(case_rows(engine, settings.clickhouse_database, now, since, now), "department", now)
    return render(rows, "table", title=title_for("department", since, now, now), targets=load_targets())


def _safe_count(engine: ServerEngine, settings: Settings, since: float) -> int:
    try:
        return _clickhouse_cases(engine, settings, since)
    except Exception:  # ClickHouse restarting: show the last known figure as -1
        return -1


def _per_network(engine: ServerEngine, settings: Settings, started: float) -> str:
    """Per source network: reports, merged into another case, sent to triage for a code its table lacks."""
    try:
        rows = engine.execute(
            f"SELECT source, count(), countIf(state = 'merged'), countIf(isNotNull(mapping_note)) "
            f"FROM {settings.clickhouse_database}.cases FINAL WHERE received_at >= toDateTime({int(started)}, 'UTC') "
            "GROUP BY source ORDER BY source"
        )
    except Exception as exc:  # ClickHouse unreachable at the very end: say so, the rest of the summary stands
        return f"各网络 per network: ClickHouse 暂不可用 ({exc})"
    lines = ["各网络 per network          受理 reports   合并 merged   未知编码 unmapped"]
    lines += [f"  {source:24s} {int(n):8d} {int(m):12d} {int(u):14d}" for source, n, m, u in rows]
    return "\n".join(lines)


def _line(stats: dict[str, Any], accepted: int, dispatched: int, triaged: int, merged: int, clickhouse: int) -> str:
    return (
        f"[{stats.get('elapsed', 0):6.0f}s] 已受理 accepted {accepted:6d} | "
        f"已派遣 dispatched {dispatched:6d} (其中待人工分拨 triage {triaged}) | 一事多报 merged {merged:5d} | "
        f"ClickHouse 案件 {clickhouse:6d} | "
        f"重复 repeats {stats.get('repeats', 0)} | 503 {stats.get('unavailable', 0)}"
    )
