"""The committing consumer loop: poll, work, commit — the one rule every plain consumer here follows.

As in arroyo and snuba: offsets are committed only after the work for every
record polled is done (written to ClickHouse, delivered to a webhook), so a
crash or a rebalance redoes work and never skips it; the work itself is
idempotent. When Kafka fails the loop drops its consumer and reconnects after
a second; a commit refused after a rebalance is not an error (the new owner of
the partitions redoes the batch from the last commit).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError

from infra.kafka import client_config
from infra.settings import Settings

logger = logging.getLogger(__name__)

Records = Sequence[ConsumerRecord]


def committing_consumer(settings: Settings, topics: Sequence[str], group: str, max_poll_records: int) -> KafkaConsumer:
    """A consumer of the (prefixed) ``topics`` in ``group`` that commits only when told to."""
    return KafkaConsumer(
        *[settings.topic(name) for name in topics],
        **client_config(settings),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        # Work may wait for a dependency (ClickHouse, a webhook's retries) for a long time: stay in the group meanwhile.
        max_poll_interval_ms=3_600_000,
        # The worker's own session (kafka-python 3's default is 45 s): after a kill -9 the partitions
        # move on as soon as the Faust agents' do, not half a minute later (ClickHouse writes paused).
        session_timeout_ms=int(settings.worker_session_timeout_s * 1000),
        heartbeat_interval_ms=int(max(1.0, settings.worker_session_timeout_s / 4) * 1000),
        client_id=f"gridflow-{group}",
    )


def poll_records(consumer: KafkaConsumer, timeout_ms: int, max_records: int | None = None) -> list[ConsumerRecord]:
    """One poll's records, in partition order."""
    polled = consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
    return [record for records in polled.values() for record in records]


def run_committing(
    name: str,
    connect: Callable[[], KafkaConsumer],
    batch: Callable[[KafkaConsumer], Records],
    work: Callable[[Records], bool],
    stop: threading.Event,
) -> None:
    """Until ``stop``: take a ``batch``, do its ``work``, commit.

    ``work`` returns False when it was stopped before finishing: nothing is
    committed, so the next start does it again.
    """
    consumer: KafkaConsumer | None = None
    try:
        while not stop.is_set():
            try:
                if consumer is None:
                    consumer = connect()
                records = batch(consumer)
                if not records:
                    continue
                if not work(records):
                    return
                consumer.commit()
            except CommitFailedError as exc:
                logger.info("%s: commit refused after a rebalance (%s); the batch will be redone", name, exc)
            except KafkaError as exc:
                logger.warning("%s lost Kafka (%s); reconnecting", name, exc)
                if consumer is not None:
                    consumer.close(autocommit=False)
                consumer = None
                stop.wait(1.0)
    finally:
        if consumer is not None:
            consumer.close(autocommit=False)
