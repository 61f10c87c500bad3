"""Run one Faust worker (``gridflow worker``)."""

from __future__ import annotations

import logging

from faust.worker import Worker

from district import load_registry
from gridflow.clickhouse import ServerEngine
from gridflow.kafka import ensure_topics
from gridflow.settings import Settings
from processors.clock import SystemClock
from processors.pipeline import build, internal_topics
from processors.sink import ClickHouseSink
from schemas.migrate import apply

logger = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Create topics and tables if missing, then process until stopped (SIGTERM/SIGINT)."""
    ensure_topics(settings, internal=internal_topics(settings))
    try:
        engine = ServerEngine.from_settings(settings)
        apply(engine, settings.clickhouse_database)
        engine.close()
    except Exception as exc:  # the sink retries on its own; processing need not wait
        logger.warning("ClickHouse not reachable at start-up (%s); the sink will retry", exc)
    pipeline = build(settings, SystemClock(), load_registry())
    sink = ClickHouseSink(settings).start()
    worker = Worker(pipeline.app, loglevel=settings.log_level.lower(), quiet=True)
    try:
        worker.execute_from_commandline()
    finally:
        sink.stop()
