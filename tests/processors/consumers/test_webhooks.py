"""Webhooks: signed, retried with back-off, given up at last, every attempt logged; the config file checked."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from webhook_receiver import Receiver

from district import load_registry
from infra.datafile import DataFileError
from infra.settings import Settings
from processors.consumers.webhooks import (
    DepartmentPusher,
    Webhook,
    load_webhooks,
    shown_url,
    signature,
)
from schemas.webhook import WebhookDelivery

SECRET = "a-long-shared-secret-0123"
DEPARTMENTS = frozenset(d.code for d in load_registry().departments)


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(getattr(request, "param", 0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def _pusher(url: str, log: list[WebhookDelivery]) -> DepartmentPusher:
    return DepartmentPusher(Settings(), Webhook("CG", url, SECRET), threading.Event(), delays=(0.05, 0.1), log=log.append)


@pytest.mark.parametrize("receiver", [2], indirect=True)
def test_retried_until_delivered_and_signed(receiver: Receiver) -> None:
    log: list[WebhookDelivery] = []
    body = json.dumps({"alert_id": "c1:2:CG", "case_no": "XL-20261125-0001"}, ensure_ascii=False).encode()
    with httpx.Client() as client:
        assert _pusher(receiver.url, log).push(client, "c1:2:CG", body)
    assert [(r.attempt, r.outcome, r.status) for r in log] == [(1, "failed", 500), (2, "failed", 500), (3, "delivered", 200)]
    headers, got = receiver.received[-1]
    assert got == body and headers["X-Gridflow-Delivery"] == "c1:2:CG"
    stamp = int(headers["X-Gridflow-Timestamp"])
    assert abs(stamp - time.time()) < 60  # the receiver refuses a stale one: a replayed request
    want = "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Gridflow-Signature"] == want == signature(SECRET, body, stamp)
    assert signature(SECRET, body, stamp + 1) != want  # the time is signed too


@pytest.mark.parametrize("receiver", [99], indirect=True)
def test_given_up_after_the_last_delay(receiver: Receiver) -> None:
    log: list[WebhookDelivery] = []
    with httpx.Client() as client:
        assert not _pusher(receiver.url, log).push(client, "c1:2:CG", b"{}")
    assert [r.outcome for r in log] == ["failed", "failed", "gave_up"] and len(receiver.received) == 3
    assert log[0].next_attempt_at is not None and log[-1].next_attempt_at is None


def test_the_delivery_log_shows_no_credentials() -> None:
    assert shown_url("https://cg:s3cret@hook.example:8443/in/gridflow?token=abc#x") == "https://hook.example:8443/in/gridflow"
    assert shown_url("http://[::1]/hook?key=1") == "http://[::1]/hook"
    log: list[WebhookDelivery] = []
    with httpx.Client(timeout=1) as client:
        _pusher("http://user:pw@127.0.0.1:9/none?sig=abc", log).push(client, "a", b"{}")
    assert log and all(r.url == "http://127.0.0.1:9/none" for r in log)


def test_an_unreachable_endpoint_is_an_error_not_a_crash() -> None:
    log: list[WebhookDelivery] = []
    with httpx.Client(timeout=1) as client:
        assert not _pusher("http://127.0.0.1:9/none", log).push(client, "a", b"{}")
    assert log[-1].outcome == "gave_up" and "ConnectError" in (log[-1].error or "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("webhooks:\n  NOPE: {url: https://x, secret: 0123456789abcdef}\n", "webhooks.yaml:2: unknown department code 'NOPE'"),
        ("webhooks:\n  CG: {url: ftp://x, secret: 0123456789abcdef}\n", "webhooks.yaml:2: url of CG must start"),
        ("webhooks:\n  CG:\n    url: https://x\n    secret: short\n", "webhooks.yaml:4: secret of CG must be at least 16"),
    ],
)
def test_a_bad_webhooks_file_names_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "webhooks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as failure:
        load_webhooks(path, DEPARTMENTS)
    assert problem in str(failure.value)


def test_a_good_webhooks_file(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.yaml"
    path.write_text("webhooks:\n  CG: {url: 'https://cg.example/hook', secret: 0123456789abcdef}\n", encoding="utf-8")
    assert load_webhooks(path, DEPARTMENTS) == [Webhook("CG", "https://cg.example/hook", "0123456789abcdef")]


@pytest.mark.integration
@pytest.mark.parametrize("receiver", [1], indirect=True)
def test_a_workers_alert_reaches_the_departments_system(pipeline_settings: Settings, receiver: Receiver, tmp_path: Path) -> None:
    """Through the real pipeline: CG's alert is pushed, signed, after one refused attempt; the log shows both."""
    from harness import report_body, start_pipeline, wait_for_state

    from gridflow import services

    hooks = tmp_path / "webhooks.yaml"
    hooks.write_text(f"webhooks:\n  CG: {{url: '{receiver.url}', secret: {SECRET}}}\n", encoding="utf-8")
    pipeline = start_pipeline(pipeline_settings.replace(webhooks_file=str(hooks)))
    try:
        body = report_body()  # street light → CG
        with pipeline.client() as worker:
            assert worker.post("/api/v1/reports", json=body).status_code == 202
            case = wait_for_state(worker, body["report_id"], "dispatched", timeout=90)
        services.wait_until(lambda: len(receiver.received) >= 2, 60, "the push, after one retry")
        headers, raw = receiver.received[-1]
        alert = json.loads(raw)
        assert alert["case_id"] == case["case_id"] and alert["department"] == "CG"
        assert alert["reporter_phone_masked"] == "138****5678" and "13812345678" not in raw.decode()
        assert headers["X-Gridflow-Signature"] == signature(SECRET, raw, int(headers["X-Gridflow-Timestamp"]))
        with pipeline.client("staff") as cg:  # a CG clerk reads his department's log

            def logged() -> list[tuple[int, str]]:
                rows = cg.get("/api/v1/webhooks/deliveries").json()
                return sorted((r["attempt"], r["outcome"]) for r in rows if r["alert_id"] == alert["alert_id"])

            services.wait_until(lambda: logged() == [(1, "failed"), (2, "delivered")], 60, "the delivery log")
        time.sleep(3)
        assert len(receiver.received) == 2  # delivered once: not pushed again
    finally:
        pipeline.stop()
