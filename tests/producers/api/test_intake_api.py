"""The intake's contract, against the real Kafka broker and a real worker."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest
from harness import (
    Pipeline,
    make_pipeline_settings,
    report_body,
    start_pipeline,
    wait_for_state,
)

from infra.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    settings = make_pipeline_settings(stack, tmp_path_factory.mktemp("intake"))
    p = start_pipeline(settings)
    yield p
    p.stop()


def test_without_a_token_401(pipeline: Pipeline) -> None:
    import httpx

    r = httpx.post(pipeline.url + "/api/v1/reports", json=report_body())
    assert r.status_code == 401
    r = httpx.post(pipeline.url + "/api/v1/reports", json=report_body(), headers={"Authorization": "Bearer gf_nope"})
    assert r.status_code == 401


def test_wrong_role_403(pipeline: Pipeline) -> None:
    with pipeline.client("staff") as c:
        r = c.post("/api/v1/reports", json=report_body())
    assert r.status_code == 403


def test_accept_repeat_conflict_and_status(pipeline: Pipeline) -> None:
    body = report_body()
    with pipeline.client() as c:
        first = c.post("/api/v1/reports", json=body)
        assert first.status_code == 202, first.text
        assert first.json()["report_id"] == body["report_id"]
        # visible at once, as received or later
        status = c.get(f"/api/v1/reports/{body['report_id']}")
        assert status.status_code == 200 and status.json()["state"] in {"received", "dispatched"}
        again = c.post("/api/v1/reports", json=body)
        assert (again.status_code, again.json()) == (202, first.json())
        changed = c.post("/api/v1/reports", json=body | {"description": "另一段描述"})
        assert changed.status_code == 409 and changed.json()["field"] == "report_id"
        done = wait_for_state(c, body["report_id"], "dispatched")
    assert done["case_no"].startswith("XL-") and done["department"] == "CG"  # 路灯 → 城市管理局
    # another grid worker may not read it; the command centre may
    with pipeline.client("worker2") as c:
        assert c.get(f"/api/v1/reports/{body['report_id']}").status_code == 403
    with pipeline.client("centre") as c:
        assert c.get(f"/api/v1/reports/{body['report_id']}").json()["case_id"] == done["case_id"]


def test_the_reporter_is_the_token_owner(pipeline: Pipeline) -> None:
    with pipeline.client() as c:
        r = c.post("/api/v1/reports", json=report_body(reporter_id="someone-else"))
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["reporter_id"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"reporter_phone": "12"}, "reporter_phone"),
        ({"grid_id": None}, "grid_id"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"location": {"lat": 95, "lon": 108.3, "datum": "WGS-84"}, "grid_id": None}, "location.lat"),
        ({"report_id": "not-a-uuid"}, "report_id"),
    ],
)
def test_invalid_input_names_the_field_and_leaves_no_trace(pipeline: Pipeline, change: dict, field: str) -> None:
    body = report_body(**change)
    with pipeline.client() as c:
        r = c.post("/api/v1/reports", json=body)
        assert r.status_code == 422
        assert field in [f["field"] for f in r.json()["fields"]]
        if change.get("report_id") is None:
            assert c.get(f"/api/v1/reports/{body['report_id']}").status_code == 404


def test_malformed_json_is_400(pipeline: Pipeline) -> None:
    with pipeline.client() as c:
        r = c.post("/api/v1/reports", content=b"{oops", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"


def test_unknown_report_is_404(pipeline: Pipeline) -> None:
    with pipeline.client() as c:
        assert c.get(f"/api/v1/reports/{uuid.uuid4()}").status_code == 404


def test_openapi_describes_the_report(pipeline: Pipeline) -> None:
    import httpx

    doc = httpx.get(pipeline.url + "/openapi.json").json()
    assert "/api/v1/reports" in doc["paths"]
    assert "reporter_phone" in doc["components"]["schemas"]["Report"]["properties"]


def test_grids_are_listed_for_any_account(pipeline: Pipeline) -> None:
    from district import load_registry

    with pipeline.client("staff") as c:
        grids = c.get("/api/v1/grids").json()
    assert {g["grid_id"] for g in grids} == {g.grid_id for g in load_registry().grids}
    entry = next(g for g in grids if g["grid_id"] == "XL-02-03")
    assert entry["town"] == "XL" and entry["village"] == "XL-02" and entry["name"].startswith("西岭镇")
    import httpx

    assert httpx.get(pipeline.url + "/api/v1/grids").status_code == 401
