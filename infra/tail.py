"""Follow a topic into memory: the shape behind the account directory and the report index.

A background thread reads every partition of one topic (no consumer group,
no committed offsets: each process keeps its own copy) and hands every
record to a callback. ``catch_up()`` waits until everything written before
the call has been read, which is how a reader sees its own writes and a
token created a moment ago.

Given the :class:`~infra.settings.Settings`, the tail connects with their
security (:func:`infra.kafka.client_config`); a bare bootstrap string means a
PLAINTEXT broker without authentication (the local stack's default).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from infra.kafka import client_config
from infra.settings import Settings

logger = logging.getLogger(__name__)

Handler = Callable[[bytes | None, bytes | None, int], None]


class TopicTail:
    """Read ``topic`` from ``since_ms`` (or the beginning) and keep following it."""

    def __init__(self, kafka: Settings | str, topic: str, handle: Handler, since_ms: int | None = None) -> None:
        # Built once, here: a setting that is wrong fails the caller at once, not the reading thread.
        self._config = client_config(kafka) if isinstance(kafka, Settings) else {"bootstrap_servers": kafka}
        self.bootstrap = self._config["bootstrap_servers"]
        self.topic = topic
        self.handle = handle
        self.since_ms = since_ms
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[threading.Event] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tail-{topic}", daemon=True)
        self.connected = False

    def start(self) -> "TopicTail":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def catch_up(self, timeout: float = 3.0) -> bool:
        """Wait until every record written before this call has been handled."""
        done = threading.Event()
        with self._lock:
            self._waiters.append(done)
        return done.wait(timeout)

    # -- the reading thread --------------------------------------------------------
    def _connect(self) -> tuple[KafkaConsumer, list[TopicPartition]]:
        consumer = KafkaConsumer(
            **self._config,
            group_id=None,
            enable_auto_commit=False,
            client_id=f"gridflow-tail-{self.topic}",
            request_timeout_ms=10000,
        )
        parts = consumer.partitions_for_topic(self.topic)
        if not parts:
            consumer.close()
            raise KafkaError(f"topic {self.topic} has no partitions yet")
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        if self.since_ms is None:
            consumer.seek_to_beginning(*tps)
        else:
            found = consumer.offsets_for_times({tp: self.since_ms for tp in tps})
            ends = consumer.end_offsets(tps)
            for tp in tps:
                at = found.get(tp)
                consumer.seek(tp, at.offset if at is not None else ends[tp])
        return consumer, tps

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        tps: list[TopicPartition] = []
        pending: list[tuple[dict[TopicPartition, int], list[threading.Event]]] = []
        first = threading.Event()
        with self._lock:
            self._waiters.append(first)
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer, tps = self._connect()
                    self.connected = True
                with self._lock:
                    waiters, self._waiters = self._waiters, []
                if waiters:
                    pending.append((consumer.end_offsets(tps), waiters))
                for messages in consumer.poll(timeout_ms=100, max_records=5000).values():
                    for m in messages:
                        try:
                            self.handle(m.key, m.value, m.timestamp)
                        except Exception:  # one bad record must not stop the tail
                            logger.exception("skipping unreadable record %s@%s on %s", m.offset, m.partition, self.topic)
                positions = {tp: consumer.position(tp) for tp in tps}
                still = []
                for targets, events in pending:
                    if all(positions[tp] >= off for tp, off in targets.items()):
                        for event in events:
                            event.set()
                    else:
                        still.append((targets, events))
                pending = still
                if first.is_set():
                    self.ready.set()
            except KafkaError as exc:
                self.connected = False
                logger.warning("following %s: %s; retrying", self.topic, exc)
                if consumer is not None:
                    try:
                        consumer.close()
                    except Exception:
                        pass
                consumer = None
                # requeue the waiters of the lost connection
                with self._lock:
                    for _, events in pending:
                        self._waiters.extend(events)
                pending = []
                self._stop.wait(1.0)
        if consumer is not None:
            consumer.close()


class FollowedTopic:
    """Base of an in-memory view kept up to date by a :class:`TopicTail` (``self._tail``)."""

    _tail: TopicTail

    def start(self) -> "FollowedTopic":
        self._tail.start()
        return self

    def stop(self) -> None:
        self._tail.stop()

    @property
    def ready(self) -> bool:
        """True once the topic has been read up to where it stood at start."""
        return self._tail.ready.is_set()
