"""What the soak reads from the running pipeline: consumer lag, dead letters, and the latency from a 202 to the case's alert.

The latency is measured end to end, as a department would feel it: from the
moment the simulator has the intake's 202 for a report (recorded by an HTTP
transport wrapped around the simulator's own, so every report is timed
without touching the simulator) to the timestamp of the first alert of
that report's case on any ``alerts.<DEPT>`` topic (the dispatch to the lead,
or the triage alert to the command centre). The alert names its
``case_id``, which is derived from the report id
(:func:`processors.agents.accept.case_id_for`), so a 202 and its alert
meet without any lookup. A report merged into an open case (一事多报) has
no alert of its own and is simply never matched. Both times are this
machine's wall clock (the broker stamps nothing: an alert's timestamp is
its producer's, the worker's, on the same host).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from gridflow.soak_metrics import consumer_lag
from infra.kafka import client_config
from infra.settings import Settings
from processors.agents.accept import case_id_for
from schemas.topics import ALERTS_PREFIX

logger = logging.getLogger(__name__)


class Offsets:
    """Consumer lag of groups and growth of topics, from one admin client and one group-less consumer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = client_config(settings)
        self.admin = KafkaAdminClient(**config, client_id="gridflow-soak", request_timeout_ms=10_000)
        self.consumer = KafkaConsumer(
            **config, group_id=None, enable_auto_commit=False, client_id="gridflow-soak", request_timeout_ms=10_000
        )

    def lag(self, group: str) -> int | None:
        """End offset − committed offset, summed over the group's partitions; None if it has committed nothing yet or Kafka failed."""
        try:
            committed = self.admin.list_group_offsets({group: None}).get(group, {})
            if not committed:
                return None
            ends = self.consumer.end_offsets(list(committed))
        except (KafkaError, KeyError) as exc:  # KeyError: kafka-python 3.0 while a partition's leader moves
            logger.warning("lag of %s: %s", group, exc)
            return None
        return consumer_lag(ends, {tp: meta.offset for tp, meta in committed.items()})

    def records(self, topics: Iterable[str]) -> int | None:
        """The records ever written to the (logical) ``topics``: the sum of their end offsets; None if Kafka failed."""
        try:
            parts = [
                TopicPartition(name, p)
                for name in (self.settings.topic(t) for t in topics)
                for p in sorted(self.consumer.partitions_for_topic(name) or ())
            ]
            return sum(self.consumer.end_offsets(parts).values()) if parts else 0
        except KeyError as exc:  # kafka-python 3.0 while a partition's leader moves
            logger.warning("records of %s: %s", list(topics), exc)
            return None
        except KafkaError as exc:
            logger.warning("end offsets: %s", exc)
            return None

    def close(self) -> None:
        for client in (self.consumer, self.admin):
            try:
                client.close()
            except KafkaError as exc:  # closing at the end: nothing left to save
                logger.debug("closing %s: %s", client, exc)


class AlertLatency:
    """Pairs each report's 202 with its case's first alert; :meth:`take` hands over the latencies paired since the last call."""

    def __init__(self, settings: Settings, since_ms: int) -> None:
        self.settings = settings
        self.since_ms = since_ms
        self._lock = threading.Lock()
        self._posted: dict[str, float] = {}  # case id → when its report's 202 came (time.time())
        self._alerted: dict[str, float] = {}  # case id → its first alert's timestamp, before the 202 was recorded
        self._paired: set[str] = set()
        self._samples: list[float] = []
        self.accepted_reports: set[str] = set()  # every report id that got a 202
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-alerts", daemon=True)

    # -- the two halves ------------------------------------------------------------
    def accepted(self, report_id: str, at: float) -> None:
        """A 202 for ``report_id`` at wall time ``at``; a repeat's later 202 is ignored (the first one counts)."""
        case = str(case_id_for(uuid.UUID(report_id)))
        with self._lock:
            if report_id in self.accepted_reports:
                return
            self.accepted_reports.add(report_id)
            self._posted[case] = at
            if case in self._alerted:  # the alert was read before the answer reached the simulator
                self._pair(case, self._alerted.pop(case))

    def alerted(self, case_id: str, at: float) -> None:
        """An alert of ``case_id`` stamped ``at`` (seconds); only the case's first alert counts."""
        with self._lock:
            if case_id in self._paired:
                return
            if case_id in self._posted:
                self._pair(case_id, at)
            else:
                self._alerted.setdefault(case_id, at)

    def _pair(self, case_id: str, alert_at: float) -> None:
        self._samples.append(alert_at - self._posted.pop(case_id))
        self._paired.add(case_id)

    def take(self) -> list[float]:
        """The latencies (seconds) paired since the last call."""
        with self._lock:
            samples, self._samples = self._samples, []
        return samples

    @property
    def paired(self) -> int:
        """Cases whose 202 and first alert have both been seen."""
        with self._lock:
            return len(self._paired)

    # -- following every alert topic ----------------------------------------------------
    def start(self) -> AlertLatency:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _connect(self) -> KafkaConsumer:
        consumer = KafkaConsumer(
            **client_config(self.settings), group_id=None, enable_auto_commit=False, client_id="gridflow-soak-alerts"
        )
        prefix = self.settings.topic(ALERTS_PREFIX)
        parts = [
            TopicPartition(name, p)
            for name in sorted(consumer.topics())
            if name.startswith(prefix)
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        if not parts:
            consumer.close()
            raise KafkaError(f"no {prefix}* topics yet")
        consumer.assign(parts)
        found = consumer.offsets_for_times({tp: self.since_ms for tp in parts})
        ends = consumer.end_offsets(parts)
        for tp in parts:
            at = found.get(tp)
            consumer.seek(tp, at.offset if at is not None else ends[tp])
        return consumer

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer = self._connect()
                for records in consumer.poll(timeout_ms=200, max_records=5000).values():
                    for record in records:
                        case_id = _case_of(record.value)
                        if case_id is not None:
                            self.alerted(case_id, record.timestamp / 1000)
            except KafkaError as exc:
                logger.warning("following the alert topics: %s; retrying", exc)
                if consumer is not None:
                    consumer.close()
                consumer = None
                self._stop.wait(1.0)
        if consumer is not None:
            consumer.close()


def _case_of(value: bytes | None) -> str | None:
    try:
        found = json.loads(value or b"null")
    except ValueError:  # not an alert: the soak times alerts, it does not judge them
        return None
    case_id = found.get("case_id") if isinstance(found, dict) else None
    return case_id if isinstance(case_id, str) else None


class RecordingTransport(httpx.AsyncBaseTransport):
    """The simulator's HTTP transport, telling ``on_accepted(report_id, time.time())`` of every 202 as it arrives.

    Both the unified report endpoint and a network's push answer a 202 with
    the receipt's ``report_id`` (a network event's id is made by the
    intake), so the body is read here, once; the simulator then reads the
    same, already loaded, response.
    """

    def __init__(self, on_accepted: Callable[[str, float], None], inner: httpx.AsyncBaseTransport | None = None) -> None:
        # The simulator bounds what is in flight itself; the pool only needs to be as wide (it opens up to 64).
        self.inner = inner or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))
        self.on_accepted = on_accepted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and response.status_code == 202:
            await response.aread()
            at = time.time()
            try:
                report_id = response.json()["report_id"]
                self.on_accepted(str(report_id), at)
            except (ValueError, KeyError, TypeError):
                logger.warning("a 202 without a readable report_id: %s", response.content[:200])
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
