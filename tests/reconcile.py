"""The reconciliation every fault test ends with: what was accepted is exactly what the pipeline holds.

After a fault (a process killed, a server stopped) the pipeline must, by
itself, end where it would have ended without it. :func:`reconcile` waits
(bounded) until it has, then asserts it in detail:

* every accepted report is exactly one case in the workers' state
  (``GET /api/v1/reports/{id}`` as the command centre: its own case, not
  merged, in one of the expected states), with distinct case ids and numbers;
* deduplicated ClickHouse reads (``cases FINAL``, ``reports FINAL``) hold
  exactly the accepted reports — as many rows as accepted, none extra, none
  twice — each on the case the workers hold it on;
* every case's history is whole and in order: ``case_events FINAL`` has
  seq 1..n, no gap, n the case's seq, times never going back; for a sample,
  the workers' ``GET /api/v1/cases/{id}`` has the same seq and the same
  (seq, type) list;
* no dead letters: an outage is not a bad record.

Waiting is what a fault test measures: the summary says how long the
pipeline took to reconcile, counted from the moment the fault ended.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from harness import Pipeline

from district import load_registry
from producers.dead_letters import read_letters

#: a report is a case once it is dispatched to a department or waits in triage (vague texts)
CASE_STATES = frozenset({"dispatched", "triage"})
#: cases whose workers' history is compared with ClickHouse's, per reconciliation
HISTORY_SAMPLE = 40


def distinct_places(rng: random.Random, count: int) -> list[tuple[Any, float, float]]:
    """(grid, lat, lon) of ``count`` points 500 m apart or more: distinct incidents, which no merge joins."""
    registry = load_registry()
    step = 0.005  # about 500 m of latitude, 510 m of longitude here
    places = []
    for i in range(int((22.85 - 22.60) / step)):
        for j in range(int((108.50 - 108.20) / step)):
            lat, lon = 22.60 + (i + 0.5) * step, 108.20 + (j + 0.5) * step
            grid = registry.locate(lat, lon)
            if grid is not None:
                places.append((grid, lat, lon))
    assert len(places) >= count, f"only {len(places)} distinct places in the district, {count} asked"
    return rng.sample(places, count)


class ReconciliationFailed(AssertionError):
    """The pipeline did not reconcile; ``figures`` holds what was counted (for the test's artifact)."""

    def __init__(self, message: str, figures: dict[str, Any]) -> None:
        super().__init__(message)
        self.figures = figures


def reconcile(
    pipeline: Pipeline,
    accepted: Collection[str],
    *,
    sent: int,
    fault_ended_at: float | None = None,
    timeout: float = 240.0,
    states: Collection[str] = CASE_STATES,
) -> dict[str, Any]:
    """Wait until ``accepted`` (report ids that got their 202) reconcile, assert it, return the figures.

    ``sent``: how many distinct reports the clients tried to send.
    ``fault_ended_at``: ``time.monotonic()`` when the fault ended (the
    process restarted, the server back); the recovery time is counted from
    it (else from this call). Raises :class:`ReconciliationFailed` (an
    AssertionError) with the figures counted so far.
    """
    started = time.monotonic()
    since = fault_ended_at if fault_ended_at is not None else started
    ids = set(accepted)
    figures: dict[str, Any] = {"reports_sent": sent, "accepted": len(ids)}
    try:
        assert len(ids) == len(accepted), "an accepted report id was given twice"
        _reconcile(pipeline, ids, set(states), figures, started, since, timeout)
    except AssertionError as exc:
        raise ReconciliationFailed(str(exc), figures) from exc
    return figures


def _reconcile(
    pipeline: Pipeline,
    ids: set[str],
    states: set[str],
    figures: dict[str, Any],
    started: float,
    since: float,
    timeout: float,
) -> None:
    """Wait, count (into ``figures``), then assert; counting comes first so a failure still has its figures."""
    db = pipeline.settings.clickhouse_database
    with pipeline.client("centre") as centre:
        cases, last = _wait_for_cases(centre, ids, states, started + timeout)
        workers_done = time.monotonic()
        caught_up = not (ids - set(cases)) and _wait_for_clickhouse(pipeline, db, len(ids), started + timeout)
        done = time.monotonic()
        figures["cases_in_worker_state"] = len(cases)
        figures["case_numbers_given_twice"] = len(cases) - len({c["case_no"] for c in cases.values()})
        engine = pipeline.clickhouse()
        try:
            counts = {t: engine.execute(f"SELECT count() FROM {db}.{t} FINAL")[0][0] for t in _KEYS}
            figures["cases_in_clickhouse_final"] = counts["cases"]
            figures["reports_in_clickhouse_final"] = counts["reports"]
            figures["case_events_in_clickhouse_final"] = counts["case_events"]
            figures["duplicates_collapsed_by_final"] = _raw_duplicates(engine, db)
            letters = read_letters(pipeline.settings)
            figures["dead_letters"] = len(letters)
            figures["states"] = dict(sorted(Counter(c["state"] for c in cases.values()).items()))
            figures["seconds_to_recover"] = round(done - since, 1) if caught_up else None
            # of which: until the workers held every case (ClickHouse may have been complete before)
            figures["seconds_until_workers_held_every_case"] = round(workers_done - since, 1) if caught_up else None
            figures["seconds_reconciling"] = round(done - started, 1)

            missing = sorted(ids - set(cases))
            assert not missing, (
                f"{len(missing)} of {len(ids)} accepted reports have no case in the workers' state after "
                f"{timeout:.0f} s: " + "; ".join(f"{rid}: {last.get(rid)}" for rid in missing[:10])
            )
            assert caught_up, f"ClickHouse did not catch up in {timeout:.0f} s: {counts} (FINAL), {len(ids)} accepted"
            _check_workers(cases, ids)
            ch_cases = _check_clickhouse_cases(engine, db, ids, cases, states)
            events = _check_event_histories(engine, db, ch_cases)
            sample = sorted(ch_cases)
            random.Random(len(ids)).shuffle(sample)
            figures["histories_compared_with_workers"] = _check_worker_histories(
                centre, sample[:HISTORY_SAMPLE], ch_cases, events
            )
        finally:
            engine.close()
    assert not letters, f"{len(letters)} dead letters after a fault (an outage is not a bad record): " + "; ".join(
        f"{d.consumer} {d.topic}@{d.partition}:{d.offset} {d.error}: {d.reason[:200]}" for d in letters[:5]
    )


def _wait_for_cases(
    centre: httpx.Client, ids: set[str], states: set[str], deadline: float
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Poll each pending report until the workers hold it as a case, or the deadline; returns cases and last answers."""
    cases: dict[str, dict[str, Any]] = {}
    last: dict[str, str] = {}

    def ask(rid: str) -> None:
        try:
            r = centre.get(f"/api/v1/reports/{rid}")
        except httpx.HTTPError as exc:  # the intake restarting: still pending
            last[rid] = f"{type(exc).__name__}: {exc}"
            return
        last[rid] = f"{r.status_code} {r.text[:300]}"
        if r.status_code == 200 and r.json()["state"] in states and r.json().get("case_id"):
            cases[rid] = r.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        while True:
            list(pool.map(ask, sorted(ids - set(cases))))
            if len(cases) == len(ids) or time.monotonic() > deadline:
                return cases, last
            time.sleep(1.0)


def _wait_for_clickhouse(pipeline: Pipeline, db: str, expected: int, deadline: float) -> bool:
    """Until ClickHouse holds as many cases and reports as accepted, and every case's events up to its seq."""
    engine = None
    while True:
        try:
            engine = engine or pipeline.clickhouse()
            cases, seqs = engine.execute(f"SELECT count(), sum(seq) FROM {db}.cases FINAL")[0]
            reports = engine.execute(f"SELECT count() FROM {db}.reports FINAL")[0][0]
            events = engine.execute(f"SELECT count() FROM {db}.case_events FINAL")[0][0]
            if cases >= expected and reports >= expected and events >= seqs:
                engine.close()
                return True
        except Exception:  # noqa: BLE001 - ClickHouse just restarted: connect again
            engine = None
        if time.monotonic() > deadline:
            return False
        time.sleep(2.0)


def _check_workers(cases: dict[str, dict[str, Any]], ids: set[str]) -> None:
    assert set(cases) == ids
    for rid, c in cases.items():
        assert c["merged_into"] is None and c["report_case_id"] == c["case_id"], f"report {rid} is not its own case: {c}"
    assert len({c["case_id"] for c in cases.values()}) == len(ids), "two reports on one case"
    assert len({c["case_no"] for c in cases.values()}) == len(ids), "a case number given twice"


def _check_clickhouse_cases(
    engine: Any, db: str, ids: set[str], cases: dict[str, dict[str, Any]], states: set[str]
) -> dict[str, dict[str, Any]]:
    """ClickHouse's deduplicated cases and reports are exactly the accepted ones; returns its cases by id."""
    rows = engine.execute(
        f"SELECT toString(case_id), toString(report_id), case_no, state, seq FROM {db}.cases FINAL"
    )
    by_case = {r[0]: {"report_id": r[1], "case_no": r[2], "state": r[3], "seq": r[4]} for r in rows}
    assert len(rows) == len(by_case) == len(ids), f"{len(rows)} rows in cases FINAL, {len(ids)} reports accepted"
    assert {c["report_id"] for c in by_case.values()} == ids, "cases FINAL holds exactly the accepted reports"
    held = {rid: (c["case_id"], c["case_no"]) for rid, c in cases.items()}
    assert {c["report_id"]: (cid, c["case_no"]) for cid, c in by_case.items()} == held, "ClickHouse and workers agree"
    assert {c["state"] for c in by_case.values()} <= states
    reports = engine.execute(f"SELECT toString(report_id) FROM {db}.reports FINAL")
    assert len(reports) == len(ids) and {r[0] for r in reports} == ids, "reports FINAL holds exactly the accepted"
    return by_case


def _check_event_histories(engine: Any, db: str, by_case: dict[str, dict[str, Any]]) -> dict[str, list[tuple]]:
    """Every case's events in ClickHouse: seq 1..n without a gap, n its seq, time never going back."""
    events: dict[str, list[tuple]] = {}
    for case_id, seq, kind, at in engine.execute(
        f"SELECT toString(case_id), seq, type, at FROM {db}.case_events FINAL ORDER BY case_id, seq"
    ):
        events.setdefault(case_id, []).append((seq, kind, at))
    assert set(events) == set(by_case), f"events of {len(set(events) - set(by_case))} cases that are not cases"
    for case_id, history in events.items():
        seqs = [e[0] for e in history]
        assert seqs == list(range(1, by_case[case_id]["seq"] + 1)), f"case {case_id}: seqs {seqs}, case seq {by_case[case_id]['seq']}"
        times = [e[2] for e in history]
        assert times == sorted(times), f"case {case_id}: events out of time order {history}"
    return events


def _check_worker_histories(
    centre: httpx.Client, sample: list[str], by_case: dict[str, dict[str, Any]], events: dict[str, list[tuple]]
) -> int:
    """The workers' history of each sampled case is ClickHouse's: same seq, same (seq, type) list."""
    for case_id in sample:
        r = centre.get(f"/api/v1/cases/{case_id}")
        assert r.status_code == 200, (case_id, r.status_code, r.text)
        case = r.json()
        assert case["seq"] == by_case[case_id]["seq"], (case_id, case["seq"], by_case[case_id])
        history = [(e["seq"], e["type"]) for e in case["history"]]
        assert history == [(e[0], e[1]) for e in events[case_id]], (case_id, history, events[case_id])
    return len(sample)


#: each table's key (and version): a row written twice has the same
_KEYS = {"cases": "case_id, seq", "reports": "report_id", "case_events": "case_id, seq"}


def _raw_duplicates(engine: Any, db: str) -> dict[str, int]:
    """Rows written more than once (same key and version) still in the raw tables; FINAL collapses them.

    Background merges may already have collapsed others: these are a lower bound of what was written twice.
    """
    return {table: engine.execute(f"SELECT count() - uniqExact({key}) FROM {db}.{table}")[0][0] for table, key in _KEYS.items()}
