"""Writes an accepted report to Kafka and waits for the broker's ack (acks=all)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from kafka import KafkaProducer
from kafka.errors import KafkaError

from infra.kafka import producer
from infra.settings import Settings
from schemas.case_flow import ActionCommand
from schemas.report import AcceptedReport
from schemas.topics import CASE_COMMANDS, REPORTS

logger = logging.getLogger(__name__)


class KafkaUnavailable(Exception):
    """Kafka did not acknowledge the write in time; nothing was accepted."""


class ReportWriter:
    """One idempotent kafka-python producer shared by all requests.

    The producer is made on first use and remade after a failure, so the
    intake starts (and answers 503) while Kafka is down, and recovers by
    itself when Kafka is back. For :data:`DOWN_S` after a failure every
    write fails at once: making a producer waits seconds for a broker that
    is not there, and requests queued behind one such wait, each making its
    own, would answer one 503 every few seconds while phones time out.
    """

    #: after Kafka failed a write, the seconds every write is refused at once (a 503) before one tries again
    DOWN_S = 2.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic(REPORTS.name)
        self.commands_topic = settings.topic(CASE_COMMANDS.name)
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0

    def _refuse_if_down(self) -> None:
        if time.monotonic() < self._down_until:
            raise KafkaUnavailable("Kafka was unreachable a moment ago")

    def _get(self) -> KafkaProducer:
        self._refuse_if_down()
        with self._lock:
            self._refuse_if_down()  # the one this request waited behind found Kafka down
            if self._producer is None:
                self._producer = producer(self.settings)
            return self._producer

    def _reset(self) -> None:
        with self._lock:
            old, self._producer = self._producer, None
        if old is not None:
            try:
                old.close(timeout=0)
            except Exception:  # closing a broken producer may fail too
                pass

    def _send(self, topic: str, key: str, value: bytes) -> None:
        try:
            future = self._get().send(topic, key=key.encode(), value=value)
            future.get(timeout=self.settings.intake_produce_timeout_s)
        except (KafkaError, OSError) as exc:
            logger.warning("Kafka did not take %s on %s: %s", key, topic, exc)
            self._down_until = time.monotonic() + self.DOWN_S
            self._reset()
            raise KafkaUnavailable(str(exc)) from exc

    async def write(self, report: AcceptedReport) -> None:
        """Return once Kafka acknowledged ``report``; raise KafkaUnavailable otherwise."""
        await asyncio.to_thread(self._send, self.topic, str(report.report_id), report.model_dump_json().encode())

    async def write_action(self, action: ActionCommand) -> None:
        """Send a person's action to the case agent (keyed by case id, so it is applied in order)."""
        await asyncio.to_thread(
            self._send, self.commands_topic, str(action.case_id), action.model_dump_json().encode()
        )

    def close(self) -> None:
        self._reset()
