"""The dead-letter queue (死信队列) for operators: list what the consumers refused, and send it back.

``gridflow dlq list`` reads the compacted ``dead-letters`` topic whole (the
latest record per dead letter); ``gridflow dlq redrive`` sends a letter's
original key and bytes back to the topic they came from, once the cause —
a bug fixed, a mapping added — is gone, then writes the letter again with
``redriven_at`` set, so it is listed as done. A record that fails again is
dead-lettered again, under a new offset.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterable

from kafka import KafkaConsumer, TopicPartition

from infra.kafka import client_config, producer
from infra.settings import Settings
from schemas.dead_letter import DeadLetter
from schemas.topics import DEAD_LETTERS


def read_letters(settings: Settings, timeout_s: float = 10.0) -> list[DeadLetter]:
    """Every dead letter as it stands now (oldest first); letters that do not parse are skipped."""
    topic = settings.topic(DEAD_LETTERS.name)
    consumer = KafkaConsumer(
        **client_config(settings), group_id=None, enable_auto_commit=False,
        client_id="gridflow-dlq", request_timeout_ms=int(timeout_s * 1000),
    )  # fmt: skip
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        latest: dict[bytes, DeadLetter] = {}
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=5000).values():
                for record in records:
                    if record.value is None:  # a tombstone: the letter was removed
                        latest.pop(record.key, None)
                        continue
                    try:
                        latest[record.key] = DeadLetter.model_validate_json(record.value)
                    except ValueError:
                        continue
        return sorted(latest.values(), key=lambda letter: letter.at)
    finally:
        consumer.close()


def select(
    letters: Iterable[DeadLetter],
    ids: Iterable[str] = (),
    consumer: str | None = None,
    topic: str | None = None,
    pending_only: bool = True,
) -> list[DeadLetter]:
    """The letters named by ``ids`` (all when none are named), of one consumer or topic, pending unless told."""
    wanted = set(ids)
    return [
        letter
        for letter in letters
        if (not wanted or letter.id in wanted)
        and (consumer is None or letter.consumer == consumer)
        and (topic is None or letter.topic == topic)
        and not (pending_only and letter.redriven_at is not None)
    ]


def redrive(settings: Settings, letters: Iterable[DeadLetter], now: Callable[[], datetime] | None = None) -> int:
    """Send each letter's record back to its topic, then mark the letter re-driven; returns how many were sent."""
    clock = now or (lambda: datetime.now(timezone.utc))
    out = producer(settings, max_block_ms=30_000)
    sent = 0
    try:
        for letter in letters:
            # Back to the topic first: if marking it fails the letter stays pending, and a second
            # re-drive sends a record every consumer recognises as a repeat.
            out.send(settings.topic(letter.topic), key=letter.key(), value=letter.value()).get(timeout=30)
            done = letter.model_copy(update={"redriven_at": clock()})
            out.send(
                settings.topic(DEAD_LETTERS.name), key=letter.id.encode(), value=done.model_dump_json().encode()
            ).get(timeout=30)
            sent += 1
    finally:
        out.close(timeout=10)
    return sent
