"""The ClickHouse sink: batches of rows, bounded by size and time, retried until written.

It is a plain Kafka consumer with manual commits, running beside the Faust
agents in every worker process (its own consumer group, so it scales with
the workers), rather than a Faust agent. The reason is the commit: Faust
acknowledges events through its own gap-tracking offsets, which have lost
or skipped messages around rebalances (faust-streaming issues #216, #221,
#312, #606, and seen here in a kill -9 test). Here the rule is the simple
one arroyo and snuba use: poll, insert, and commit only after ClickHouse
took the batch.

Idempotent by construction: every row carries its key (and ``seq`` where a
record has versions), the tables are ReplacingMergeTrees and every read
deduplicates (``FINAL`` / ``argMax``). A batch written twice — a crash
between insert and commit, a rebalance — changes no answer. While ClickHouse
is down the sink backs off and retries the same batch; Kafka holds the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from infra.clickhouse import ServerEngine
from infra.settings import Settings
from processors.consumers.dead_letters import DeadLetters
from processors.consumers.loop import (
    Records,
    committing_consumer,
    poll_records,
    run_committing,
)
from schemas import tables, topics
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import CaseOpening, OpeningCommand
from schemas.clickhouse import Table, row
from schemas.dead_letter import RejectedEvent
from schemas.migrate import apply
from schemas.webhook import WebhookDelivery

logger = logging.getLogger(__name__)

RowsOf = Callable[[bytes], Iterable[dict[str, Any]]]

def _report_rows(raw: bytes) -> list[dict[str, Any]]:
    """The report of an opening (the topic also says when a case stops taking new reports: no row)."""
    opening = OpeningCommand.model_validate_json(raw).root
    return [row(opening.report, case_id=opening.case_id)] if isinstance(opening, CaseOpening) else []


def _case_rows(raw: bytes) -> list[dict[str, Any]]:
    return [row(Case.model_validate_json(raw))]


#: topic → the tables it feeds, each with how one message becomes rows
WIRING: dict[str, tuple[tuple[Table, RowsOf], ...]] = {
    topics.CASE_OPENINGS.name: ((tables.REPORTS, _report_rows),),
    # The current case (FINAL keeps the latest) and every version of it (as-of indicators).
    topics.CASES.name: ((tables.CASES, _case_rows), (tables.CASE_VERSIONS, _case_rows)),
    topics.CASE_EVENTS.name: ((tables.CASE_EVENTS, lambda raw: [row(CaseEvent.model_validate_json(raw))]),),
    topics.WEBHOOK_DELIVERIES.name: (
        (tables.WEBHOOK_DELIVERIES, lambda raw: [row(WebhookDelivery.model_validate_json(raw))]),
    ),
    topics.NETWORK_EVENTS_REJECTED.name: (
        (tables.REJECTED_EVENTS, lambda raw: [row(RejectedEvent.model_validate_json(raw))]),
    ),
}


#: one record's rows for one table: the record is what a refused row is dead-lettered as
Item = tuple[ConsumerRecord, list[dict[str, Any]]]


class ClickHouseWriter:
    """Inserts with back-off; one connection, remade after an error.

    It tells a bad row from a server that is down by asking the server: when
    an insert fails but ``SELECT 1`` answers, the batch is split in halves
    until the rows at fault stand alone, and a record whose rows fail alone
    ``sink_row_tries`` times is dead-lettered; while the server does not
    answer, the same batch waits and is tried again.
    """

    def __init__(self, settings: Settings, dead_letters: DeadLetters) -> None:
        self.settings = settings
        self.dead_letters = dead_letters
        self._engine: ServerEngine | None = None

    def _connected(self) -> ServerEngine:
        if self._engine is None:
            self._engine = ServerEngine.from_settings(self.settings)
            apply(self._engine, self.settings.clickhouse_database)  # a fresh server has no tables yet
        return self._engine

    def _drop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                engine.close()
            except Exception:
                pass

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        try:
            self._connected().insert(f"{self.settings.clickhouse_database}.{table}", rows)
        except Exception:
            self._drop()
            raise

    def answers(self) -> bool:
        """Whether ClickHouse is up and gridflow's tables are there (a fresh connection, so a dead socket is no excuse)."""
        try:
            self._connected().execute("SELECT 1")
            return True
        except Exception:
            self._drop()
            return False

    def write(self, table: str, items: list[Item], stop: threading.Event) -> bool:
        """Insert the rows of ``items``; dead-letter the records ClickHouse refuses; wait while it is down.

        Returns False only when asked to stop before every row was written or dead-lettered.
        """
        delay = 0.2
        pending = [items]
        tries: dict[tuple[str, int, int], int] = {}
        while pending:
            if stop.is_set():
                return False
            group = pending.pop()
            rows = [r for _, record_rows in group for r in record_rows]
            if not rows:
                continue
            try:
                self._insert(table, rows)
                continue
            except Exception as exc:  # down, restarting, refusing the data: told apart below
                failure = exc
            if not self.answers():
                logger.warning("insert of %d rows into %s failed (%s); retrying in %.1fs", len(rows), table, failure, delay)
                pending.append(group)
                stop.wait(delay)
                delay = min(delay * 2, self.settings.sink_backoff_max_s)
                continue
            delay = 0.2
            if len(group) > 1:  # some row of it is at fault: find which
                half = len(group) // 2
                pending += [group[half:], group[:half]]
                continue
            record = group[0][0]
            where = (record.topic, record.partition, record.offset)
            tries[where] = tries.get(where, 0) + 1
            if tries[where] < self.settings.sink_row_tries:
                logger.warning("ClickHouse refused a row of %s@%d (%s); trying it again", record.topic, record.offset, failure)
                pending.append(group)
                stop.wait(delay)
                continue
            self.dead_letters.write(record, f"ClickHouse 拒收 (table {table}): {type(failure).__name__}: {failure}")
        return True


def group_id(settings: Settings) -> str:
    """The sink's consumer group: one per deployment (the workers share it, each taking some partitions)."""
    return f"{settings.worker_id}-clickhouse-sink"


class ClickHouseSink:
    """Kafka → ClickHouse for every topic in :data:`WIRING`, in a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dead_letters = DeadLetters(settings, "clickhouse-sink")
        self.writer = ClickHouseWriter(settings, self.dead_letters)
        self.stop_event = threading.Event()
        self.rows_written = 0
        self._thread = threading.Thread(target=self.run, name="clickhouse-sink", daemon=True)

    def start(self) -> "ClickHouseSink":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self._thread.join(timeout=10)

    def run(self) -> None:
        """Poll, insert, commit — until stopped (:func:`~processors.consumers.loop.run_committing`)."""
        run_committing(
            "clickhouse sink",
            lambda: committing_consumer(
                self.settings, list(WIRING), group_id(self.settings), self.settings.sink_batch_rows
            ),
            self._batch,
            self._write,
            self.stop_event,
        )

    def _batch(self, consumer: KafkaConsumer) -> list[ConsumerRecord]:
        """Records until the batch is full or its time is up (Snuba's rule: many rows, about once a second)."""
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + self.settings.sink_batch_seconds
        while len(records) < self.settings.sink_batch_rows and time.monotonic() < deadline:
            records += poll_records(consumer, 100, self.settings.sink_batch_rows - len(records))
        return records

    def _write(self, records: Records) -> bool:
        """Insert the rows of ``records``, table by table; False when stopped before all were written.

        A record that does not become rows (not its topic's record, a value
        no column can hold) is dead-lettered before anything is inserted, so
        it writes to no table at all.
        """
        prefix = len(self.settings.topic_prefix) + 1
        batch: dict[str, list[Item]] = {}
        for record in records:
            try:
                made = [(table.name, list(rows_of(record.value))) for table, rows_of in WIRING[record.topic[prefix:]]]
            except Exception as exc:  # the record is at fault, whatever the exception: keep it and go on
                self.dead_letters.write(record, exc)
                continue
            for table_name, rows in made:
                batch.setdefault(table_name, []).append((record, rows))
        for table_name, items in batch.items():
            if not self.writer.write(table_name, items, self.stop_event):
                return False
            self.rows_written += sum(len(rows) for _, rows in items)
        return True
