"""2,000 reports through the real pipeline while a worker is killed and ClickHouse restarts.

Proves DESIGN's "nothing lost, nothing half-done": every accepted report is
exactly one case, in the workers' state and in deduplicated ClickHouse reads;
every invalid one got its 4xx naming the field and left no trace; a repeat
got the same 202, a changed repeat a 409.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import Pipeline, report_body, start_pipeline
from reconcile import distinct_places, reconcile

from district import wgs84_to_gcj02
from infra.settings import Settings
from infra.stack.clickhouse import ClickHouseServer
from schemas.report import Report
from schemas.vocabulary import SourceNetwork

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a dependency outage: `make test-slow`

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
UNIQUE, REPEATS, CHANGED, INVALID = 1700, 150, 75, 75
RATE = 70.0  # posts per second: slow enough that the disruptions happen mid-stream

INVALID_CHANGES: list[tuple[dict[str, Any], str]] = [
    ({"reporter_phone": "0571-123"}, "reporter_phone"),
    ({"grid_id": None}, "grid_id"),
    ({"occurred_at": "2026-11-25 08:00"}, "occurred_at"),
    ({"title": ""}, "title"),
    ({"category_hint": "WEATHER"}, "category_hint"),
    ({"severity_hint": "P0"}, "severity_hint"),
    ({"grid_id": "XL-2-3"}, "grid_id"),
    ({"photo_ids": ["not-a-photo"]}, "photo_ids.0"),
    ({"reporter_id": "forged"}, "reporter_id"),
]


def _valid_bodies(rng: random.Random) -> list[dict[str, Any]]:
    bodies = []
    for i, (grid, lat, lon) in enumerate(distinct_places(rng, UNIQUE)):
        if i % 3 == 0:  # a point instead of a grid id, half of them in GCJ-02
            datum = "WGS-84"
            if i % 2:
                lat, lon = wgs84_to_gcj02(lat, lon)
                datum = "GCJ-02"
            place: dict[str, Any] = {"grid_id": None, "location": {"lat": lat, "lon": lon, "datum": datum}}
        else:  # the grid id, which placement goes by, and the point where it is (its own incident)
            place = {"grid_id": grid.grid_id, "location": {"lat": lat, "lon": lon, "datum": "WGS-84"}}
        bodies.append(
            report_body(
                **place,
                reporter_phone=f"13{rng.randint(100000000, 999999999)}",
                description=f"{grid.name}附近发现问题，编号{i}，请尽快处理。",
            )
        )
    return bodies


class Poster:
    """Posts at a steady rate from a pool of threads, retrying 503s like a phone would."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.results: dict[int, httpx.Response] = {}
        self.posted = 0
        self.retries_503 = 0
        self._lock = threading.Lock()
        self._clients = {who: pipeline.client(who) for who in ("worker", "worker2", "integrator")}

    def post(self, index: int, who: str, body: dict[str, Any]) -> None:
        for _ in range(30):
            r = self._clients[who].post("/api/v1/reports", json=body)
            if r.status_code != 503:
                break
            with self._lock:
                self.retries_503 += 1
            time.sleep(float(r.headers.get("Retry-After", "1")))
        with self._lock:
            self.results[index] = r
            self.posted += 1

    def run(self, plan: list[tuple[str, dict[str, Any]]], on_progress: Any) -> None:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for i, (who, body) in enumerate(plan):
                delay = start + i / RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.post, i, who, body)
                on_progress(i)


def test_two_thousand_reports_survive_a_killed_worker_and_a_clickhouse_restart(
    stack: Settings, pipeline_settings: Settings
) -> None:
    rng = random.Random(20261125)
    pipeline = start_pipeline(pipeline_settings, workers=2)
    clickhouse_server = ClickHouseServer(stack)
    try:
        whos = ["worker", "worker2", "integrator"]
        originals = [(rng.choice(whos), b) for b in _valid_bodies(rng)]
        invalid = []
        for j in range(INVALID):
            change, field = INVALID_CHANGES[j % len(INVALID_CHANGES)]
            invalid.append((rng.choice(whos), report_body(**change), field))
        first, second = originals[: UNIQUE // 2], originals[UNIQUE // 2 :]
        repeats = rng.sample(first, REPEATS)
        changed_of = rng.sample(first, CHANGED)
        changed = [(who, b | {"description": b["description"] + "（补充：情况有变化）"}) for who, b in changed_of]
        phase_a = first + [(w, b) for w, b, _ in invalid[: INVALID // 2]]
        phase_b = second + repeats + changed + [(w, b) for w, b, _ in invalid[INVALID // 2 :]]
        rng.shuffle(phase_a)
        rng.shuffle(phase_b)
        plan = phase_a + phase_b
        assert len(plan) == 2000

        poster = Poster(pipeline)
        timeline: list[tuple[float, str]] = []
        t0 = time.monotonic()

        def disrupt(i: int) -> None:
            def note(what: str) -> None:
                timeline.append((round(time.monotonic() - t0, 1), what))

            if i == 300:
                pipeline.workers[0].kill()
                note("kill -9 worker-0")
            elif i == 700:
                threading.Thread(target=lambda: (pipeline.restart_worker(0), note("worker-0 back"))).start()
                note("restarting worker-0")
            elif i == 1100:
                clickhouse_server.stop()
                note("ClickHouse stopped")

                def restart_later() -> None:
                    time.sleep(8)  # posts keep coming while ClickHouse is away
                    clickhouse_server.start(progress=lambda _line: None)
                    note("ClickHouse started")

                threading.Thread(target=restart_later).start()

        poster.run(plan, disrupt)
        index = {id(b): n for n, (_, b) in enumerate(plan)}
        status_of = lambda body: poster.results[index[id(body)]]  # noqa: E731

        # Every unique report accepted; every repeat the same 202; every changed repeat a 409.
        accepted = {b["report_id"]: b for _, b in originals}
        assert sorted({status_of(b).status_code for _, b in originals}) == [202]
        for _, body in repeats:
            assert status_of(body).status_code == 202
        assert {status_of(b).status_code for _, b in changed} == {409}
        # Every invalid report refused with the field named.
        for _, body, field in invalid:
            r = status_of(body)
            assert r.status_code == 422, (body, r.text)
            assert field in [f["field"] for f in r.json()["fields"]], (field, r.json())

        # Every accepted report exactly one case, in the workers' state and in deduplicated
        # ClickHouse reads, its history whole and in order; no dead letters (tests/reconcile.py).
        figures = reconcile(pipeline, list(accepted), sent=len(plan), timeout=480)
        with pipeline.client("centre") as centre:
            for _, body, _ in invalid:
                if isinstance(body.get("report_id"), str):
                    assert centre.get(f"/api/v1/reports/{body['report_id']}").status_code == 404
        db = pipeline_settings.clickhouse_database
        engine = pipeline.clickhouse()
        assert engine.execute(f"SELECT count() FROM {db}.case_events FINAL")[0][0] == 2 * UNIQUE
        # a changed repeat did not replace the body first accepted
        for who, body in changed_of:
            stored = engine.execute(
                f"SELECT fingerprint_sha256 FROM {db}.reports FINAL WHERE report_id = toUUID('{body['report_id']}')"
            )
            # as the intake accepted it: an integrator's report is its network's (source from the account)
            as_accepted = body | ({"source": SourceNetwork.HOTLINE.value} if who == "integrator" else {})
            assert stored == [(Report.model_validate(as_accepted).fingerprint(),)]
        # no full phone number anywhere in ClickHouse
        assert engine.execute(
            f"SELECT count() FROM {db}.reports WHERE match(reporter_phone_masked, '^1[3-9][0-9]{{9}}$')"
        )[0][0] == 0
        health = httpx.get(pipeline.url + "/healthz").json()
        raw = engine.execute(f"SELECT count() FROM {db}.cases")[0][0]
        raw_events = engine.execute(f"SELECT count() FROM {db}.case_events")[0][0]

        ARTIFACTS.mkdir(exist_ok=True)
        summary = {
            "posted": len(plan),
            "accepted_unique": len(accepted),
            "repeats_same_202": len(repeats),
            "changed_409": len(changed),
            "invalid_422": len(invalid),
            "retries_after_503": poster.retries_503,
            "cases_in_worker_state": figures["cases_in_worker_state"],
            "cases_in_clickhouse_final": figures["cases_in_clickhouse_final"],
            "case_rows_written_raw": raw,
            "case_event_rows_written_raw": raw_events,
            "duplicate_case_rows_collapsed_by_final": raw - figures["cases_in_clickhouse_final"],
            "redriven_by_intake": health["redriven"],
            "reconciliation": figures,
            "timeline_s": timeline,
            "seconds": round(time.monotonic() - t0, 1),
        }
        (ARTIFACTS / "crash_recovery.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        print(json.dumps(summary, ensure_ascii=False))
    finally:
        if not clickhouse_server.is_running():
            clickhouse_server.start(progress=lambda _line: None)
        pipeline.stop()
