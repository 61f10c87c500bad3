"""Kafka stopped for 30 s under load: the intake answers 503 with Retry-After, phones retry, nothing is lost.

The intake answers 202 only once Kafka acknowledged a report (acks=all), so
while the broker is down it cannot accept: it answers 503 with
``Retry-After`` rather than spooling to its own disk — a spool would be a
second durable log to keep, replay and reconcile on every intake host, and
a phone already keeps its unsent reports (the form's outbox) and sends them
again. The workers and the sink are not restarted: their Kafka clients must
reconnect by themselves and go on from their commits.
"""

from __future__ import annotations

import random

import pytest
from fault_load import Phones, conclude, distinct_reports
from harness import start_pipeline
from restarts import start_again

from infra.settings import Settings
from infra.stack.kafka import KafkaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 30.0  # reports per second
SECONDS = 55  # of posting: 10 s before the outage, 30 s of it, 15 s after
OUTAGE_S = 30


def test_kafka_stopped_for_thirty_seconds_under_load(stack: Settings, pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings, workers=1)
    broker = KafkaServer(stack)
    pids = {s.name: s.pid for s in [pipeline.intake, *pipeline.workers]}
    try:
        with Phones(pipeline, distinct_reports(random.Random(12_405), int(RATE * SECONDS)), RATE) as phones:
            phones.at(10)
            phones.note("stopping Kafka")
            broker.stop()
            down = phones.now()
            phones.note("Kafka stopped")
            phones.at(down + OUTAGE_S)
            starts = start_again(broker, [broker.port, broker.controller_port])
            up = phones.now()
            back = phones.note("Kafka answers again")
            phones.wait()
            refusals = [(t, after) for o in phones.outcomes for t, status, after in o.answers if status == "503"]

            def the_intake_said_503_with_retry_after() -> None:
                during = [t for t, _ in refusals if down <= t <= up + 10]
                assert during, f"no 503 while Kafka was down ({down}–{up} s): {phones.answers()}"
                assert all(after is not None and after.isdigit() and int(after) >= 1 for _, after in refusals), refusals[:10]
                # a dependency down is a 503, never another 5xx or a dropped connection
                assert set(phones.answers()) <= {"202", "503"}, phones.answers()

            def nothing_was_restarted() -> None:
                assert {s.name: s.pid for s in [pipeline.intake, *pipeline.workers] if s.alive} == pids

            conclude(
                "kafka-stopped", f"Kafka stopped at 10 s for {OUTAGE_S} s under load; intake and worker not restarted",
                phones, back, checks=[the_intake_said_503_with_retry_after, nothing_was_restarted],
                answers_503_with_retry_after=len(refusals),
                retry_after_values=sorted({after for _, after in refusals if after}),
                broker_starts_needed=starts,
                outage_s=round(up - down, 1),
            )  # fmt: skip
    finally:
        try:
            if not broker.is_running():
                start_again(broker, [broker.port, broker.controller_port])
        finally:
            pipeline.stop()
