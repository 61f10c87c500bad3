"""A 202 is a promise: a report accepted while no worker runs still becomes exactly one case."""

from __future__ import annotations

import time

import httpx
import pytest
from harness import report_body, start_pipeline, wait_for_state

from gridflow import services
from infra.settings import Settings

pytestmark = pytest.mark.integration


def test_a_report_accepted_while_workers_are_down_becomes_one_case(pipeline_settings: Settings) -> None:
    settings = pipeline_settings.replace(redrive_after_s=1.0, redrive_interval_s=0.5)
    pipeline = start_pipeline(settings)
    try:
        pipeline.workers[0].kill()
        body = report_body()
        with pipeline.client() as c:
            assert c.post("/api/v1/reports", json=body).status_code == 202
            # While no worker answers, the report stays "received" — not 404, not 503.
            assert c.get(f"/api/v1/reports/{body['report_id']}").json()["state"] == "received"
            time.sleep(3)  # several re-drive rounds pass with the workers away: none may re-send blindly
            assert httpx.get(pipeline.url + "/healthz").json()["redriven"] == 0
            pipeline.restart_worker(0)
            case = wait_for_state(c, body["report_id"], "dispatched", timeout=90)
        engine = pipeline.clickhouse()
        db = settings.clickhouse_database
        services.wait_until(
            lambda: engine.execute(f"SELECT count() FROM {db}.cases FINAL")[0][0] == 1, 60, "case in ClickHouse"
        )
        time.sleep(3)  # any late re-drive would show up as a second case by now
        rows = engine.execute(f"SELECT toString(case_id) FROM {db}.cases FINAL")
        assert rows == [(case["case_id"],)]
    finally:
        pipeline.stop()
