"""The Faust app with its topics and tables, built from settings (no I/O at import).

The agents (:mod:`processors.agents`) are registered on it by the worker;
they take a :class:`Pipeline` and import it for typing only, so this module
knows no agent.

Keys travel as raw UTF-8 bytes on every topic and table: the intake's
kafka-python producer, Faust's producer and Faust's table router then hash a
key to the same partition, which is what lets a web view find the worker
that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import faust
from faust.types import TopicT

from classifier import ReportClassifier
from district import Registry
from infra.kafka import faust_credentials
from infra.settings import Settings
from processors.clock import Clock
from processors.guard import RecordGuard
from processors.lifecycle.context import Context
from processors.lifecycle.due_index import DueIndex
from routing.merge_rules import MergeRules
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
    #: routing rules, calendar, confidence bound, departments: what the pure case logic needs
    context: Context
    #: when a report is one more of an open case (routing/data/merge.yaml)
    merge_rules: MergeRules
    reports: TopicT
    rejected: TopicT
    openings: TopicT
    commands: TopicT
    replies: TopicT
    case_events: TopicT
    cases: TopicT
    #: records an agent or consumer could not use (schemas.dead_letter.DeadLetter): gridflow dlq
    dead_letters: TopicT
    #: report_id → {fingerprint, case_id, reporter_id, received_at}
    report_links: Any
    #: case_id → case number, in the partition of the town that numbered it
    case_numbers: Any
    #: "<town>-<day>" → last sequence number used that day
    sequences: Any
    #: case_id → the case (schemas.case.Case as JSON)
    case_table: Any
    #: case_id → {"<actor>:<action_id>": the verdict given (ActionVerdict as JSON)}, its latest: a retry is answered again
    action_table: Any
    #: "<town>:cell:<cell>" / "<town>:grid:<grid>" → the open cases filed there (processors.lifecycle.incidents)
    candidates: Any
    #: case_id → the merge decided for its report ({} for none), in the town's partition: a replay is answered alike
    merge_decisions: Any
    #: "<case>:<report case>" → reports it brought; "<case>:r:<reporter>" → links by that reporter (idempotent counts)
    link_table: Any
    #: case_id → its events so far (schemas.case_event.CaseEvent as JSON, in seq order): GET /cases/{id}
    history_table: Any
    #: this worker's open cases by their next escalation time: the deadline timer's index (memory only)
    due_index: DueIndex = field(default_factory=DueIndex)
    _alert_topics: dict[str, TopicT] = field(default_factory=dict)

    def each(self, topic: TopicT, name: str, handle: Callable[[Pipeline, Any], Awaitable[None]]) -> None:
        """Register the agent ``name``: ``handle`` on every record of ``topic``, one at a time, in order.

        The agent reads the topic's raw bytes and decodes them itself, so a
        record that is not the topic's record — or one ``handle`` fails on —
        is dead-lettered instead of stopping the agent
        (:class:`~processors.guard.RecordGuard`).
        """
        full_name = topic.get_topic_name()
        guard = RecordGuard(
            name,
            full_name[len(self.settings.topic_prefix) + 1 :],
            topic.value_serializer.model,  # the topic's ModelCodec (topic_for)
            lambda letter: self.dead_letters.send(key=letter.id.encode(), value=letter),
            self.clock.now,
            self.settings.kafka_backoff_max_s,
        )
        raw = self.app.topic(
            full_name, key_type=bytes, key_serializer="raw", value_serializer="raw", partitions=self.settings.kafka_partitions
        )

        async def agent(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                await guard.run(event.message, lambda record: handle(self, record))

        # Faust's logs and supervisor name an agent by its function: give it the agent's name.
        agent.__name__ = agent.__qualname__ = name.replace("-", "_")
        self.app.agent(raw, name=name)(agent)

    def alerts(self, department: str) -> TopicT:
        """The alert topic of ``department`` (made on first use)."""
        if department not in self._alert_topics:
            self._alert_topics[department] = topic_for(
                self.app, self.settings, spec.alerts_topic(department), spec.ALERTS_RECORD
            )
        return self._alert_topics[department]


def topic_for(app: faust.App, settings: Settings, name: str, record: type) -> TopicT:
    """The Faust topic ``name`` (prefixed), raw keys, values in ``record``'s JSON."""
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
    "case-actions": "case_id → its latest verdicts by actor and action_id",
    "case-history": "case_id → its events",
    "incident-candidates": "town and place → open cases",
    "merge-decisions": "case_id → merged into",
    "case-links": "case and report case → linked",
}


def store_options(settings: Settings) -> dict[str, Any]:
    """RocksDB options of one table partition, sized so that every table's partitions fit a worker together.

    Faust's defaults (a 2 GiB block cache and three 64 MiB memtables for each
    partition of each table) suit one large table; a worker here holds nine
    tables of ``kafka_partitions`` partitions each — 36 databases at 4.
    """
    if not settings.table_store.startswith("rocksdb"):
        return {}
    mib = 1024 * 1024
    return {
        "block_cache_size": int(settings.table_cache_mb * mib),
        "block_cache_compressed_size": 0,
        "write_buffer_size": int(settings.table_write_buffer_mb * mib),
        "max_write_buffer_number": 2,
        "target_file_size_base": 16 * mib,
        "max_open_files": 64,
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


def build(
    settings: Settings,
    clock: Clock,
    registry: Registry,
    classifier: ReportClassifier,
    context: Context,
    merge_rules: MergeRules,
) -> Pipeline:
    """Create the Faust app and declare its topics and tables (the worker registers the agents)."""
    worker_dir = settings.home / "faust" / f"{settings.worker_id}-{settings.worker_web_port}"
    worker_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.worker_id,
        broker=f"kafka://{settings.bootstrap}",
        broker_credentials=faust_credentials(settings),
        store=settings.table_store,
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

    def topic(declared: spec.TopicSpec) -> TopicT:
        return topic_for(app, settings, declared.name, declared.record)

    def table(name: str) -> Any:
        return app.Table(
            name,  # Faust prefixes the app id (settings.worker_id) to the changelog topic
            key_type=bytes,  # raw keys: see the module docstring
            partitions=settings.kafka_partitions,
            help=TABLES[name],
            options=store_options(settings),  # a dict of its own: Faust's store pops keys from it
        )

    return Pipeline(
        app=app,
        settings=settings,
        clock=clock,
        registry=registry,
        classifier=classifier,
        context=context,
        reports=topic(spec.REPORTS),
        rejected=topic(spec.REPORTS_REJECTED),
        openings=topic(spec.CASE_OPENINGS),
        commands=topic(spec.CASE_COMMANDS),
        replies=topic(spec.CASE_REPLIES),
        case_events=topic(spec.CASE_EVENTS),
        cases=topic(spec.CASES),
        dead_letters=topic(spec.DEAD_LETTERS),
        report_links=table("report-links"),
        case_numbers=table("case-numbers"),
        sequences=table("case-sequences"),
        case_table=table("cases"),
        action_table=table("case-actions"),
        history_table=table("case-history"),
        candidates=table("incident-candidates"),
        merge_decisions=table("merge-decisions"),
        link_table=table("case-links"),
        merge_rules=merge_rules,
    )
