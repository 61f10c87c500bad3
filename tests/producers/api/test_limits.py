"""Hostile input at the HTTP edge: a big body is a 413 before it is read, a bug is a 500 (never a 503).

The unit tests drive the real middleware and error handlers in a small
FastAPI app, counting the bytes the server hands it; the integration test
runs the real intake process and watches its peak memory while it is sent
2 MiB and 64 MiB bodies, with and without a token, sized and chunked.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

from producers.api import errors
from producers.api.limits import BodyLimit

LIMIT = 64 * 1024
MIB = 1024 * 1024


class Note(BaseModel):
    text: str


class Pulled:
    """The server side: counts the body bytes the app (through the middleware) took from the connection."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.bytes += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def _app(handled: list[str]) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=LIMIT)

    @app.post("/notes")
    async def post_note(note: Note) -> dict[str, int]:
        handled.append("notes")
        return {"chars": len(note.text)}

    @app.post("/api/v1/photos")
    async def post_photo(request: Request) -> dict[str, int]:
        handled.append("photos")
        return {"bytes": len(await request.body())}

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug, not an outage")

    return app


def _body(size: int) -> bytes:
    return json.dumps({"text": "x" * size}).encode()


async def _chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _post(content: Any, path: str = "/notes", **headers: str) -> tuple[httpx.Response, Pulled, list[str]]:
    handled: list[str] = []
    server = Pulled(_app(handled))

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=server, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            return await client.post(path, content=content, headers={"content-type": "application/json", **headers})

    return asyncio.run(go()), server, handled


def _is_413(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text
    assert answer.json() == {"error": "too_large", "message": f"请求体超过 {LIMIT} 字节 上限", "field": "body",
                             "max_bytes": LIMIT}  # fmt: skip


def test_a_declared_length_over_the_limit_is_refused_without_reading_a_byte() -> None:
    answer, server, handled = _post(_body(LIMIT))
    _is_413(answer)
    assert server.bytes == 0 and handled == []


def test_a_chunked_body_over_the_limit_is_refused_once_the_limit_is_passed() -> None:
    data = _body(4 * LIMIT)
    answer, server, handled = _post(_chunks(data))
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    _is_413(answer)
    assert server.bytes <= LIMIT + 16 * 1024 < len(data)  # read up to the limit, not a chunk further
    assert handled == []


def test_a_body_within_the_limit_goes_through_sized_or_chunked() -> None:
    data = _body(LIMIT - 100)
    for content in (data, _chunks(data)):
        answer, server, handled = _post(content)
        assert (answer.status_code, answer.json(), handled) == (200, {"chars": LIMIT - 100}, ["notes"])
        assert server.bytes == len(data)


def test_the_photo_upload_keeps_its_own_limit() -> None:
    answer, _server, handled = _post(b"\xff\xd8\xff" + bytes(3 * LIMIT), path="/api/v1/photos")
    assert (answer.status_code, answer.json(), handled) == (200, {"bytes": 3 * LIMIT + 3}, ["photos"])


def test_the_limit_in_megabytes_is_said_so() -> None:
    assert errors.too_large(MIB).message == "请求体超过 1 MB 上限"


def test_a_bug_is_a_500_in_the_error_shape_and_not_a_503() -> None:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app([]), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            return await client.get("/bug")

    answer = asyncio.run(go())
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal_error"
    assert "retry-after" not in answer.headers  # nothing for a client to retry


def test_no_handler_turns_every_exception_into_a_503() -> None:
    app = FastAPI()
    errors.install(app)
    assert Exception not in app.exception_handlers  # only ApiError, validation, HTTP errors — and bugs as 500
    assert errors.unavailable("消息队列暂不可用").status == 503  # a 503 is raised where a dependency is called


# --- the audit trail does not block the event loop -----------------------------------------------


def test_the_audit_trail_waits_for_the_accounts_off_the_event_loop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from infra.settings import Settings
    from producers.api import listings
    from schemas.account import Account
    from schemas.vocabulary import Role

    admin = Account(user_id="admin", role=Role.ADMIN, token_sha256="0" * 64, created_at=datetime.now(UTC))
    monkeypatch.setattr(listings, "require", lambda *permissions: lambda: admin)  # the token check is not tested here

    def slow_accounts() -> list[Account]:
        time.sleep(1.0)  # AccountDirectory.accounts waits up to 5 s for the accounts topic
        return [admin]

    async def no_rows(self: Any, sql: str, names: Any, **params: Any) -> list[dict[str, Any]]:
        return []  # ClickHouse is not what this test is about

    monkeypatch.setattr(listings.ClickHouseReader, "dicts", no_rows)
    app = FastAPI()
    listings.add_listing_routes(app, Settings(home=tmp_path), tmp_path / "grids.geojson", slow_accounts)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    async def go() -> tuple[float, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                     headers={"Authorization": "Bearer gf_x"}) as client:  # fmt: skip
            started = time.monotonic()
            audit = asyncio.create_task(client.get("/api/v1/audit"))
            await asyncio.sleep(0.2)  # the audit is waiting for the accounts now (a blocked loop wakes later)
            assert (await client.get("/ping")).status_code == 200
            took = time.monotonic() - started
            return took, (await audit).status_code

    took, status = asyncio.run(go())
    assert status == 200
    assert took < 0.7, f"a request waited {took - 0.2:.2f} s behind the audit's catch-up"


@pytest.mark.parametrize("query", ["since=0001-01-01T00:00:00", "until=9999-12-31T00:00:00%2B08:00", "since=1969-01-01"])
def test_an_audit_period_outside_2000_to_2099_is_a_422(query: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from infra.settings import Settings
    from producers.api import listings
    from schemas.account import Account
    from schemas.vocabulary import Role

    admin = Account(user_id="admin", role=Role.ADMIN, token_sha256="0" * 64, created_at=datetime.now(UTC))
    monkeypatch.setattr(listings, "require", lambda *permissions: lambda: admin)
    app = FastAPI()
    errors.install(app)
    listings.add_listing_routes(app, Settings(home=tmp_path), tmp_path / "grids.geojson")

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                     headers={"Authorization": "Bearer gf_x"}) as client:  # fmt: skip
            return await client.get(f"/api/v1/audit?{query}")

    answer = asyncio.run(go())
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"][0]["field"] in ("query.since", "query.until")


# --- the real intake process ----------------------------------------------------------------------


def _peak_rss_kib(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _report_with_text(size: int) -> bytes:
    from harness import report_body

    return json.dumps(report_body(description="井" * 2 + "x" * size)).encode()


def _stream(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.integration
def test_the_intake_refuses_big_bodies_before_reading_them(pipeline_settings: Any) -> None:
    from harness import report_body

    from accounts.directory import add_account
    from district import load_registry
    from gridflow import services
    from infra.kafka import ensure_topics
    from schemas.topics import declared
    from schemas.vocabulary import Role

    settings = pipeline_settings
    assert settings.intake_body_max_bytes == MIB
    ensure_topics(settings, declared(load_registry().department_codes))
    intake = services.intake(settings).start()
    try:
        services.wait_until(services.intake_ready(settings), 90, "intake")
        token = add_account(settings, "wgy-xl-0203", Role.GRID_WORKER, town="XL")
        json_type = {"Content-Type": "application/json"}
        with httpx.Client(base_url=settings.intake_url, timeout=60) as anonymous, httpx.Client(
            base_url=settings.intake_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as signed:
            # warm up every path once (imports, pydantic schemas), then take the peak as the baseline
            assert signed.post("/api/v1/reports", json=report_body()).status_code == 202
            assert anonymous.post("/api/v1/reports", json=report_body()).status_code == 401
            assert signed.post("/api/v1/reports", content=_report_with_text(2 * MIB), headers=json_type).status_code == 413
            assert intake.pid is not None
            before = _peak_rss_kib(intake.pid)

            two_mib = _report_with_text(2 * MIB)
            answers = []
            for client in (anonymous, signed):
                answers.append(client.post("/api/v1/reports", content=two_mib, headers=json_type))  # Content-Length
                answers.append(client.post("/api/v1/reports", content=_stream(two_mib), headers=json_type))  # chunked
                push = "/api/v1/networks/hotline12345/events"
                answers.append(client.post(push, content=_stream(two_mib), headers=json_type))
            sixty_four = _report_with_text(64 * MIB)
            answers.append(signed.post("/api/v1/reports", content=sixty_four, headers=json_type))
            answers.append(anonymous.post("/api/v1/reports", content=_stream(sixty_four), headers=json_type))
            for answer in answers:
                assert answer.status_code == 413, answer.text
                assert answer.json() == {"error": "too_large", "message": "请求体超过 1 MB 上限", "field": "body",
                                         "max_bytes": MIB}  # fmt: skip
            chunked = [a for a in answers if "content-length" not in a.request.headers]
            assert len(chunked) == 5

            grown_mib = (_peak_rss_kib(intake.pid) - before) / 1024
            print(f"the intake's peak memory grew by {grown_mib:.1f} MiB over {len(answers)} refused bodies")
            # Read whole, one 64 MiB body alone would have cost more than 128 MiB (bytes, then text).
            assert grown_mib < 24, f"the intake's peak memory grew by {grown_mib:.0f} MiB"

            # and the intake still takes an ordinary report, and a body just under the limit is read
            body = report_body()
            assert signed.post("/api/v1/reports", json=body).status_code == 202
            near = json.dumps(report_body(description="x" * (MIB - 2000))).encode()
            assert len(near) < MIB
            refused = signed.post("/api/v1/reports", content=near, headers=json_type)
            assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "description"
    finally:
        intake.stop()
