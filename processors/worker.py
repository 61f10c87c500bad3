"""Run one Faust worker (``gridflow worker``)."""

from __future__ import annotations

import logging

from faust.worker import Worker

from classifier import ReportClassifier
from district import load_registry
from gridflow.clickhouse import ServerEngine
from gridflow.kafka import ensure_topics
from gridflow.settings import Settings
from processors.clock import SystemClock
from processors.pipeline import build, internal_topics
from processors.sink import ClickHouseSink
from processors.webhooks import Webhooks, load_webhooks
from routing import load_routing
from schemas.migrate import apply

logger = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Create topics and tables if missing, then process until stopped (SIGTERM/SIGINT)."""
    # Data first: a bad rule or calendar file stops the worker here, naming
    # file and line, before it touches Kafka or routes a single case.
    registry = load_registry()
    rules, calendar = load_routing(settings.routing_dir)
    classifier = ReportClassifier.cached(settings.cache_path)
    departments = frozenset(d.code for d in registry.departments)
    hooks = load_webhooks(settings.webhooks_file, departments) if settings.webhooks_file else []
    ensure_topics(settings, internal=internal_topics(settings))
    try:
        engine = ServerEngine.from_settings(settings)
        apply(engine, settings.clickhouse_database)
        engine.close()
    except Exception as exc:  # the sink retries on its own; processing need not wait
        logger.warning("ClickHouse not reachable at start-up (%s); the sink will retry", exc)
    pipeline = build(settings, SystemClock(settings.clock_offset_s), registry, classifier, rules, calendar)
    sink = ClickHouseSink(settings).start()
    pushers = Webhooks(settings, hooks).start()
    worker = Worker(pipeline.app, loglevel=settings.log_level.lower(), quiet=True)
    try:
        worker.execute_from_commandline()
    finally:
        pushers.stop()
        sink.stop()
