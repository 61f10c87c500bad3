"""The import's bookkeeping against a stand-in intake (HTTP only; the real one is in the integration test)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from producers.imports.files import Record
from producers.imports.run import ImportStopped, ImportSummary, import_records
from schemas.vocabulary import SourceNetwork


def _records(*payloads: dict | None) -> list[Record]:
    return [
        Record(line=i + 2, raw=json.dumps(p).encode() if p else b"garbage\n", payload=p, error=None if p else "坏行")
        for i, p in enumerate(payloads)
    ]


class StandIn:
    """Answers by the payload's ``kind``: new, repeat, conflict, invalid, triage, flaky (one 503 first)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.flaked: set[str] = set()

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.calls.append(body)
        assert request.url.path == "/api/v1/networks/urban/events"
        assert request.headers["Authorization"] == "Bearer tok"
        kind = body["kind"]
        receipt = {"report_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12, "status": "received", "received_at": "2026-11-25T00:00:00Z"}
        if kind == "flaky" and body["id"] not in self.flaked:
            self.flaked.add(body["id"])
            return httpx.Response(503, json={"error": "unavailable"})
        if kind in ("new", "flaky"):
            return httpx.Response(202, json=receipt)
        if kind == "triage":
            return httpx.Response(202, json={**receipt, "mapping_note": "未知的部件编码"})
        if kind == "repeat":
            return httpx.Response(202, json=receipt, headers={"X-Gridflow-Repeat": "1"})
        if kind == "conflict":
            return httpx.Response(409, json={"error": "conflict", "field": "report_id"})
        if kind == "refused":
            return httpx.Response(403, json={"error": "forbidden"})
        return httpx.Response(422, json={"error": "invalid_event", "fields": [{"field": "fssj", "message": "时间格式不对"}]})


def _run(records: list[Record], stand_in: StandIn, letters: list) -> ImportSummary:
    summary = ImportSummary(file="f.csv", network="urban", encoding="utf-8-sig")
    return asyncio.run(
        import_records(
            iter(records), summary, url="http://intake", token="tok", network=SourceNetwork.URBAN,
            dead_letter=lambda record, reason, field: letters.append((record.line, reason, field, record.raw)),
            concurrency=4, transport=httpx.MockTransport(stand_in.handler),
        )  # fmt: skip
    )


def test_every_outcome_is_counted_and_bad_lines_are_dead_lettered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("producers.imports.run.RETRY_DELAYS_S", (0.01,))
    kinds = ["new", "new", "repeat", "conflict", "invalid", "triage", "flaky"]
    records = _records(*[{"kind": k, "id": str(i)} for i, k in enumerate(kinds)], None)
    letters: list = []
    stand_in = StandIn()
    summary = _run(records, stand_in, letters)
    assert (summary.read, summary.accepted, summary.repeats, summary.conflicts, summary.bad, summary.triage) == (
        8, 4, 1, 1, 2, 1,
    )
    assert sorted(line for line, *_ in letters) == [6, 9]
    assert (6, "fssj: 时间格式不对", "fssj") in [(line, reason, field) for line, reason, field, _raw in letters]
    assert (9, "坏行", None, b"garbage\n") in letters
    assert [line for line, _ in summary.problems] == [5, 6, 9]
    assert len(stand_in.calls) == 8  # 7 records, one of them twice (the 503)


def test_a_refused_token_stops_the_import() -> None:
    with pytest.raises(ImportStopped):
        _run(_records({"kind": "refused", "id": "1"}), StandIn(), [])


def test_an_intake_that_stays_down_stops_the_import_with_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("producers.imports.run.RETRY_DELAYS_S", (0.01, 0.01))

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    summary = ImportSummary(file="f.csv", network="urban", encoding="utf-8-sig")
    with pytest.raises(ImportStopped) as stopped:
        asyncio.run(
            import_records(
                iter(_records({"kind": "new", "id": "1"})), summary, url="http://intake", token="tok",
                network=SourceNetwork.URBAN, dead_letter=lambda *a: None, transport=httpx.MockTransport(down),
            )  # fmt: skip
        )
    assert stopped.value.line == 2
