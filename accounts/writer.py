"""Writes account records (and tombstones) to the accounts topic, on one long-lived producer.

The intake signs people in and out on a producer made once and remade only
after a failure, with the short blocking of :func:`infra.kafka.producer`:
when Kafka is down a sign-in gets :class:`AccountsUnavailable` (a 503 with
Retry-After) in seconds instead of holding a request for 30 s. An admin
command may wait longer for a topic created a moment ago and says so with
``overrides``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from infra.kafka import producer
from infra.settings import Settings
from schemas.account import Account
from schemas.topics import ACCOUNTS

logger = logging.getLogger(__name__)


class AccountsUnavailable(Exception):
    """Kafka did not take the account records in time; nothing may be assumed written."""


#: a record to write: the account as it now stands, or a tombstone (None) for its token hash
Write = tuple[str, Account | None]


class AccountWriter:
    """One producer for the accounts topic, made on first use and remade after a failure."""

    def __init__(self, settings: Settings, wait_s: float | None = None, **overrides: Any) -> None:
        """``wait_s``: how long a write may wait for Kafka's ack (default ``GRIDFLOW_INTAKE_PRODUCE_TIMEOUT``)."""
        self.settings = settings
        self.topic = settings.topic(ACCOUNTS.name)
        self.wait_s = settings.intake_produce_timeout_s if wait_s is None else wait_s
        self._overrides = {"delivery_timeout_ms": int(self.wait_s * 1000), **overrides}
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = producer(self.settings, **{"client_id": "gridflow-accounts", **self._overrides})
            return self._producer

    def write(self, records: list[Write]) -> None:
        """Write ``records`` in order (keyed by token hash, so the compacted topic keeps each one's last)."""
        if not records:
            return
        try:
            p = self._get()
            futures = [
                p.send(self.topic, key=digest.encode(), value=account.model_dump_json().encode() if account else None)
                for digest, account in records
            ]
            for future in futures:
                future.get(timeout=self.wait_s)
        except (KafkaError, OSError) as exc:
            logger.warning("Kafka did not take %d account record(s): %s", len(records), exc)
            self.close()
            raise AccountsUnavailable(str(exc)) from exc

    def close(self) -> None:
        """Close the producer (the next write makes a new one)."""
        with self._lock:
            old, self._producer = self._producer, None
        if old is not None:
            try:
                old.close(timeout=1)
            except Exception as exc:  # noqa: BLE001 - closing a broken producer may fail too; it is gone either way
                logger.debug("closing the accounts producer: %s", exc)
