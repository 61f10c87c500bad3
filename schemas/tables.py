"""Which record lives in which ClickHouse table (declared once)."""

from __future__ import annotations

from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.clickhouse import Table
from schemas.dead_letter import RejectedEvent
from schemas.report import AcceptedReport
from schemas.webhook import WebhookDelivery

#: The report that opened a case (``case_id`` added), keyed by ``report_id``.
REPORTS = Table("reports", AcceptedReport, extra=(("case_id", "UUID"),))
#: One row per case and version ``seq``; read with ``FINAL`` or ``argMax(…, seq)``.
CASES = Table("cases", Case)
#: Every version of every case, kept: ``ORDER BY (case_id, seq)``, so only a re-delivered
#: version collapses. The indicators read the case as it stood at a time from it.
CASE_VERSIONS = Table("case_versions", Case)
#: The case-event log, keyed by ``(case_id, seq)``.
CASE_EVENTS = Table("case_events", CaseEvent)

#: The webhook delivery log, one row per (alert_id, attempt).
WEBHOOK_DELIVERIES = Table("webhook_deliveries", WebhookDelivery)

#: Network events refused at import (bad lines), one row per (network, file, line, digest).
REJECTED_EVENTS = Table("rejected_events", RejectedEvent)

ALL = (REPORTS, CASES, CASE_VERSIONS, CASE_EVENTS, WEBHOOK_DELIVERIES, REJECTED_EVENTS)
