"""The ClickHouse sink: batches of rows, bounded by size and time, retried until written.

Idempotent by construction: every row carries its key (and ``seq`` where a
record has versions), the tables are ReplacingMergeTrees, and every read
deduplicates (``FINAL`` / ``argMax``). So a batch written twice — after a
crash between the insert and the offset commit — changes no answer.

A batch is acknowledged (``take_events``) only after ClickHouse took it, so
while ClickHouse is down the offsets stay put and nothing is lost: the
agent backs off and tries again, and Kafka holds the rest.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Iterable

from gridflow.clickhouse import ServerEngine
from gridflow.settings import Settings
from processors.pipeline import Pipeline
from schemas import tables
from schemas.clickhouse import Table, row
from schemas.migrate import apply

logger = logging.getLogger(__name__)

RowsOf = Callable[[Any], Iterable[dict[str, Any]]]


class ClickHouseWriter:
    """Inserts into one table with back-off; one connection, remade after an error."""

    def __init__(self, settings: Settings, table: Table) -> None:
        self.settings = settings
        self.table = f"{settings.clickhouse_database}.{table.name}"
        self._engine: ServerEngine | None = None
        self.rows_written = 0

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        if self._engine is None:
            self._engine = ServerEngine.from_settings(self.settings)
            apply(self._engine, self.settings.clickhouse_database)  # a fresh server has no tables yet
        try:
            self._engine.insert(self.table, rows)
        except Exception:
            engine, self._engine = self._engine, None
            try:
                engine.close()
            except Exception:
                pass
            raise

    async def write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows``; on failure wait (0.2 s doubling to the configured maximum) and retry."""
        delay = 0.2
        while True:
            try:
                await asyncio.to_thread(self._insert, rows)
                self.rows_written += len(rows)
                return
            except Exception as exc:  # any failure: ClickHouse down, restarting, network
                logger.warning("insert of %d rows into %s failed (%s); retrying in %.1fs", len(rows), self.table, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.sink_backoff_max_s)


def _report_rows(opening: Any) -> Iterable[dict[str, Any]]:
    yield row(opening.report, case_id=opening.case_id)


def _one_row(record: Any) -> Iterable[dict[str, Any]]:
    yield row(record)


def register(p: Pipeline) -> None:
    """One sink agent per table: the topic it reads and how a record becomes rows."""
    wiring: list[tuple[Any, Table, RowsOf]] = [
        (p.openings, tables.REPORTS, _report_rows),
        (p.cases, tables.CASES, _one_row),
        (p.case_events, tables.CASE_EVENTS, _one_row),
    ]
    for topic, table, rows_of in wiring:
        _register_one(p, topic, table, rows_of)


def _register_one(p: Pipeline, topic: Any, table: Table, rows_of: RowsOf) -> None:
    writer = ClickHouseWriter(p.settings, table)
    settings = p.settings

    async def sink(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(settings.sink_batch_rows, within=settings.sink_batch_seconds):
            rows = [r for event in events for r in rows_of(event.value)]
            await writer.write(rows)

    p.app.agent(topic, name=f"sink-{table.name}")(sink)
