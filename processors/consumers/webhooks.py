"""Outbound webhooks (推送): each configured department's alerts POSTed to its own system.

Configured as data (``GRIDFLOW_WEBHOOKS_FILE``, YAML: department → url and
secret; validated at start-up with file:line errors). One thread per
configured department follows ``alerts.<DEPT>`` in its own consumer group,
so a department whose endpoint is down holds up only itself. Each alert is
POSTed as JSON with

* ``X-Gridflow-Delivery``: the alert id (the same on every retry: the
  receiver deduplicates by it),
* ``X-Gridflow-Timestamp``: when this attempt was signed (Unix seconds),
* ``X-Gridflow-Signature: sha256=<hex>``: HMAC-SHA256, with the
  department's secret, of ``<timestamp>.`` followed by the body — so the
  receiver knows it came from gridflow, and, refusing timestamps more than
  five minutes off its clock, that it is not a recorded request played
  again (the scheme of Stripe's and Slack's webhooks),

and retried with exponential back-off (``retry_delays``) until a 2xx; after
the last delay it is given up. Every attempt goes to the delivery log (the
``webhook-deliveries`` topic → ClickHouse), and the offset is committed only
after the alert was delivered or given up: a restart re-sends, never skips.
The log shows the endpoint without the credentials a URL may carry (user,
password, query): department staff read it. A record on the topic that is
not an alert is dead-lettered, and the pusher goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from infra.datafile import Doc, read_doc
from infra.kafka import producer
from infra.settings import Settings
from processors.consumers.dead_letters import DeadLetters
from processors.consumers.loop import (
    Records,
    committing_consumer,
    poll_records,
    run_committing,
)
from schemas.alert import DepartmentAlert
from schemas.topics import WEBHOOK_DELIVERIES, alerts_topic
from schemas.webhook import WebhookDelivery

logger = logging.getLogger(__name__)

RETRY_DELAYS_S: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Webhook:
    """Where one department's alerts go, and the secret they are signed with."""

    department: str
    url: str
    secret: str


def load_webhooks(path: str | Path, departments: frozenset[str]) -> list[Webhook]:
    """Read and check the webhooks file; DataFileError names the file and line of a problem."""
    doc: Doc = read_doc(Path(path))
    root = doc.mapping(doc.root, 1, "the webhooks file")
    doc.only_keys(root, ("webhooks",), "the webhooks file")
    entries = root.get("webhooks") or {}
    table = doc.mapping(entries, root.line_of("webhooks") if "webhooks" in root else 1, "webhooks")
    hooks = []
    for code, entry in table.items():
        line = table.line_of(code)
        if code not in departments:
            doc.fail(line, f"unknown department code {code!r}")
        m = doc.mapping(entry, line, f"webhook of {code}")
        doc.only_keys(m, ("url", "secret"), f"webhook of {code}")
        url = doc.text(m, "url", f"webhook of {code}") or ""
        secret = doc.text(m, "secret", f"webhook of {code}") or ""
        if not url.startswith(("https://", "http://")):
            doc.fail(m.line_of("url"), f"url of {code} must start with https:// (or http:// inside the district's network)")
        if len(secret) < 16:
            doc.fail(m.line_of("secret"), f"secret of {code} must be at least 16 characters")
        hooks.append(Webhook(code, url, secret))
    return hooks


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Gridflow-Signature`` header value for ``body`` signed at ``timestamp`` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def shown_url(url: str) -> str:
    """The endpoint as the delivery log shows it: scheme, host, port and path; no user, password or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class DepartmentPusher:
    """Pushes one department's alerts, in order, to its webhook."""

    def __init__(
        self,
        settings: Settings,
        hook: Webhook,
        stop: threading.Event,
        delays: Sequence[float] = RETRY_DELAYS_S,
        log: Callable[[WebhookDelivery], None] | None = None,
    ) -> None:
        self.settings = settings
        self.hook = hook
        self.stop = stop
        self.delays = tuple(delays)
        self.log = log or self._log_to_kafka
        self._producer = None
        self.delivered = 0
        self.dead_letters = DeadLetters(settings, f"webhook-{hook.department}")
        self.thread = threading.Thread(target=self.run, name=f"webhook-{hook.department}", daemon=True)

    def _log_to_kafka(self, record: WebhookDelivery) -> None:
        if self._producer is None:
            self._producer = producer(self.settings)
        self._producer.send(
            self.settings.topic(WEBHOOK_DELIVERIES.name),
            key=record.alert_id.encode(),
            value=record.model_dump_json().encode(),
        ).get(timeout=self.settings.intake_produce_timeout_s)

    def push(self, client: httpx.Client, alert_id: str, body: bytes) -> bool:
        """Deliver one alert, retrying with back-off; True if delivered, False if given up (or stopping)."""
        for attempt in range(1, len(self.delays) + 2):
            status, error = None, None
            stamp = int(time.time())  # signed anew on every attempt: a retry an hour later is not stale
            headers = {
                "Content-Type": "application/json",
                "X-Gridflow-Delivery": alert_id,
                "X-Gridflow-Timestamp": str(stamp),
                "X-Gridflow-Signature": signature(self.hook.secret, body, stamp),
            }
            try:
                answer = client.post(self.hook.url, content=body, headers=headers)
                status = answer.status_code
                if 200 <= status < 300:
                    self.log(self._record(alert_id, attempt, "delivered", status, None, None))
                    self.delivered += 1
                    return True
                error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            last = attempt > len(self.delays)
            delay = None if last else self.delays[attempt - 1]
            when = datetime.now(timezone.utc) + timedelta(seconds=delay) if delay else None
            self.log(self._record(alert_id, attempt, "gave_up" if last else "failed", status, error, when))
            if last or self.stop.wait(delay or 0):
                return False
        return False

    def _record(
        self, alert_id: str, attempt: int, outcome: str, status: int | None, error: str | None, next_at: datetime | None
    ) -> WebhookDelivery:
        return WebhookDelivery(
            alert_id=alert_id, department=self.hook.department, url=shown_url(self.hook.url), attempt=attempt, outcome=outcome,
            status=status, error=error, at=datetime.now(timezone.utc), next_attempt_at=next_at,
        )  # fmt: skip

    def run(self) -> None:
        """Push every alert of the department's topic, committing after each batch is delivered or given up."""
        department = self.hook.department
        with httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0)) as client:

            def deliver(records: Records) -> bool:
                for record in records:
                    try:
                        alert_id = DepartmentAlert.model_validate_json(record.value).alert_id
                    except Exception as exc:  # not an alert, whatever it is: keep it, push the rest
                        self.dead_letters.write(record, exc)
                        continue
                    if not self.push(client, alert_id, record.value) and self.stop.is_set():
                        return False  # stopping mid-retry: uncommitted, so sent again after a restart
                return True

            run_committing(
                f"webhook {department}",
                lambda: committing_consumer(
                    self.settings, [alerts_topic(department)], f"{self.settings.worker_id}-webhook-{department}", 20
                ),
                lambda consumer: poll_records(consumer, 500),
                deliver,
                self.stop,
            )


class Webhooks:
    """Every configured department's pusher, started and stopped together (inside a worker)."""

    def __init__(self, settings: Settings, hooks: list[Webhook]) -> None:
        self.stop_event = threading.Event()
        self.pushers = [DepartmentPusher(settings, h, self.stop_event) for h in hooks]

    def start(self) -> "Webhooks":
        for p in self.pushers:
            p.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for p in self.pushers:
            p.thread.join(timeout=5)


__all__ = ["Webhook", "Webhooks", "DepartmentPusher", "load_webhooks", "signature"]