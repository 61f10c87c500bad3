"""What the pages stand on: sign-in, the live inbox over SSE, lists from ClickHouse, the audit trail."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from harness import report_body, start_pipeline, wait_for_state

from accounts.directory import add_account
from gridflow import services
from infra.settings import Settings
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration


class Listener(threading.Thread):
    """Reads an SSE stream in the background, collecting the alert events."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.alerts: list[dict[str, Any]] = []
        self.opened = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(30, read=60)) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            self.opened.set()
            event = ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "alert":
                    self.alerts.append(json.loads(line[6:]))
                if self.stop.is_set():
                    return


def test_sign_in_live_inbox_lists_and_audit(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    try:
        settings = pipeline.settings
        add_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="井盖2026!zhang")
        admin = pipeline.tokens["admin"]
        url = pipeline.url
        wrong = httpx.post(f"{url}/api/v1/sessions", json={"user_id": "cg-zhang", "password": "nope"})
        assert wrong.status_code == 401 and wrong.json()["message"] == "账号或密码错误"
        signed_in = httpx.post(f"{url}/api/v1/sessions", json={"user_id": "cg-zhang", "password": "井盖2026!zhang"})
        assert signed_in.status_code == 201, signed_in.text
        session = signed_in.json()
        assert (session["role"], session["department"]) == ("department_staff", "CG")
        cg = {"Authorization": f"Bearer {session['token']}"}
        assert httpx.get(f"{url}/api/v1/me", headers=cg).json()["user_id"] == "cg-zhang"

        listener = Listener(f"{url}/api/v1/alerts/stream", session["token"])
        listener.start()
        assert listener.opened.wait(30)
        time.sleep(1.5)  # the tail has joined the topic
        body = report_body()  # street light → CG
        with pipeline.client() as worker:
            assert worker.post("/api/v1/reports", json=body).status_code == 202
            case = wait_for_state(worker, body["report_id"], "dispatched", timeout=90)
        services.wait_until(lambda: any(a["case_id"] == case["case_id"] for a in listener.alerts), 30, "the SSE alert")
        alert = next(a for a in listener.alerts if a["case_id"] == case["case_id"])
        assert alert["lead"] and alert["reporter_phone_masked"] == "138****5678" and alert["sign_deadline"]
        listener.stop.set()

        def listed(path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
            r = httpx.get(f"{url}{path}", headers=headers, timeout=10)
            assert r.status_code == 200, r.text
            return r.json()

        services.wait_until(lambda: any(c["case_id"] == case["case_id"] for c in listed("/api/v1/inbox", cg)), 30, "inbox")
        rs = {"Authorization": f"Bearer {add_account(settings, 'rs-li', Role.DEPARTMENT_STAFF, department='RS')}"}
        assert all(c["case_id"] != case["case_id"] for c in listed("/api/v1/inbox", rs))
        mine = listed("/api/v1/my/reports", {"Authorization": f"Bearer {pipeline.tokens['worker']}"})
        assert [(r["report_id"], r["state"], r["case_no"]) for r in mine] == [(body["report_id"], "dispatched", case["case_no"])]
        centre = listed("/api/v1/centre/overview", {"Authorization": f"Bearer {pipeline.tokens['centre']}"})
        assert {"department": "CG", "open": 1} in centre["backlog"] and sum(m["reports"] for m in centre["per_minute"]) == 1
        assert centre["open_by_grid"] == [{"grid_id": "XL-02-03", "open": 1}]
        other_town = add_account(settings, "zx-dh", Role.COMMAND_CENTRE, town="DH")
        assert listed("/api/v1/centre/overview", {"Authorization": f"Bearer {other_town}"})["backlog"] == []

        audit = listed("/api/v1/audit?actor=wgy-xl-01", {"Authorization": f"Bearer {admin}"})
        assert [(a["what"], a["role"]) for a in audit] == [("report", "grid_worker"), ("token_issued", "grid_worker")]
        signed = listed("/api/v1/audit?actor=cg-zhang", {"Authorization": f"Bearer {admin}"})
        assert [a["what"] for a in signed] == ["sign_in", "token_issued"]
        assert httpx.get(f"{url}/api/v1/audit", headers=cg).status_code == 403
        taxonomy = listed("/api/v1/taxonomy", cg)
        assert len(taxonomy) == 13 and taxonomy[0]["subcategories"]
        shapes = httpx.get(f"{url}/api/v1/grids.geojson", headers=cg).json()
        assert len(shapes["features"]) == 48

        assert httpx.delete(f"{url}/api/v1/sessions", headers=cg).status_code == 204
        services.wait_until(lambda: httpx.get(f"{url}/api/v1/me", headers=cg).status_code == 401, 10, "signed out")
        after = listed("/api/v1/audit?actor=cg-zhang", {"Authorization": f"Bearer {admin}"})
        assert [a["what"] for a in after][0] == "sign_out"
    finally:
        pipeline.stop()
