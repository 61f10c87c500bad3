"""Acting on a case over HTTP: the verdict comes back from the case agent through Kafka.

Sign → ask for more time → approved → resolve → verified and closed, with
refusals on the way (wrong person 403, wrong moment 409, missing field 422),
a retried action applied once, and the case with its history read back.
An ``action_id`` is its actor's own on its own case: reused by someone
else, or on another case, it is a new action with a verdict of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from harness import (
    Pipeline,
    make_pipeline_settings,
    report_body,
    start_pipeline,
    wait_for_state,
)

from accounts.directory import add_account
from infra.settings import Settings
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """One pipeline for the module: each test files its own reports."""
    running = start_pipeline(make_pipeline_settings(stack, tmp_path_factory.mktemp("actions")))
    try:
        yield running
    finally:
        running.stop()


def test_a_case_is_worked_to_closed_through_the_actions_endpoint(pipeline: Pipeline) -> None:
    body = report_body()  # a broken street light in XL: 城市管理局 (CG) leads
    with pipeline.client() as worker, pipeline.client("staff") as cg, pipeline.client("centre") as centre:
        assert worker.post("/api/v1/reports", json=body).status_code == 202
        case_id = wait_for_state(worker, body["report_id"], "dispatched", timeout=90)["case_id"]
        url = f"/api/v1/cases/{case_id}/actions"

        refused = worker.post(url, json={"action": "sign"})
        assert refused.status_code == 403 and refused.json()["state"] == "dispatched", refused.text
        early = cg.post(url, json={"action": "resolve", "note": "已修好"})
        assert early.status_code == 409, early.text
        assert early.json()["allowed"] == ["sign", "return", "note"]

        action_id = str(uuid.uuid4())
        signed = cg.post(url, json={"action": "sign", "action_id": action_id})
        assert (signed.status_code, signed.json()["state"]) == (200, "signed"), signed.text
        again = cg.post(url, json={"action": "sign", "action_id": action_id})
        assert again.status_code == 200 and again.json()["seq"] == signed.json()["seq"]  # applied once

        missing = cg.post(url, json={"action": "request_extension", "reason": "需采购灯具"})
        assert (missing.status_code, missing.json()["field"]) == (422, "hours"), missing.text
        asked = cg.post(url, json={"action": "request_extension", "reason": "需采购灯具", "hours": 8})
        assert asked.status_code == 200, asked.text
        before = datetime.fromisoformat(centre.get(f"/api/v1/cases/{case_id}").json()["resolve_deadline"])
        approved = centre.post(url, json={"action": "approve"})
        assert approved.status_code == 200, approved.text
        after = centre.get(f"/api/v1/cases/{case_id}").json()
        assert datetime.fromisoformat(after["resolve_deadline"]) > before and after["extension_count"] == 1

        assert cg.post(url, json={"action": "resolve", "note": "已更换灯泡"}).json()["state"] == "resolved"
        assert worker.post(url, json={"action": "verify"}).json()["state"] == "closed"

        seen_by_cg = cg.get(f"/api/v1/cases/{case_id}").json()
        assert [e["type"] for e in seen_by_cg["history"]] == [
            "accepted", "dispatched", "signed", "extension_requested", "approved", "resolved", "closed",
        ]
        assert [e["seq"] for e in seen_by_cg["history"]] == list(range(1, 8))
        assert seen_by_cg["reporter_phone"] == "138****5678"
        assert centre.get(f"/api/v1/cases/{case_id}").json()["reporter_phone"] == "13812345678"
        assert worker.get(f"/api/v1/cases/{uuid.uuid4()}").status_code == 404
        gone = cg.post(f"/api/v1/cases/{uuid.uuid4()}/actions", json={"action": "sign"})
        assert gone.status_code == 404, gone.text


def _dispatched_case(worker: httpx.Client, grid_id: str) -> str:
    body = report_body(grid_id=grid_id)  # a street light in XL: CG leads; a grid of its own, so never merged
    assert worker.post("/api/v1/reports", json=body).status_code == 202
    return wait_for_state(worker, body["report_id"], "dispatched", timeout=90)["case_id"]


def test_an_action_id_is_its_actors_own_on_its_own_case(pipeline: Pipeline) -> None:
    head = add_account(pipeline.settings, "cg-head", Role.DEPARTMENT_HEAD, department="CG")
    with pipeline.client() as worker, pipeline.client("staff") as cg, httpx.Client(
        base_url=pipeline.url, headers={"Authorization": f"Bearer {head}"}, timeout=30
    ) as cg_head:
        first_case, second_case = _dispatched_case(worker, "XL-01-01"), _dispatched_case(worker, "XL-03-04")
        one, two = f"/api/v1/cases/{first_case}/actions", f"/api/v1/cases/{second_case}/actions"
        action_id = str(uuid.uuid4())
        signed = cg.post(one, json={"action": "sign", "action_id": action_id})
        assert (signed.status_code, signed.json()["state"]) == (200, "signed"), signed.text

        # Someone else sending the same id gets a verdict on his own action, never cg-01's.
        by_reporter = worker.post(one, json={"action": "sign", "action_id": action_id})
        assert by_reporter.status_code == 403, by_reporter.text  # a grid worker may not sign
        assert by_reporter.json()["action_id"] == action_id
        noted = cg_head.post(one, json={"action": "note", "note": "请尽快更换", "action_id": action_id})
        assert noted.status_code == 200, noted.text
        assert noted.json()["seq"] == signed.json()["seq"] + 1  # applied: a new event, not cg-01's answer

        # The same person and id on another case: a new action there.
        elsewhere = cg.post(two, json={"action": "sign", "action_id": action_id})
        assert (elsewhere.status_code, elsewhere.json()["state"]) == (200, "signed"), elsewhere.text
        assert cg.get(f"/api/v1/cases/{second_case}").json()["state"] == "signed"

        # Each retry is still answered with its own verdict, applied once.
        assert cg.post(one, json={"action": "sign", "action_id": action_id}).json()["seq"] == signed.json()["seq"]
        again = cg_head.post(one, json={"action": "note", "note": "请尽快更换", "action_id": action_id})
        assert again.json()["seq"] == noted.json()["seq"]
        history = [e["type"] for e in cg.get(f"/api/v1/cases/{first_case}").json()["history"]]
        assert history == ["accepted", "dispatched", "signed", "note"], history
