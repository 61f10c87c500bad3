"""Acting on a case over HTTP: the verdict comes back from the case agent through Kafka.

Sign → ask for more time → approved → resolve → verified and closed, with
refusals on the way (wrong person 403, wrong moment 409, missing field 422),
a retried action applied once, and the case with its history read back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from harness import report_body, start_pipeline, wait_for_state

from infra.settings import Settings

pytestmark = pytest.mark.integration


def test_a_case_is_worked_to_closed_through_the_actions_endpoint(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
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
    finally:
        pipeline.stop()
