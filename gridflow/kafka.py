"""Kafka plumbing shared by the intake, the CLI and the tests (kafka-python).

The Faust workers use Faust's own aiokafka clients; everything outside them
uses kafka-python, one library for producing and administering.
"""

from __future__ import annotations

import logging
from typing import Iterable

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from gridflow.settings import Settings
from schemas.topics import ALL, TopicSpec

logger = logging.getLogger(__name__)


def producer(settings: Settings, **overrides: object) -> KafkaProducer:
    """A producer that waits for all in-sync replicas (acks=all), idempotent.

    ``max_block_ms`` is short so that a broker that is down turns into a quick
    503 at the intake instead of a hanging request.
    """
    config: dict[str, object] = dict(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_block_ms=3000,
        request_timeout_ms=5000,
        delivery_timeout_ms=int(settings.intake_produce_timeout_s * 1000),
        retry_backoff_ms=100,
        client_id="gridflow",
    )
    config.update(overrides)
    return KafkaProducer(**config)


def ensure_topics(settings: Settings, extra: Iterable[str] = ()) -> list[str]:
    """Create gridflow's topics (and ``extra`` logical names) if missing; returns those created."""
    from district import load_registry
    from schemas.topics import alerts_topic

    specs: list[tuple[str, dict[str, str]]] = [(settings.topic(t.name), t.config) for t in ALL]
    departments = [d.code for d in load_registry().departments] + [settings.placeholder_department]
    specs += [(settings.topic(alerts_topic(code)), {}) for code in dict.fromkeys(departments)]
    specs += [(settings.topic(name), {}) for name in extra]
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id="gridflow-admin", request_timeout_ms=10000)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, settings.kafka_partitions, settings.kafka_replication, topic_configs=config)
            for name, config in specs
            if name not in existing
        ]
        created: list[str] = []
        for topic in wanted:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:  # another process won the race
                pass
        if created:
            logger.info("created topics %s", ", ".join(created))
        return created
    finally:
        admin.close()


def topic_name(settings: Settings, spec: TopicSpec) -> str:
    """The full name of a declared topic."""
    return settings.topic(spec.name)
