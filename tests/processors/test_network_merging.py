"""多网合一 on the real Kafka and ClickHouse: one incident through three networks is one case; a split makes two.

Two workers share the partitions. A missing manhole cover in 西岭镇 is reported by a 城管 inspector (GCJ-02
point, CJ/T 214 code, epoch-ms time), a 12345 caller (geocoded address, 诉求
code) and the 综治 grid system (its own grid code, local time), each pushed
in its network's own format. They become one case, alerted to its lead once
(the later two as updates, 又有人反映), every report answering that case.
The command centre then splits the 12345 report off: it becomes its own
case, with its own number and its own dispatch alert. ClickHouse's counts
per network agree with what was sent.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from harness import Alerts, start_pipeline

from district import load_registry
from infra.settings import Settings
from producers.networks.adapt import load_maps, report_id_for
from producers.simulate.networks import payload_for
from schemas.vocabulary import SourceNetwork

pytestmark = pytest.mark.integration

GRID = "XL-02-03"
TEXT = {
    SourceNetwork.URBAN: "井盖缺失，已拍照",
    SourceNetwork.HOTLINE: "石门村村口路边一个污水井盖不见了，晚上很危险，怕有人掉下去",
    SourceNetwork.COMPREHENSIVE: "村口路边井盖缺失，存在安全隐患，需尽快处置",
}


def _until(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _report(client: Any, report_id: str) -> dict[str, Any] | None:
    answer = client.get(f"/api/v1/reports/{report_id}")
    return answer.json() if answer.status_code == 200 else None


def test_one_incident_through_three_networks_is_one_case_and_a_split_makes_two(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings, workers=2)  # the town's candidates live with one of them
    maps = load_maps()
    grid = load_registry().grid(GRID)
    assert grid is not None
    lat, lon = grid.centroid
    now = datetime.now(timezone.utc).replace(microsecond=0)
    sent: dict[SourceNetwork, str] = {}
    try:
        for minutes, network in enumerate([SourceNetwork.URBAN, SourceNetwork.HOTLINE, SourceNetwork.COMPREHENSIVE]):
            event_id = f"T{now:%H%M%S}{minutes}"
            payload = payload_for(
                network, event_id=event_id, grid_id=GRID, lat=lat + 0.0001 * minutes, lon=lon, category="URBAN",
                subcategory="manhole_cover", text=TEXT[network], occurred_at=now - timedelta(minutes=30 - 10 * minutes),
                phone="13800001111" if network is SourceNetwork.HOTLINE else None, maps=maps,
            )  # fmt: skip
            with pipeline.client(network.value) as c:
                answer = c.post(f"/api/v1/networks/{network.value}/events", json=payload)
                assert answer.status_code == 202, answer.text
                assert answer.json()["report_id"] == str(report_id_for(network, event_id))
                # The network resends it: the same answer, marked a repeat.
                again = c.post(f"/api/v1/networks/{network.value}/events", json=payload)
                assert (again.status_code, again.json()) == (202, answer.json())
                assert again.headers.get("X-Gridflow-Repeat") == "1"
            sent[network] = answer.json()["report_id"]
            if not minutes:  # the first opens the case before the others come
                with pipeline.client("centre") as c:
                    _until("the first case", lambda: (_report(c, sent[network]) or {}).get("case_no"))

        with pipeline.client("centre") as c:
            first = _report(c, sent[SourceNetwork.URBAN])
            assert first is not None
            case_id = first["case_id"]
            for network in (SourceNetwork.HOTLINE, SourceNetwork.COMPREHENSIVE):
                status = _until(f"{network.value} merged", lambda n=network: (s := _report(c, sent[n])) and
                                s.get("merged_into") == case_id and s)  # fmt: skip
                assert status["case_id"] == case_id and status["case_no"] == first["case_no"]
                assert status["report_case_id"] != case_id  # its own case keeps the report and the evidence
            case = _until("three reports", lambda: (k := c.get(f"/api/v1/cases/{case_id}").json())["report_count"] == 3
                          and k)  # fmt: skip
            assert [r["source"] for r in case["reports"]] == ["urban", "hotline12345", "comprehensive"]
            for joined in case["reports"][1:]:
                assert joined["merge"]["rule"] and joined["merge"]["summary"]
                assert joined["merge"]["metres"] is not None and joined["merge"]["metres"] < 100
            lead = case["lead_department"]

        alerts = Alerts(pipeline.settings, {lead})
        seen = alerts.wait_for(lambda got: sum(a["case_id"] == case_id and a["kind"] == "update" for a in got) == 2)
        mine = [a for a in seen if a["case_id"] == case_id]
        assert [a["kind"] for a in mine] == ["dispatch", "update", "update"]
        assert [a["report_count"] for a in mine] == [1, 2, 3]

        # The centre splits the 12345 report off: its own case, number and alert.
        with pipeline.client("centre") as c:
            hotline = _report(c, sent[SourceNetwork.HOTLINE])
            assert hotline is not None
            own = hotline["report_case_id"]
            split = c.post(f"/api/v1/cases/{own}/actions", json={"action": "split", "note": "不是同一个井盖"})
            assert split.status_code == 200, split.text
            after = _until("the split", lambda: (s := _report(c, sent[SourceNetwork.HOTLINE])) and
                           s["case_id"] == own and s.get("case_no") and s)  # fmt: skip
            assert after["merged_into"] is None and after["case_no"] != first["case_no"]
            assert after["state"] in ("dispatched", "triage")
            case = _until("two reports", lambda: (k := c.get(f"/api/v1/cases/{case_id}").json())["report_count"] == 2
                          and k)  # fmt: skip
            assert [r["source"] for r in case["reports"]] == ["urban", "comprehensive"]
        new_lead = after["department"]
        alerts = Alerts(pipeline.settings, {new_lead})
        alerts.wait_for(lambda got: any(a["case_id"] == own and a["kind"] == "dispatch" for a in got))

        # ClickHouse: one row per report, by network; one still merged; the counts on the case.
        engine = pipeline.clickhouse()
        db = pipeline.settings.clickhouse_database

        def counts() -> dict[str, tuple[int, int]]:
            rows = engine.execute(
                f"SELECT source, count(), countIf(state = 'merged') FROM {db}.cases FINAL GROUP BY source"
            )
            return {r[0]: (int(r[1]), int(r[2])) for r in rows}

        want = {"urban": (1, 0), "hotline12345": (1, 0), "comprehensive": (1, 1)}
        _until("ClickHouse counts", lambda: counts() == want)
        rows = engine.execute(f"SELECT report_count FROM {db}.cases FINAL WHERE case_id = toUUID('{case_id}')")
        assert [int(r[0]) for r in rows] == [2]
        engine.close()
    finally:
        pipeline.stop()
