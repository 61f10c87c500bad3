"""``gridflow soak``: the whole pipeline at a steady rate for many minutes, measured once a minute.

Runs what ``gridflow demo`` runs (:mod:`gridflow.launch`: the stack, the
workers, the intake; the simulator posting every network's reports; the
simulated departments and command centre working the cases), and at the
end of every minute prints one row and appends it to a JSON Lines file:
reports posted and accepted so far, the resident memory and the CPU share
over the minute of every process it started (and of Kafka and ClickHouse
when they are the local stack's; the CPU of the soak process itself too),
the machine's load,
the consumer lag of the worker group and of the ClickHouse sink's group,
the latency from a report's 202 to its case's first alert over that minute
(:mod:`gridflow.soak_probes`), and the dead letters written since the
start. At the end: memory at minutes 1, 10 and 30 (or the last), whether
it levelled off (the rule is :mod:`gridflow.soak_metrics`'s, printed with
the verdict), and the accepted reports reconciled with the cases in
ClickHouse, report by report.

Exit status 0 when every accepted report is a case in ClickHouse, every
service lived to the end and no memory was still growing; 1 otherwise.
Whatever happens — the end, Ctrl-C, SIGTERM, an error — the services it
started are stopped (and die with it through their lifeline if it is
SIGKILLed); the stack stays up, as after a demo.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridflow import launch
from gridflow.services import Service
from gridflow.soak_metrics import (
    LEVEL_THRESHOLD,
    at_minutes,
    cpu_percent,
    cpu_seconds,
    latency_summary,
    levelling,
    rss_mib,
)
from gridflow.soak_probes import AlertLatency, Offsets, RecordingTransport
from infra.clickhouse import ServerEngine
from infra.settings import Settings
from infra.stack.clickhouse import ClickHouseServer
from infra.stack.kafka import KafkaServer
from processors.agents.accept import case_id_for
from processors.consumers import sink
from schemas.topics import DEAD_LETTERS, NETWORK_EVENTS_REJECTED, REPORTS_REJECTED

logger = logging.getLogger(__name__)

#: where a record a consumer could not use ends up; the soak counts what is written to them during the run
DEAD_LETTER_TOPICS = (DEAD_LETTERS.name, REPORTS_REJECTED.name, NETWORK_EVENTS_REJECTED.name)
DRAIN_S = 120.0  # after the reports stop, how long the cases may take to reach ClickHouse
#: the simulator's counts the summary keeps (producers/simulate/driver.py says what each means)
SIMULATOR_COUNTS = (
    "reports", "accepted", "repeats", "invalid", "conflicts", "unavailable", "errors", "gave_up", "rate", "accepted_rate",
)  # fmt: skip
SIM_DRAIN_S = 30.0  # the simulator's own wait for answers still in flight, and a margin


def _say(line: str) -> None:
    print(line, flush=True)  # user-facing output


def run_soak(
    settings: Settings,
    *,
    rate: float,
    minutes: int,
    out: Path | None = None,
    workers: int = 2,
    minute_s: float = 60.0,
    threshold: float = LEVEL_THRESHOLD,
    drain_s: float = DRAIN_S,
) -> int:
    """Soak the local pipeline at ``rate`` reports/s for ``minutes`` minutes of ``minute_s`` seconds; return the exit code."""
    if rate <= 0 or minutes < 1 or minute_s <= 0:
        raise ValueError("rate and minute-seconds must be positive, minutes at least 1")
    if launch.ports_taken(settings, workers, _say):
        return 1
    launch.interrupt_on_sigterm()
    settings = launch.prepare(settings, _say)
    out = out or settings.log_dir / f"soak-{datetime.now():%Y%m%d-%H%M%S}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    _say(f"每分钟一行 one row a minute: {out}")
    with launch.running(settings, workers, _say) as children:
        soak = Soak(settings, children, out)
        try:
            _say(f"浸泡测试开始 soak: {rate:g} reports/s for {minutes} × {minute_s:g} s, {workers} workers")
            rows = soak.minutes(rate, minutes, minute_s)
            summary = soak.finish(rows, threshold, drain_s)
        finally:
            soak.close()  # before the services stop: the departments must not play against a stopping intake
    return 0 if summary["ok"] else 1


class Soak:
    """One soak's probes and counts, from the moment its services are ready."""

    def __init__(self, settings: Settings, children: list[Service], out: Path) -> None:
        from district import load_registry
        from producers.simulate.departments import DepartmentPlayers

        self.settings = settings
        self.out = out
        self.started = time.time()
        self.pids = {child.name: child.pid for child in children} | _stack_pids(settings)
        # the soak itself too: the simulator, the simulated departments and the probes run in it
        self.cpu_pids = {**self.pids, "soak": os.getpid()}
        self.cpu_at = (time.monotonic(), self._cpu())
        self.engine = ServerEngine.from_settings(settings)
        self.offsets = Offsets(settings)
        self.dead_at_start = self.offsets.records(DEAD_LETTER_TOPICS)
        self.latency = AlertLatency(settings, since_ms=int(self.started * 1000)).start()
        self.latencies: list[float] = []  # every pair of the run, for the summary
        self.players = DepartmentPlayers(settings, load_registry(), settings.intake_url).start()
        self.stats: dict[str, Any] = {}
        self.stop = threading.Event()
        self.sim: threading.Thread | None = None

    def minutes(self, rate: float, minutes: int, minute_s: float) -> list[dict[str, Any]]:
        """Post at ``rate`` for ``minutes`` × ``minute_s`` s, measuring at the end of each minute; the rows."""
        from producers.simulate import run_simulation

        recorder = RecordingTransport(self.latency.accepted)
        self.sim = threading.Thread(
            target=lambda: self.stats.update(
                run_simulation(
                    self.settings, rate=rate, duration=minutes * minute_s, url=self.settings.intake_url,
                    on_progress=self.stats.update, stop=self.stop, network_formats=True, transport=recorder,
                )
            ),
            name="soak-simulator", daemon=True,
        )  # fmt: skip
        self.sim.start()
        rows: list[dict[str, Any]] = []
        clock = _posting_began(self.stats, self.sim)
        for minute in range(1, minutes + 1):
            time.sleep(max(0.0, clock + minute * minute_s - time.monotonic()))
            rows.append(row := self._row(minute))
            _append(self.out, row)
            _say(_line(row))
        return rows

    def _cpu(self) -> dict[str, float | None]:
        return {name: cpu_seconds(pid) if pid else None for name, pid in self.cpu_pids.items()}

    def _cpu_percent(self) -> dict[str, float | None]:
        """Each process's share of a core since the last row: which one is saturated when the lag grows."""
        (then, before), now, after = self.cpu_at, time.monotonic(), self._cpu()
        self.cpu_at = (now, after)
        return {name: cpu_percent(before.get(name), after[name], now - then) for name in after}

    def _row(self, minute: int) -> dict[str, Any]:
        """One minute's measurements (see the module docstring)."""
        dead = self.offsets.records(DEAD_LETTER_TOPICS)
        samples = self.latency.take()
        self.latencies += samples
        stats = self.stats
        return {
            "kind": "minute",
            "minute": minute,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "elapsed_s": round(time.time() - self.started, 1),
            "posted": int(stats.get("reports", 0)),
            "accepted": int(stats.get("accepted", 0)),
            "in_flight": int(stats.get("in_flight", 0)),
            "unavailable": int(stats.get("unavailable", 0)),
            "refused": int(stats.get("invalid", 0)) + int(stats.get("conflicts", 0)),  # 4xx answers (a repeat too)
            "rss_mib": {name: rss_mib(pid) if pid else None for name, pid in self.pids.items()},
            "cpu_pct": self._cpu_percent(),
            "load": round(os.getloadavg()[0], 2),
            "lag": {"worker": self.offsets.lag(self.settings.worker_id), "sink": self.offsets.lag(sink.group_id(self.settings))},
            "latency": latency_summary(samples),
            "alerted": self.latency.paired,
            "dead_letters": None if dead is None or self.dead_at_start is None else dead - self.dead_at_start,
        }

    def finish(self, rows: list[dict[str, Any]], threshold: float, drain_s: float) -> dict[str, Any]:
        """After the last minute: let the pipeline drain, reconcile, write and print the summary."""
        _say("报告已停止，等待流水线处理完毕 … (draining)")
        if self.sim is not None:
            self.sim.join(SIM_DRAIN_S)
        reconciled = _reconcile(self.engine, self.settings, self.latency.accepted_reports, self.started, drain_s)
        self.latencies += self.latency.take()  # the cases alerted while draining count for the whole run
        summary = _summary(rows, self.pids, threshold, reconciled, self.stats)
        summary["latency"] = latency_summary(self.latencies)
        _append(self.out, summary)
        _say(_summary_text(summary, threshold))
        _say(f"模拟办理 actions taken: {self.players.summary()}")
        return summary

    def close(self) -> None:
        """Stop the simulator, the departments and the probes (not the services: :func:`launch.running` does)."""
        self.stop.set()
        self.players.stop()
        self.latency.stop()
        self.offsets.close()
        self.engine.close()


def _posting_began(stats: dict[str, Any], sim: threading.Thread) -> float:
    """When (``time.monotonic()``) the simulator sent its first report: minutes count from there, not from its set-up.

    The simulator makes its accounts first (a few seconds); its first
    progress report says how long it has been posting.
    """
    while "elapsed" not in stats and sim.is_alive():
        time.sleep(0.1)
    return time.monotonic() - float(stats.get("elapsed", 0.0))


def _stack_pids(settings: Settings) -> dict[str, int | None]:
    """Kafka's JVM and the ClickHouse server, when they are the local stack's (an external one is not ours to read)."""
    pids: dict[str, int | None] = {}
    if settings.uses_local_kafka:
        pids["kafka"] = KafkaServer(settings).pid()
    if settings.uses_local_clickhouse:
        pids["clickhouse"] = ClickHouseServer(settings).pid()
    return pids


def _append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _line(row: dict[str, Any]) -> str:
    memory = " ".join(f"{name} {_n(mib, '.0f')}" for name, mib in row["rss_mib"].items())
    cpu = " ".join(f"{name} {_n(pct, '.0f')}" for name, pct in row.get("cpu_pct", {}).items())
    lat, lag = row["latency"], row["lag"]
    return (
        f"[第 {row['minute']} 分钟 minute] 已发 posted {row['posted']} 受理 accepted {row['accepted']} "
        f"(在途 in flight {row['in_flight']}, 拒收 refused {row['refused']}) | 内存 RSS MiB: {memory} | "
        f"CPU % {cpu} (load {_n(row.get('load'), '.1f')}) | "
        f"积压 lag worker {_n(lag['worker'])} sink {_n(lag['sink'])} | "
        f"202→通知 latency ms p50 {_n(lat['p50_ms'], '.0f')} p99 {_n(lat['p99_ms'], '.0f')} "
        f"max {_n(lat['max_ms'], '.0f')} (n={lat['count']}) | 死信 dead letters {_n(row['dead_letters'])}"
    )


def _n(value: float | None, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def _reconcile(engine: ServerEngine, settings: Settings, accepted: set[str], started: float, drain_s: float) -> dict[str, Any]:
    """Every accepted report's case in ClickHouse (deduplicated read)? Waits up to ``drain_s`` for the sink."""
    wanted = {str(case_id_for(uuid.UUID(report_id))) for report_id in set(accepted)}
    deadline = time.monotonic() + drain_s
    found: set[str] = set()
    while True:
        try:
            rows = engine.execute(
                f"SELECT toString(case_id) FROM {settings.clickhouse_database}.cases FINAL "
                f"WHERE received_at >= toDateTime({int(started) - 60}, 'UTC')"
            )
            found = {row[0] for row in rows} & wanted
        except Exception as exc:  # noqa: BLE001 - ClickHouse away for a moment: the next try may see it
            logger.warning("counting the cases in ClickHouse: %s", exc)
        if found == wanted or time.monotonic() > deadline:
            break
        time.sleep(2)
    return {"accepted": len(wanted), "clickhouse_cases": len(found), "missing": len(wanted - found)}


def _summary(
    rows: list[dict[str, Any]], pids: dict[str, int | None], threshold: float, reconciled: dict[str, Any],
    stats: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    verdicts = {name: levelling([row["rss_mib"].get(name) for row in rows], threshold) for name in pids}
    died = sorted(name for name in pids if rows and rows[-1]["rss_mib"].get(name) is None)
    ok = reconciled["missing"] == 0 and not died and all(v.levelled is not False for v in verdicts.values())
    return {
        "kind": "summary",
        "minutes": len(rows),
        "memory_mib": {str(row["minute"]): row["rss_mib"] for row in at_minutes(rows)},
        "levelled_off": {
            name: {"levelled": v.levelled, "growth_mib": v.growth, "earlier_peak_mib": v.earlier_peak,
                   "last_peak_mib": v.last_peak, "verdict": v.text()}
            for name, v in verdicts.items()
        },
        "level_threshold": threshold,
        "not_running": died,
        "reconciled": reconciled,
        "simulator": {k: stats.get(k) for k in SIMULATOR_COUNTS},
        "ok": ok,
    }


def _summary_text(summary: dict[str, Any], threshold: float) -> str:
    memory = summary["memory_mib"]
    names = list(summary["levelled_off"])
    head = "  进程 process    " + "".join(f"第 {m} 分钟 min".rjust(14) for m in memory) + "   平稳? levelled off"
    lines = ["", f"汇总 summary ({summary['minutes']} minutes)", "  内存 RSS MiB", head]
    for name in names:
        cells = "".join(_n(memory[m].get(name), ".1f").rjust(14) for m in memory)
        lines.append(f"  {name:15s}{cells}   {summary['levelled_off'][name]['verdict']}")
    lines.append(
        f"  平稳的判定 rule: the peak of the last third of the minutes is at most {threshold:.0%} above the peak "
        "of the minutes before it (3 minutes at least)"
    )
    if summary["not_running"]:
        lines.append(f"  已退出 not running at the end: {', '.join(summary['not_running'])}")
    lat = summary.get("latency") or latency_summary([])
    lines.append(
        f"  202→通知 latency, whole run: p50 {_n(lat['p50_ms'], '.0f')} ms, p99 {_n(lat['p99_ms'], '.0f')} ms, "
        f"max {_n(lat['max_ms'], '.0f')} ms over {lat['count']} cases"
    )
    r = summary["reconciled"]
    agree = "一致 agree" if r["missing"] == 0 else "不一致 DISAGREE"
    lines.append(
        f"  核对 reconciled: {agree}: accepted {r['accepted']} reports, cases in ClickHouse {r['clickhouse_cases']} "
        f"(missing {r['missing']})"
    )
    return "\n".join(lines)

