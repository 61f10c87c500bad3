"""A poison record on every topic a worker's consumer reads: dead-lettered with its bytes, and the rest flows.

The records are written straight to Kafka, past the intake's validation, as
a buggy producer or a hand-made fix would write them: bytes that are not
JSON, JSON that is not the topic's record, and a case whose time no
ClickHouse column can hold (the sink finds it by splitting its batch). A
report posted after them must still be dispatched, alerted, pushed and in
ClickHouse; each poison record must be one dead letter per consumer that
read it; and `gridflow dlq redrive` must put a letter's bytes back.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from harness import report_body, start_pipeline, wait_for_state
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from webhook_receiver import Receiver

from gridflow import services
from infra.settings import Settings
from producers.dead_letters import read_letters, redrive, select
from schemas import topics
from schemas.topics import alerts_topic

pytestmark = pytest.mark.integration

GARBAGE = b"\xff\xfe not json at all \x00"
WRONG_RECORD = json.dumps({"hello": "world", "seq": -1}).encode()

#: topic → the consumers of a worker that read it
READERS = {
    topics.REPORTS.name: {"accept-reports"},
    topics.CASE_OPENINGS.name: {"number-cases", "clickhouse-sink"},
    topics.CASE_COMMANDS.name: {"cases"},
    topics.CASES.name: {"clickhouse-sink"},
    topics.CASE_EVENTS.name: {"clickhouse-sink"},
    topics.WEBHOOK_DELIVERIES.name: {"clickhouse-sink"},
    topics.NETWORK_EVENTS_REJECTED.name: {"clickhouse-sink"},
    alerts_topic("CG"): {"webhook-CG"},
}


def _last_case_record(settings: Settings, case_id: str) -> dict:
    """The latest version of a case as the cases topic holds it."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False)
    topic = settings.topic(topics.CASES.name)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    found = None
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        for records in consumer.poll(timeout_ms=2000).values():
            for r in records:
                if r.key == case_id.encode():
                    found = json.loads(r.value)
    consumer.close()
    assert found is not None
    return found


def test_poison_records_are_dead_lettered_and_the_rest_flows(pipeline_settings: Settings, tmp_path: Path) -> None:
    receiver = Receiver(0)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks = tmp_path / "webhooks.yaml"
    hooks.write_text(f"webhooks:\n  CG: {{url: '{receiver.url}', secret: a-long-shared-secret-0123}}\n", encoding="utf-8")
    settings = pipeline_settings.replace(webhooks_file=str(hooks), sink_batch_seconds=0.5)
    pipeline = start_pipeline(settings)
    out = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    try:
        first = report_body()
        with pipeline.client() as client:
            assert client.post("/api/v1/reports", json=first).status_code == 202
            case = wait_for_state(client, first["report_id"], "dispatched", timeout=90)

        # A case ClickHouse cannot hold (DateTime ends in 2106), on a key of its own.
        broken = _last_case_record(settings, case["case_id"])
        broken.update(case_id="0e0e0e0e-0000-4000-8000-000000000001", seq=1, accepted_at="2200-01-01T00:00:00Z")
        poison = [(name, value) for name in READERS for value in (GARBAGE, WRONG_RECORD)]
        poison.append((topics.CASES.name, json.dumps(broken).encode()))
        for name, value in poison:
            out.send(settings.topic(name), key=b"poison", value=value).get(timeout=30)

        second = report_body(title="路灯又坏了一盏", description="石门村二组路口的路灯也不亮了，已经两天。", grid_id="XL-01-01")
        with pipeline.client() as client:
            assert client.post("/api/v1/reports", json=second).status_code == 202
            after = wait_for_state(client, second["report_id"], "dispatched", timeout=120)

        expected = {(reader, name) for name in READERS for reader in READERS[name]}

        def letters() -> list:
            return read_letters(settings)

        missing: list = []

        def complete() -> bool:
            found = letters()
            seen = {(letter.consumer, letter.topic) for letter in found}
            # the case no column holds is found last: the sink splits its batch and tries the row alone thrice
            late = any(letter.consumer == "clickhouse-sink" and b"2200-01-01" in (letter.value() or b"") for letter in found)
            missing[:] = sorted(expected - seen) + ([] if late else [("clickhouse-sink", "the 2200 case")])
            return not missing

        try:
            services.wait_until(complete, 180, "a dead letter from every consumer of every topic", interval=1.0)
        except TimeoutError:
            raise AssertionError(f"no dead letter from (consumer, topic): {missing}") from None
        found = letters()
        by_place = {}
        for letter in found:
            by_place.setdefault((letter.consumer, letter.topic), []).append(letter)
        for place in expected:  # garbage and the wrong record, each once (a redone batch rewrites the same key)
            values = sorted(letter.value() for letter in by_place[place])
            assert GARBAGE in values and WRONG_RECORD in values, place
            assert all(letter.reason and letter.error for letter in by_place[place])
        sink_cases = [letter for letter in by_place[("clickhouse-sink", topics.CASES.name)] if b"2200-01-01" in letter.value()]
        assert len(sink_cases) == 1 and "ClickHouse" in sink_cases[0].reason

        # The rest flowed: both reports in ClickHouse, both cases, the second one's alert pushed.
        engine = pipeline.clickhouse()
        db = settings.clickhouse_database

        def in_clickhouse() -> bool:
            ids = {str(r[0]) for r in engine.execute(f"SELECT case_id FROM {db}.cases FINAL")}
            return {case["case_id"], after["case_id"]} <= ids

        services.wait_until(in_clickhouse, 90, "both cases in ClickHouse")
        assert engine.execute(f"SELECT count() FROM {db}.cases FINAL WHERE case_id = '{broken['case_id']}'")[0][0] == 0
        services.wait_until(
            lambda: any(json.loads(body).get("case_id") == after["case_id"] for _, body in receiver.received), 90,
            "the second case's alert pushed",
        )  # fmt: skip

        # Re-drive one letter: its bytes go back to its topic as they were, and it is no longer pending.
        letter = by_place[("cases", topics.CASE_COMMANDS.name)][0]
        topic = settings.topic(topics.CASE_COMMANDS.name)
        reader = KafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False)
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
        reader.assign(tps)
        ends = reader.end_offsets(tps)
        for tp in tps:
            reader.seek(tp, ends[tp])
        assert redrive(settings, [letter]) == 1
        got = []
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            got = [r for rs in reader.poll(timeout_ms=1000).values() for r in rs if r.key == b"poison"]
        reader.close()
        assert got and got[0].value == letter.value()
        pending = select(read_letters(settings), consumer="cases")
        assert letter.id not in {p.id for p in pending}
        assert letter.id in {p.id for p in select(read_letters(settings), consumer="cases", pending_only=False)}
        # … and, bad still, it is dead-lettered again under its new offset; the agent goes on.
        services.wait_until(
            lambda: len(select(read_letters(settings), consumer="cases", topic=topics.CASE_COMMANDS.name)) >= 2, 60,
            "the re-driven record dead-lettered again",
        )  # fmt: skip
    finally:
        out.close()
        pipeline.stop()
        receiver.shutdown()
