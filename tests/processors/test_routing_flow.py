"""Reports flow through the real Kafka to the right departments' topics, and a return re-routes.

The departments are what DESIGN's taxonomy and the shipped routing rules say
for each text and place; the texts are new (in neither corpus).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from harness import Alerts, report_body, start_pipeline, wait_for_state

from infra.kafka import producer
from infra.settings import Settings
from schemas.topics import CASE_COMMANDS

pytestmark = pytest.mark.integration

# (grid, category hint or None, title, description) → lead, co-handlers that must be alerted
REPORTS: list[tuple[dict[str, Any], str, set[str]]] = [
    (
        dict(grid_id="XL-02-03", category_hint="DISPUTE", title="工地拖欠工资",
             description="西岭镇一工地老板拖欠二十多名工人三个月工资，工人们聚在工地门口讨薪，情绪激动。"),
        "RS",
        set(),
    ),
    (
        dict(grid_id="NJ-01-02", title="路灯不亮",
             description="南江镇主街东段三盏路灯连续一周晚上不亮，行人摸黑走路。"),
        "CG",
        set(),
    ),
    (
        dict(grid_id="BC-01-01", category_hint="SECURITY", title="电动车被盗",
             description="小区车棚昨晚又丢了两辆电动车，监控拍到一个戴帽子的人撬锁。"),
        "PCS-BC",
        set(),
    ),
    (
        dict(grid_id="DH-02-01", category_hint="DISASTER", title="山体滑坡",
             description="东湖街道后山突发山体滑坡，泥石冲到路面，两户人家房屋后墙开裂，人员已撤离，情况危急。"),
        "YJ",
        {"ZF-DH"},
    ),
]


def _return(settings: Settings, case_id: str, department: str) -> None:
    """What the actions endpoint will send: a department clerk returns the case (退回)."""
    action = {
        "kind": "action",
        "action_id": str(uuid.uuid4()),
        "case_id": case_id,
        "action": "return",
        "actor_id": f"clerk-{department.lower()}",
        "actor_role": "department_staff",
        "actor_department": department,
        "reason": "不属于本部门职责",
        "at": datetime.now(timezone.utc).isoformat(),
    }
    p = producer(settings)
    p.send(settings.topic(CASE_COMMANDS.name), key=case_id.encode(), value=json.dumps(action).encode()).get(30)
    p.close()


def test_reports_reach_their_departments_and_a_return_reroutes(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings)
    departments = {lead for _, lead, _ in REPORTS} | {c for *_, co in REPORTS for c in co} | {"SFS-XL", "ZZZX"}
    alerts = Alerts(pipeline_settings, departments)
    try:
        cases: dict[str, dict[str, Any]] = {}
        with pipeline.client() as c:
            for fields, lead, _ in REPORTS:
                body = report_body(**fields)
                if "category_hint" not in fields:
                    body.pop("category_hint")
                assert c.post("/api/v1/reports", json=body).status_code == 202
                cases[lead] = wait_for_state(c, body["report_id"], "dispatched", timeout=90)
        for _, lead, co in REPORTS:
            case = cases[lead]
            assert case["department"] == lead, (lead, case)
            got = alerts.wait_for(
                lambda seen, case=case, want={lead, *co}: want
                <= {a["_topic"] for a in seen if a["case_id"] == case["case_id"]}
            )
            mine = [a for a in got if a["case_id"] == case["case_id"]]
            assert {a["_topic"] for a in mine if a["lead"]} == {lead}
            assert {a["_topic"] for a in mine if not a["lead"]} >= co
            assert all(a["department"] == a["_topic"] for a in mine)
            assert all("****" in a["reporter_phone_masked"] for a in mine)
            assert all(a["sign_deadline"] for a in mine if a["lead"])

        # RS returns the wage case: the town's judicial office gets it; when it
        # returns it too, the command centre triages it by hand.
        wage = cases["RS"]
        _return(pipeline_settings, wage["case_id"], "RS")
        alerts.wait_for(lambda seen: any(a["case_id"] == wage["case_id"] and a["_topic"] == "SFS-XL" and a["lead"] for a in seen))
        with pipeline.client("centre") as centre:
            after = wait_for_state(centre, wage["report_id"], "dispatched")
            assert after["department"] == "SFS-XL"
            _return(pipeline_settings, wage["case_id"], "SFS-XL")
            alerts.wait_for(lambda seen: any(a["case_id"] == wage["case_id"] and a["_topic"] == "ZZZX" for a in seen))
            assert wait_for_state(centre, wage["report_id"], "triage")["department"] == "ZZZX"
            # a return by a department that is not the lead changes nothing
            _return(pipeline_settings, cases["CG"]["case_id"], "RS")
            time.sleep(3)
            assert centre.get(f"/api/v1/reports/{cases['CG']['report_id']}").json()["department"] == "CG"
    finally:
        alerts.consumer.close()
        pipeline.stop()
