"""Kafka plumbing shared by the intake, the CLI and the tests (kafka-python).

The Faust workers use Faust's own aiokafka clients; everything outside them
uses kafka-python, one library for producing and administering.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from infra.settings import Settings

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
        bootstrap_timeout_ms=3000,
        request_timeout_ms=3000,
        delivery_timeout_ms=int(settings.intake_produce_timeout_s * 1000),
        retry_backoff_ms=100,
        client_id="gridflow",
    )
    config.update(overrides)
    return KafkaProducer(**config)


def ensure_topics(
    settings: Settings,
    topics: Iterable[tuple[str, dict[str, str]]],
    internal: Iterable[tuple[str, dict[str, str], int]] = (),
) -> list[str]:
    """Create the topics if missing, and wait until the broker shows them; returns those created.

    ``topics`` are logical names (prefixed here) with their configs, each
    with ``kafka_partitions`` partitions (:func:`schemas.topics.declared`
    lists gridflow's); ``internal`` are full names with their configs and
    partition counts (the Faust workers' changelog topics).
    """
    n = settings.kafka_partitions
    specs = [(settings.topic(name), config, n) for name, config in topics] + list(internal)
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id="gridflow-admin", request_timeout_ms=10000)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, partitions, settings.kafka_replication, topic_configs=config)
            for name, config, partitions in specs
            if name not in existing
        ]
        created = [t.name for t in wanted]
        if wanted:
            # One request for all; a topic another process created meanwhile is not an error.
            admin.create_topics(wanted, raise_errors=False)
        if created:
            logger.info("created topics %s", ", ".join(created))
        _wait_visible(admin, [name for name, _, _ in specs])
        return created
    finally:
        admin.close()


def _wait_visible(admin: KafkaAdminClient, names: list[str], timeout: float = 60.0) -> None:
    """Return once every topic in ``names`` shows a leader for each of its partitions.

    A Faust worker takes the topics it finds in metadata when it joins its
    group and ignores the rest for good ("Ignoring missing topic"); on a busy
    or freshly started broker a topic created a moment ago may not be there
    yet, so workers and the intake start only after this returns.
    """
    deadline = time.monotonic() + timeout
    missing: list[str] = names
    while time.monotonic() < deadline:
        described = {t["name"]: t for t in admin.describe_topics(missing)}
        missing = [
            n
            for n in missing
            if n not in described
            or described[n].get("error_code", 0) != 0
            or not described[n]["partitions"]
            or any(p.get("leader_id", -1) < 0 for p in described[n]["partitions"])
        ]
        if not missing:
            return
        time.sleep(0.2)
    raise TimeoutError(f"topics not visible after {timeout:.0f} s: {', '.join(missing[:5])}")
