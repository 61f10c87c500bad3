"""Dead letters of the plain consumers (the ClickHouse sink, the webhooks): a bad record is kept and passed.

Written with acks=all before the batch holding the record is committed;
if Kafka cannot take it the write raises :class:`kafka.errors.KafkaError`,
so :func:`~processors.consumers.loop.run_committing` reconnects and the
batch is redone — the dead letter has the same key the second time, and the
topic is compacted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from infra.kafka import producer
from infra.settings import Settings
from schemas.dead_letter import DeadLetter, reason_of
from schemas.topics import DEAD_LETTERS

logger = logging.getLogger(__name__)


class DeadLetters:
    """Writes the records one consumer could not use to ``dead-letters``."""

    def __init__(self, settings: Settings, consumer: str) -> None:
        self.settings = settings
        self.consumer = consumer
        self.written = 0
        self._producer: KafkaProducer | None = None

    def write(self, record: ConsumerRecord, exc: BaseException | str) -> DeadLetter:
        """Dead-letter ``record`` for ``exc`` (an exception, or a reason in words); returns the letter written."""
        reason, error = (exc, "refused") if isinstance(exc, str) else (reason_of(exc), type(exc).__name__)
        prefix = len(self.settings.topic_prefix) + 1
        letter = DeadLetter.of(
            self.consumer, record.topic[prefix:], record.partition, record.offset, record.key, record.value,
            reason, error, datetime.now(timezone.utc),
        )  # fmt: skip
        logger.error("%s: record %s@%d of %s dead-lettered: %s", self.consumer, record.offset, record.partition,
                     record.topic, letter.reason)  # fmt: skip
        if self._producer is None:
            self._producer = producer(self.settings)
        self._producer.send(
            self.settings.topic(DEAD_LETTERS.name), key=letter.id.encode(), value=letter.model_dump_json().encode()
        ).get(timeout=self.settings.intake_produce_timeout_s)
        self.written += 1
        return letter

    def close(self) -> None:
        """Flush and close the producer, if one was made."""
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None
