"""Kafka unreachable: the intake says 503 with Retry-After and writes nothing; a retry later is one case."""

from __future__ import annotations

import time

import pytest
from harness import report_body, start_pipeline, wait_for_state

from infra.settings import Settings
from infra.stack.kafka import KafkaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a dependency outage: `make test-slow`


def test_kafka_down_is_503_and_the_retry_makes_one_case(stack: Settings, pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    kafka = KafkaServer(stack)
    body = report_body()
    try:
        with pipeline.client() as c:
            kafka.stop()
            started = time.monotonic()
            r = c.post("/api/v1/reports", json=body)
            answered_in = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) > 0
            assert answered_in < 30, "a dead broker must not hang the phone"
            kafka.start(progress=lambda _line: None)
            kafka.wait_healthy(90)
            # the phone retries the same report until it is accepted
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                r = c.post("/api/v1/reports", json=body)
                if r.status_code == 202:
                    break
                assert r.status_code == 503, r.text
                time.sleep(float(r.headers.get("Retry-After", "1")))
            assert r.status_code == 202, r.text
            case = wait_for_state(c, body["report_id"], "dispatched", timeout=120)
        engine = pipeline.clickhouse()
        db = pipeline_settings.clickhouse_database
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and engine.execute(f"SELECT count() FROM {db}.cases FINAL")[0][0] < 1:
            time.sleep(1)
        assert engine.execute(f"SELECT toString(case_id) FROM {db}.cases FINAL") == [(case["case_id"],)]
    finally:
        if not kafka.is_running():
            kafka.start(progress=lambda _line: None)
            kafka.wait_healthy(90)
        pipeline.stop()
