"""An escalation (督办) is raised once, even when the worker dies around its deadline.

The worker's clock is moved past the sign deadline by restarting it with
``GRIDFLOW_CLOCK_OFFSET_S`` (the one clock object the processors read); it is
killed (SIGKILL) as soon as the escalation shows, and restarted again: the
case still carries exactly one sign escalation, on Kafka and in ClickHouse.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from harness import report_body, start_pipeline, wait_for_state
from kafka import KafkaConsumer

from gridflow import services
from infra.settings import Settings
from schemas.topics import CASE_EVENTS

pytestmark = pytest.mark.integration


def _escalations(history: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in history if e["type"] == "escalated"]


def _escalated_on_kafka(settings: Settings, case_id: str) -> set[tuple[int, str]]:
    consumer = KafkaConsumer(
        settings.topic(CASE_EVENTS.name),
        bootstrap_servers=settings.bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=3000,
    )
    found = set()
    for msg in consumer:
        event = json.loads(msg.value)
        if event["case_id"] == case_id and event["type"] == "escalated":
            found.add((event["seq"], f"{event['payload']['clock']}:{event['payload']['level']}"))
    consumer.close()
    return found


def test_a_sign_escalation_is_raised_once_across_a_killed_worker(pipeline_settings: Settings) -> None:
    settings = pipeline_settings.replace(escalation_interval_s=0.5)
    pipeline = start_pipeline(settings)
    try:
        body = report_body()
        with pipeline.client() as worker, pipeline.client("centre") as centre:
            assert worker.post("/api/v1/reports", json=body).status_code == 202
            case_id = wait_for_state(worker, body["report_id"], "dispatched", timeout=90)["case_id"]
            case = centre.get(f"/api/v1/cases/{case_id}").json()
            assert _escalations(case["history"]) == []
            sign_deadline = datetime.fromisoformat(case["sign_deadline"])
            # Jump one minute past the sign deadline (well before its level 2, half an SLA later).
            offset = (sign_deadline - datetime.now(timezone.utc)).total_seconds() + 60
            pipeline.workers[0].kill()
            pipeline.settings = settings.replace(clock_offset_s=offset)
            pipeline.restart_worker(0)

            def escalated() -> list[dict]:  # type: ignore[type-arg]
                r = centre.get(f"/api/v1/cases/{case_id}")
                return _escalations(r.json()["history"]) if r.status_code == 200 else []

            services.wait_until(lambda: bool(escalated()), 60, "the sign escalation")
            pipeline.workers[0].kill()  # at once, while the timer may have more checks in flight
            pipeline.restart_worker(0)
            time.sleep(4)  # eight timer rounds
            raised = escalated()
            assert len(raised) == 1, raised
            assert (raised[0]["payload"]["clock"], raised[0]["payload"]["level"]) == ("sign", 1)
            assert raised[0]["payload"]["to"] == "department_head" and raised[0]["department"] == "CG"
            assert len(_escalated_on_kafka(settings, case_id)) == 1
        engine = pipeline.clickhouse()
        db = settings.clickhouse_database
        query = f"SELECT type, seq FROM {db}.case_events FINAL WHERE toString(case_id) = '{case_id}' ORDER BY seq"
        # The sink rejoins its consumer group after the kills (within the 10 s session since it has the worker's).
        deadline = time.monotonic() + 180
        rows = engine.execute(query)
        while time.monotonic() < deadline and len(rows) < len(case["history"]) + 1:
            time.sleep(1)
            rows = engine.execute(query)
        assert [t for t, _ in rows].count("escalated") == 1, rows
    finally:
        pipeline.stop()
