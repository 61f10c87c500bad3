"""Every permission boundary: each kind of caller × each endpoint, including cross-department and cross-town.

One case exists: reported in XL by the grid worker ``wgy-xl-01``, led by CG.
The expected status of every (caller, endpoint) pair is written out below,
from DESIGN's roles and scopes; the test collects every mismatch and fails
with all of them.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Callable

import httpx
import pytest
from harness import report_body, start_pipeline, wait_for_state

from accounts.directory import add_account
from gridflow import services
from infra.settings import Settings
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"

CALLERS = ("worker", "worker_dh", "integrator", "staff", "head", "rs", "centre", "centre_dh", "admin", "none")
# endpoint → expected status per caller, in CALLERS order
EXPECTED: dict[str, tuple[int, ...]] = {
    #                         worker wdh  integ staff head  rs  centre cdh admin none
    "POST /reports":          (202, 202, 202, 403, 403, 403, 202, 202, 403, 401),
    "GET /reports/{id}":      (200, 403, 403, 403, 403, 403, 200, 403, 200, 401),
    "GET /grids":             (200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    "GET /taxonomy":          (200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    "GET /cases/{id}":        (200, 403, 403, 200, 200, 403, 200, 403, 200, 401),
    "POST /cases/{id}/note":  (403, 403, 403, 200, 200, 403, 200, 403, 403, 401),
    "GET /inbox":             (403, 403, 403, 200, 200, 200, 403, 403, 403, 401),
    "GET /my/reports":        (200, 200, 200, 403, 403, 403, 200, 200, 200, 401),
    "GET /centre/overview":   (403, 403, 403, 403, 403, 403, 200, 200, 200, 401),
    "GET /audit":             (403, 403, 403, 403, 403, 403, 403, 403, 200, 401),
    "GET /webhooks/deliveries": (403, 403, 403, 200, 200, 200, 403, 403, 200, 401),
    "POST /photos":           (201, 201, 201, 201, 201, 201, 201, 201, 403, 401),
    "GET /me":                (200, 200, 200, 200, 200, 200, 200, 200, 200, 401),
    "GET /alerts/stream":     (403, 403, 403, 200, 200, 200, 200, 200, 403, 401),
    # the integrator speaks for 12345: its own network's events only, and its reports are 12345's
    "POST /networks/hotline12345/events": (403, 403, 202, 403, 403, 403, 403, 403, 403, 401),
    "POST /networks/urban/events": (403, 403, 403, 403, 403, 403, 403, 403, 403, 401),
    "POST /reports as urban": (202, 202, 403, 403, 403, 403, 202, 202, 403, 401),
}  # fmt: skip

HOTLINE = json.loads(next((EXAMPLES / "hotline12345").glob("valid__*.json")).read_text(encoding="utf-8"))
URBAN = json.loads(next((EXAMPLES / "urban").glob("valid__*.json")).read_text(encoding="utf-8"))


def _fresh(sample: dict, id_field: str) -> dict:
    """The sample as a new event: its network's id format, new digits."""
    return {**sample, id_field: "GD" + str(uuid.uuid4().int)[:13] if id_field == "work_order_no" else str(uuid.uuid4().int)[:10]}


def _stream_status(client: httpx.Client, path: str) -> int:
    with client.stream("GET", path) as r:
        return r.status_code


def test_each_caller_at_each_endpoint(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
        settings = pipeline.settings
        tokens = dict(pipeline.tokens)
        tokens["worker_dh"] = tokens["worker2"]
        tokens["head"] = add_account(settings, "cg-head", Role.DEPARTMENT_HEAD, department="CG")
        tokens["rs"] = add_account(settings, "rs-01", Role.DEPARTMENT_STAFF, department="RS")
        tokens["centre_dh"] = add_account(settings, "zx-dh", Role.COMMAND_CENTRE, town="DH")
        body = report_body()
        with pipeline.client() as worker:
            assert worker.post("/api/v1/reports", json=body).status_code == 202
            case_id = wait_for_state(worker, body["report_id"], "dispatched", timeout=90)["case_id"]
        with pipeline.client("admin") as admin:
            services.wait_until(
                lambda: any(r["case_id"] == case_id for r in admin.get("/api/v1/audit").json()), 60, "case in ClickHouse"
            )
        report_id = body["report_id"]
        calls: dict[str, Callable[[httpx.Client], int]] = {
            "POST /reports": lambda c: c.post("/api/v1/reports", json=report_body()).status_code,
            "GET /reports/{id}": lambda c: c.get(f"/api/v1/reports/{report_id}").status_code,
            "GET /grids": lambda c: c.get("/api/v1/grids").status_code,
            "GET /taxonomy": lambda c: c.get("/api/v1/taxonomy").status_code,
            "GET /cases/{id}": lambda c: c.get(f"/api/v1/cases/{case_id}").status_code,
            "POST /cases/{id}/note": lambda c: c.post(
                f"/api/v1/cases/{case_id}/actions", json={"action": "note", "note": "巡查记录", "action_id": str(uuid.uuid4())}
            ).status_code,
            "GET /inbox": lambda c: c.get("/api/v1/inbox").status_code,
            "GET /my/reports": lambda c: c.get("/api/v1/my/reports").status_code,
            "GET /centre/overview": lambda c: c.get("/api/v1/centre/overview").status_code,
            "GET /audit": lambda c: c.get("/api/v1/audit").status_code,
            "GET /webhooks/deliveries": lambda c: c.get("/api/v1/webhooks/deliveries").status_code,
            "POST /photos": lambda c: c.post("/api/v1/photos", content=JPEG, headers={"Content-Type": "image/jpeg"}).status_code,
            "GET /me": lambda c: c.get("/api/v1/me").status_code,
            "GET /alerts/stream": lambda c: _stream_status(c, "/api/v1/alerts/stream"),
            "POST /networks/hotline12345/events": lambda c: c.post(
                "/api/v1/networks/hotline12345/events", json=_fresh(HOTLINE, "work_order_no")
            ).status_code,
            "POST /networks/urban/events": lambda c: c.post(
                "/api/v1/networks/urban/events", json=_fresh(URBAN, "TASK_NUM")
            ).status_code,
            "POST /reports as urban": lambda c: c.post("/api/v1/reports", json=report_body(source="urban")).status_code,
        }
        assert set(calls) == set(EXPECTED)
        mismatches: list[str] = []
        for who in CALLERS:
            headers = {} if who == "none" else {"Authorization": f"Bearer {tokens[who]}"}
            with httpx.Client(base_url=pipeline.url, headers=headers, timeout=30) as client:
                for endpoint, call in calls.items():
                    want = EXPECTED[endpoint][CALLERS.index(who)]
                    got = call(client)
                    if got != want:
                        mismatches.append(f"{who:10s} {endpoint}: {got}, expected {want}")
        assert not mismatches, "\n".join(mismatches)
    finally:
        pipeline.stop()

