"""The Faust app with its topics and tables, built from settings (no I/O at import).

Keys travel as raw UTF-8 bytes on every topic and table: the intake's
kafka-python producer, Faust's producer and Faust's table router then hash a
key to the same partition, which is what lets a web view find the worker
that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import TopicT

from classifier import ReportClassifier
from district import Registry
from gridflow.settings import Settings
from processors.clock import Clock
from processors.lifecycle import Context
from routing import RuleSet, WorkingCalendar
from schemas import topics as spec
from schemas.codec import ModelCodec


@dataclass
class Pipeline:
    """Everything an agent needs: the app, its topics and tables, the clock, and the district's data."""

    app: faust.App
    settings: Settings
    clock: Clock
    registry: Registry
    classifier: ReportClassifier
    rules: RuleSet
    calendar: WorkingCalendar
    reports: TopicT
    rejected: TopicT
    openings: TopicT
    commands: TopicT
    replies: TopicT
    case_events: TopicT
    cases: TopicT
    #: report_id → {fingerprint, case_id, reporter_id, received_at}
    report_links: Any
    #: case_id → case number, in the partition of the town that numbered it
    case_numbers: Any
    #: "<town>-<day>" → last sequence number used that day
    sequences: Any
    #: case_id → the case (schemas.case.Case as JSON)
    case_table: Any
    #: action_id → the verdict given (schemas.case_flow.ActionVerdict as JSON): a retried action is answered again
    action_table: Any
    #: case_id → its events so far (schemas.case_event.CaseEvent as JSON, in seq order): GET /cases/{id}
    history_table: Any
    lifecycle: Context
    _alert_topics: dict[str, TopicT] = field(default_factory=dict)

    def topic(self, topic: spec.TopicSpec) -> TopicT:
        """A Faust topic for a declared topic spec."""
        return topic_for(self.app, self.settings, topic.name, topic.record)

    def alerts(self, department: str) -> TopicT:
        """The alert topic of ``department`` (made on first use)."""
        if department not in self._alert_topics:
            self._alert_topics[department] = topic_for(
                self.app, self.settings, spec.alerts_topic(department), spec.ALERTS_RECORD
            )
        return self._alert_topics[department]


def topic_for(app: faust.App, settings: Settings, name: str, record: type) -> TopicT:
    return app.topic(
        settings.topic(name),
        key_type=bytes,
        key_serializer="raw",
        value_serializer=ModelCodec(record),
        partitions=settings.kafka_partitions,
    )


#: The workers' tables (name → what it holds); each has a compacted changelog topic.
TABLES = {
    "report-links": "report_id → its case",
    "case-numbers": "case_id → case number",
    "case-sequences": "town-day → last number",
    "cases": "case_id → current case",
    "case-actions": "action_id → verdict",
    "case-history": "case_id → its events",
}


def internal_topics(settings: Settings) -> list[tuple[str, dict[str, str], int]]:
    """The topics Faust would create for itself, named as Faust names them.

    Created up front so that they exist, and are visible, before a worker
    joins its group: Faust ignores for good a topic missing at that moment.
    """
    compact = {"cleanup.policy": "compact"}
    topics = [(f"{settings.worker_id}-{name}-changelog", compact, settings.kafka_partitions) for name in TABLES]
    # Faust's leader-election topic has one partition.
    return topics + [(f"{settings.worker_id}-__assignor-__leader", compact, 1)]


def _table(app: faust.App, settings: Settings, name: str, help: str) -> Any:
    return app.Table(
        name,  # Faust prefixes the app id (settings.worker_id) to the changelog topic
        key_type=bytes,  # raw keys: see the module docstring
        partitions=settings.kafka_partitions,
        help=help,
    )


def build(
    settings: Settings,
    clock: Clock,
    registry: Registry,
    classifier: ReportClassifier,
    rules: RuleSet,
    calendar: WorkingCalendar,
) -> Pipeline:
    """Create the Faust app, declare its topics and tables, and register every agent."""
    from processors import accept, case, numbering, timers, views

    worker_dir = settings.home / "faust" / f"{settings.worker_id}-{settings.worker_web_port}"
    worker_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.worker_id,
        broker=f"kafka://{settings.bootstrap}",
        store="memory://",
        datadir=str(worker_dir),
        autodiscover=False,
        topic_partitions=settings.kafka_partitions,
        topic_replication_factor=settings.kafka_replication,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        web_bind=settings.worker_web_host,
        web_host=settings.canonical_host,
        web_port=settings.worker_web_port,
        canonical_url=f"http://{settings.canonical_host}:{settings.worker_web_port}",
        web_in_thread=False,
        table_standby_replicas=0,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.worker_session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.worker_session_timeout_s / 4),
        stream_wait_empty=False,
    )
    p = Pipeline(
        app=app,
        settings=settings,
        clock=clock,
        registry=registry,
        classifier=classifier,
        rules=rules,
        calendar=calendar,
        reports=topic_for(app, settings, spec.REPORTS.name, spec.REPORTS.record),
        rejected=topic_for(app, settings, spec.REPORTS_REJECTED.name, spec.REPORTS_REJECTED.record),
        openings=topic_for(app, settings, spec.CASE_OPENINGS.name, spec.CASE_OPENINGS.record),
        commands=topic_for(app, settings, spec.CASE_COMMANDS.name, spec.CASE_COMMANDS.record),
        replies=topic_for(app, settings, spec.CASE_REPLIES.name, spec.CASE_REPLIES.record),
        case_events=topic_for(app, settings, spec.CASE_EVENTS.name, spec.CASE_EVENTS.record),
        cases=topic_for(app, settings, spec.CASES.name, spec.CASES.record),
        report_links=_table(app, settings, "report-links", TABLES["report-links"]),
        case_numbers=_table(app, settings, "case-numbers", TABLES["case-numbers"]),
        sequences=_table(app, settings, "case-sequences", TABLES["case-sequences"]),
        case_table=_table(app, settings, "cases", TABLES["cases"]),
        action_table=_table(app, settings, "case-actions", TABLES["case-actions"]),
        history_table=_table(app, settings, "case-history", TABLES["case-history"]),
        lifecycle=Context(
            rules=rules,
            calendar=calendar,
            min_confidence=settings.classifier_min_confidence,
            departments=frozenset(d.code for d in registry.departments),
        ),
    )
    for module in (accept, numbering, case, timers, views):
        module.register(p)
    return p
