"""The soak's latency pairing and its recording transport, without Kafka (the integration test runs them for real)."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from gridflow.soak_probes import AlertLatency, RecordingTransport, _case_of
from infra.settings import Settings
from processors.agents.accept import case_id_for

SETTINGS = Settings.from_env()


def _ids() -> tuple[str, str]:
    report = str(uuid.uuid4())
    return report, str(case_id_for(uuid.UUID(report)))


def test_a_202_then_its_alert_is_one_latency() -> None:
    latency = AlertLatency(SETTINGS, since_ms=0)
    report, case = _ids()
    latency.accepted(report, 100.0)
    latency.alerted(case, 100.25)
    assert latency.take() == [0.25]
    assert latency.take() == []  # handed over once
    assert latency.paired == 1


def test_only_the_first_202_and_the_first_alert_count() -> None:
    latency = AlertLatency(SETTINGS, since_ms=0)
    report, case = _ids()
    latency.accepted(report, 100.0)
    latency.accepted(report, 103.0)  # the phone's repeat
    latency.alerted(case, 100.5)  # the lead's dispatch
    latency.alerted(case, 100.6)  # the co-handler's
    latency.alerted(case, 160.0)  # an escalation later
    assert latency.take() == [0.5]
    assert latency.accepted_reports == {report}


def test_an_alert_read_before_the_202_reached_the_simulator_still_pairs() -> None:
    latency = AlertLatency(SETTINGS, since_ms=0)
    report, case = _ids()
    latency.alerted(case, 100.3)
    assert latency.take() == []
    latency.accepted(report, 100.1)
    samples = latency.take()
    assert len(samples) == 1 and abs(samples[0] - 0.2) < 1e-9


def test_alerts_of_other_cases_and_unreadable_values_pair_with_nothing() -> None:
    latency = AlertLatency(SETTINGS, since_ms=0)
    report, _ = _ids()
    latency.accepted(report, 100.0)
    latency.alerted(str(uuid.uuid4()), 100.2)
    assert latency.take() == [] and latency.paired == 0
    assert _case_of(b"not json") is None
    assert _case_of(b"[1, 2]") is None
    assert _case_of(None) is None
    assert _case_of(b'{"case_id": "abc", "department": "CG"}') == "abc"


def test_the_transport_reports_every_202_with_its_report_id_and_the_simulator_still_reads_the_body() -> None:
    report_id = str(uuid.uuid4())
    seen: list[tuple[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/reports"):
            return httpx.Response(202, json={"report_id": report_id, "status": "received", "received_at": "x"})
        if request.url.path.endswith("/events"):
            return httpx.Response(409, json={"field": "report_id"})
        return httpx.Response(202, text="not json")

    async def run() -> list[httpx.Response]:
        transport = RecordingTransport(lambda rid, at: seen.append((rid, at)), inner=httpx.MockTransport(answer))
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            return [
                await client.post("/api/v1/reports", json={}),
                await client.post("/api/v1/networks/urban/events", json={}),
                await client.post("/api/v1/other", json={}),
            ]

    first, conflict, odd = asyncio.run(run())
    assert [rid for rid, _ in seen] == [report_id]  # the 409 and the unreadable 202 are not acceptances
    assert first.json()["report_id"] == report_id  # the body survives being read in the transport
    assert conflict.status_code == 409 and odd.text == "not json"
