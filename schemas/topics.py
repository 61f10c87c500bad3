"""Every Kafka topic gridflow uses, declared once: name, record, key, settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from schemas.account import Account
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import ActionVerdict, CaseCommand, OpeningCommand, RejectedReport
from schemas.dead_letter import DeadLetter, RejectedEvent
from schemas.report import AcceptedReport
from schemas.webhook import WebhookDelivery


@dataclass(frozen=True)
class TopicSpec:
    """A topic: its logical name (prefixed at run time), record and key."""

    name: str
    record: type[BaseModel]
    key: str
    doc: str
    config: dict[str, str] = field(default_factory=dict)


REPORTS = TopicSpec("reports", AcceptedReport, "report_id", "Reports the intake accepted (acks=all).")
REPORTS_REJECTED = TopicSpec(
    "reports.rejected", RejectedReport, "report_id", "Dead letters: reports refused by the processors, with the reason."
)
CASE_OPENINGS = TopicSpec(
    "case-openings", OpeningCommand, "town", "New reports waiting for a case number (or to join an open case); cases no longer open."
)
CASE_COMMANDS = TopicSpec(
    "case-commands", CaseCommand, "case_id", "Opens and actions for the case agent (one writer per case, in order)."
)
CASE_REPLIES = TopicSpec(
    "case-replies", ActionVerdict, "action_id", "The case agent's verdict on each action, for the waiting intake."
)
CASE_EVENTS = TopicSpec("case-events", CaseEvent, "case_id", "Every state change of every case.")
CASES = TopicSpec("cases", Case, "case_id", "The case after each change (versioned by seq).")
WEBHOOK_DELIVERIES = TopicSpec(
    "webhook-deliveries", WebhookDelivery, "alert_id", "Every attempt to push an alert to a department's webhook."
)
ACCOUNTS = TopicSpec(
    "accounts",
    Account,
    "token_sha256",
    "Accounts and their token hashes; compacted, so the latest record per token wins.",
    config={"cleanup.policy": "compact"},
)
NETWORK_EVENTS_REJECTED = TopicSpec(
    "network-events.rejected",
    RejectedEvent,
    "network:file:line",
    "Dead letters: network events that could not be read (an import's bad lines), with the reason and their bytes.",
)
DEAD_LETTERS = TopicSpec(
    "dead-letters",
    DeadLetter,
    "consumer:topic:partition:offset",
    "Dead letters: Kafka records a consumer could not use, with the reason and their bytes (gridflow dlq).",
    config={"cleanup.policy": "compact"},
)
#: ``alerts.<DEPARTMENT>``: one topic per department (派遣通知).
ALERTS_PREFIX = "alerts."
ALERTS_RECORD = DepartmentAlert

ALL = (
    REPORTS, REPORTS_REJECTED, CASE_OPENINGS, CASE_COMMANDS, CASE_REPLIES, CASE_EVENTS, CASES, ACCOUNTS,
    WEBHOOK_DELIVERIES, NETWORK_EVENTS_REJECTED, DEAD_LETTERS,
)  # fmt: skip


def alerts_topic(department: str) -> str:
    """Logical name of a department's alert topic."""
    return f"{ALERTS_PREFIX}{department}"


def declared(departments: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Every topic gridflow declares, as (logical name, config): :data:`ALL` and each department's alerts."""
    return [(t.name, t.config) for t in ALL] + [(alerts_topic(d), {}) for d in sorted(departments)]
