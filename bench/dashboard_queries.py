"""Query time of every dashboard panel on a million seeded cases, on chdb and on Debian's ClickHouse 18.16.

Seeds ``--cases`` cases (default 1,000,000) received over the year before
now into a fresh ``cases`` table on each engine, with the same SQL (so the
same rows): every town, grid, category, severity and department, states by
age (recent cases open, most old ones closed), late signs and resolves,
returns, reopens, suspensions, 5% closed on the spot; and an older version
of 30% of the cases that ``FINAL`` must set aside, as the sink leaves them
before ClickHouse merges.

Then runs each panel's query as Grafana would send it (template variables
at their defaults, the plugin's macros expanded) over the dashboard's own
time range and over a whole year, and prints the median of ``--runs`` runs
per panel and the slowest panel of each dashboard; and the two alert rules'
queries, which Grafana runs every minute.

The server is the project's local stack (``gridflow stack up``; started
here if it is not running) or ``CLICKHOUSE_URL``.
Usage: ``python bench/dashboard_queries.py [--cases N] [--runs N] [--only chdb|server]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from dashboards import alerts  # noqa: E402
from dashboards.grafana_objects import dashboards  # noqa: E402
from dashboards.panel_sql import TimeRange, defaults, queries, rendered  # noqa: E402
from district import load_registry  # noqa: E402
from infra.clickhouse import EmbeddedEngine, ServerEngine  # noqa: E402
from infra.settings import Settings  # noqa: E402
from routing import load_taxonomy  # noqa: E402
from schemas import migrate  # noqa: E402

DATABASE = "bench_dashboards"
YEAR = 365 * 86400
#: (severity, sign limit s, resolve limit s): DESIGN's SLA, the working clocks of P3/P4 as wall time
SLA = (("P1", 900, 14400), ("P2", 7200, 86400), ("P3", 86400, 7 * 86400), ("P4", 3 * 86400, 21 * 86400))


def _array(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def seed_sql(database: str, cases: int, now: int, older: bool) -> str:
    """INSERT … SELECT FROM numbers(): deterministic (cityHash64 of the row number), 18.16 and chdb alike.

    ``older``: the earlier version (seq 1, just dispatched) of every third-ish case instead of the latest.
    """
    registry, taxonomy = load_registry(), load_taxonomy()
    grids = _array([g.grid_id for g in registry.grids])
    departments = _array([d.code for d in registry.departments])
    categories = _array(list(taxonomy.categories))
    severities = _array([s for s, _, _ in SLA])
    sign_limits = "[" + ", ".join(str(s) for _, s, _ in SLA) + "]"
    resolve_limits = "[" + ", ".join(str(r) for _, _, r in SLA) + "]"
    h = lambda k: f"cityHash64(number, {k})"  # noqa: E731
    at = lambda seconds: f"toDateTime({seconds}, 'UTC')"  # noqa: E731
    uuid = lambda k: (  # noqa: E731
        # reinterpretAsString drops trailing zero bytes: pad, then cut to 16
        f"toUUID(UUIDNumToString(toFixedString(substring(concat(reinterpretAsString({h(k)}), "
        f"reinterpretAsString({h(k + 100)}), '12345678'), 1, 16), 16)))"
    )
    return f"""INSERT INTO {database}.cases
    (case_id, case_no, seq, report_id, source, town, grid_id, category, severity, title, description, reporter_id,
     reporter_phone_masked, state, lead_department, received_at, accepted_at, dispatched_at, updated_at,
     returned_by, sign_deadline, resolve_deadline, signed_at, first_resolved_at, resolved_at, closed_at,
     reopen_count, suspended_at, on_the_spot, sign_seconds, resolve_seconds)
SELECT case_id, case_no, seq, report_id, source, substring(grid, 1, 2), grid, category, severity, '示例案件', '',
    'wgy', '138****5678', state, if(on_spot, NULL, lead), {at('received')}, {at('received + 30')},
    if(on_spot, NULL, {at('dispatched')}), {at('updated')},
    if(returned, [returner], emptyArrayString()),
    if(on_spot, NULL, {at('dispatched + sign_limit')}), if(on_spot, NULL, {at('dispatched + resolve_limit')}),
    if(state IN ('signed', 'resolved', 'closed'), {at('signed')}, NULL),
    if(state IN ('resolved', 'closed'), {at('resolved')}, NULL),
    if(state IN ('resolved', 'closed'), {at('resolved')}, NULL),
    if(state = 'closed', {at('resolved + 3600')}, NULL),
    toUInt64(reopened), if(suspended, {at('dispatched + 600')}, NULL), toUInt8(on_spot),
    if(state IN ('signed', 'resolved', 'closed'), toUInt64(signed - dispatched), NULL),
    if(state IN ('resolved', 'closed'), toUInt64(resolved - dispatched), NULL)
FROM
(
    SELECT
        {uuid(1)} AS case_id, concat('BENCH-', toString(number)) AS case_no, {uuid(2)} AS report_id,
        arrayElement(['grid_app', 'grid_app', 'grid_app', 'hotline_12345', 'petition'], 1 + {h(3)} % 5) AS source,
        arrayElement({grids}, 1 + {h(4)} % length({grids})) AS grid,
        arrayElement({categories}, 1 + {h(5)} % length({categories})) AS category,
        1 + {h(6)} % 7 AS sev_pick,
        arrayElement({severities}, if(sev_pick = 1, 1, if(sev_pick <= 3, 2, if(sev_pick <= 6, 3, 4)))) AS severity,
        arrayElement({sign_limits}, indexOf({severities}, severity)) AS sign_limit,
        arrayElement({resolve_limits}, indexOf({severities}, severity)) AS resolve_limit,
        arrayElement({departments}, 1 + {h(7)} % length({departments})) AS lead,
        {now} - {h(8)} % {YEAR} AS received,
        received + 60 + {h(9)} % 600 AS dispatched,
        {h(10)} % 20 = 0 AS on_spot,
        {h(12)} % 25 = 0 AS returned,
        arrayElement({departments}, 1 + {h(11)} % length({departments})) AS returner,
        {h(13)} % 12 = 0 AS reopened,
        dispatched + {h(14)} % (2 * sign_limit) AS signed,
        signed + {h(15)} % toUInt64(1.5 * resolve_limit) AS resolved,
        on_spot OR (resolved + 3600 < {now} AND {h(16)} % 10 < 9) AS is_closed,
        {h(17)} % 100 = 0 AS to_triage,
        {h(18)} % 3 = 0 AS has_older,
        {'1' if older else '2'} AS seq,
        multiIf({'1' if older else '0'}, 'dispatched', is_closed, 'closed', to_triage AND NOT on_spot, 'triage',
                resolved <= {now}, 'resolved', signed <= {now}, 'signed', 'dispatched') AS state,
        state IN ('dispatched', 'signed') AND {h(19)} % 50 = 0 AS suspended,
        {'dispatched' if older else 'least(' + str(now) + ', if(is_closed, resolved + 3600, resolved))'} AS updated
    FROM numbers({cases})
    WHERE {'has_older' if older else '1'}
)"""


def seed(engine: Any, database: str, cases: int, now: int) -> float:
    """Fresh tables with the seeded cases; returns the seconds it took."""
    started = time.perf_counter()
    engine.execute(f"DROP DATABASE IF EXISTS {database}")
    migrate.apply(engine, database)
    engine.execute(seed_sql(database, cases, now, older=True))  # older versions first, as they arrive
    engine.execute(seed_sql(database, cases, now, older=False))
    return time.perf_counter() - started


def _window(board: dict[str, Any], end: datetime, span: timedelta | None) -> TimeRange:
    """The dashboard's default range (``now-24h``, ``now-30d``) or ``span``, at Grafana's interval for ~1000 points."""
    if span is None:
        text = board["time"]["from"].removeprefix("now-")
        span = timedelta(hours=int(text[:-1])) if text.endswith("h") else timedelta(days=int(text[:-1]))
    return TimeRange(end - span, end, max(1000, int(span.total_seconds() * 1000) // 1000))


def time_panels(engine: Any, database: str, runs: int, span: timedelta | None) -> dict[tuple[str, str], float]:
    """Median milliseconds of each panel's query over its dashboard's range (or ``span``)."""
    end = datetime.now(timezone.utc)
    out = {}
    for board in dashboards():
        values = {**defaults(board), "database": database}
        for query in queries(board):
            sql = rendered(query, values, _window(board, end, span))
            out[(query.dashboard, query.panel)] = _median_ms(engine, sql, runs)
    settings = alerts.load_alert_settings()
    for title, sql in (("SLA 超时率过高", alerts.breach_rate_sql(database)),
                       ("受理中断", alerts.intake_stall_sql(settings, database))):
        out[("alert rules", title)] = _median_ms(engine, sql, runs)  # every minute, whatever the dashboards show
    return out


def _median_ms(engine: Any, sql: str, runs: int) -> float:
    engine.execute(sql)  # warm: the first run reads from disk
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.execute(sql)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _server() -> ServerEngine:
    settings = Settings.from_env()
    if settings.uses_local_clickhouse:
        from infra import stack

        stack.up(settings, progress=lambda line: print(line, file=sys.stderr))
    return ServerEngine.from_settings(settings)


def main(argv: list[str] | None = None) -> None:
    """Seed, time, print a table per engine and time range."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["chdb", "server"])
    args = parser.parse_args(argv)
    now = int(time.time())
    results: dict[str, dict[str, dict[tuple[str, str], float]]] = {}
    engines = [name for name in ("chdb", "server") if args.only in (None, name)]
    for name in engines:
        folder = tempfile.TemporaryDirectory(prefix="bench-chdb-") if name == "chdb" else None
        engine: Any = EmbeddedEngine(folder.name) if folder else _server()
        try:
            seconds = seed(engine, DATABASE, args.cases, now)
            (version,) = engine.execute("SELECT version()")[0]
            (rows,) = engine.execute(f"SELECT count() FROM {DATABASE}.cases FINAL")[0]
            print(f"{name} (ClickHouse {version}): seeded {int(rows):,} cases in {seconds:.1f} s", flush=True)
            results[name] = {
                "default": time_panels(engine, DATABASE, args.runs, None),
                "year": time_panels(engine, DATABASE, args.runs, timedelta(days=365)),
            }
            if name == "server":
                engine.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        finally:
            engine.close()
            if folder:
                folder.cleanup()
    _print(results)


def _print(results: dict[str, dict[str, dict[tuple[str, str], float]]]) -> None:
    columns = [(engine, span) for engine in results for span in ("default", "year")]
    keys = list(next(iter(next(iter(results.values())).values())))
    header = "| dashboard | panel | " + " | ".join(f"{e} {s} range (ms)" for e, s in columns) + " |"
    print("\n" + header + "\n|" + " --- |" * (2 + len(columns)))
    for key in keys:
        print(f"| {key[0]} | {key[1]} | " + " | ".join(f"{results[e][s][key]:.0f}" for e, s in columns) + " |")
    print("\nslowest panel per dashboard:")
    for board in dict.fromkeys(k[0] for k in keys):
        for e, s in columns:
            panel, ms = max(((k[1], v) for k, v in results[e][s].items() if k[0] == board), key=lambda kv: kv[1])
            print(f"  {board} [{e}, {s} range]: {panel} {ms:.0f} ms")


if __name__ == "__main__":
    main()
