"""Run one worker (``gridflow worker``): the Faust app with every agent, the ClickHouse sink and the webhooks."""

from __future__ import annotations

import logging
from pathlib import Path

from faust.worker import Worker

from classifier import ReportClassifier
from district import load_registry
from infra.clickhouse import ServerEngine
from infra.kafka import ensure_topics
from infra.lifeline import watch
from infra.settings import Settings
from processors.agents import AGENTS
from processors.clock import SystemClock
from processors.consumers.sink import ClickHouseSink
from processors.consumers.webhooks import Webhooks, load_webhooks
from processors.lifecycle.context import Context
from processors.pipeline import build, internal_topics
from routing import load_routing
from routing.merge_rules import MERGE_FILE, load_merge_rules
from schemas.migrate import apply
from schemas.topics import declared

logger = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Create topics and tables if missing, then process until stopped (SIGTERM/SIGINT)."""
    watch(settings.lifeline_fd)  # started by the demo or a test: stop when it dies
    # Data first: a bad rule or calendar file stops the worker here, naming
    # file and line, before it touches Kafka or routes a single case.
    registry = load_registry()
    rules, calendar = load_routing(settings.routing_dir)
    classifier = ReportClassifier.cached(settings.cache_path)
    departments = registry.department_codes
    hooks = load_webhooks(settings.webhooks_file, departments) if settings.webhooks_file else []
    ensure_topics(settings, declared(departments), internal=internal_topics(settings))
    try:
        engine = ServerEngine.from_settings(settings)
        apply(engine, settings.clickhouse_database)
        engine.close()
    except Exception as exc:  # the sink retries on its own; processing need not wait
        logger.warning("ClickHouse not reachable at start-up (%s); the sink will retry", exc)
    context = Context(
        rules=rules,
        calendar=calendar,
        min_confidence=settings.classifier_min_confidence,
        departments=departments,
    )
    own_merge = Path(settings.routing_dir) / MERGE_FILE if settings.routing_dir else None
    merge_rules = load_merge_rules(own_merge if own_merge and own_merge.is_file() else None, taxonomy=rules.taxonomy)
    pipeline = build(settings, SystemClock(settings.clock_offset_s), registry, classifier, context, merge_rules)
    for register in AGENTS:
        register(pipeline)
    sink = ClickHouseSink(settings).start()
    pushers = Webhooks(settings, hooks).start()
    worker = Worker(pipeline.app, loglevel=settings.log_level.lower(), quiet=True)
    try:
        worker.execute_from_commandline()
    finally:
        pushers.stop()
        sink.stop()
