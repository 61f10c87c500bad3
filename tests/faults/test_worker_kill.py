"""kill -9 of a worker in the middle of a stream: one worker restarted, and one of two never restarted.

A worker killed between reading a report and committing it leaves work
half-done: a report remembered whose opening never left, an opening whose
case was never numbered, events not yet in ClickHouse. On restart (or when
the other worker takes its partitions) every step is done again from the
last commit, and the derived ids make the second pass change nothing.
"""

from __future__ import annotations

import random

import httpx
import pytest
from fault_load import Phones, conclude, distinct_reports
from harness import start_pipeline

from infra.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 30.0  # reports per second
SECONDS = 50  # of posting


def test_a_worker_killed_mid_stream_and_restarted_loses_and_doubles_nothing(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings, workers=1)
    try:
        with Phones(pipeline, distinct_reports(random.Random(12_401), int(RATE * SECONDS)), RATE) as phones:
            phones.at(15)
            pipeline.workers[0].kill()
            phones.note("kill -9 worker-0")
            phones.at(22)  # reports keep coming: the intake takes them into Kafka with no worker at all
            restarted = phones.note("restarting worker-0")
            pipeline.restart_worker(0)
            phones.note("worker-0 serves again")
            phones.wait()
            conclude("worker-killed-restarted", "kill -9 of the only worker at 15 s, restarted at 22 s", phones, restarted)
    finally:
        pipeline.stop()


def test_two_workers_one_killed_the_other_takes_its_partitions(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings, workers=2)
    try:
        with Phones(pipeline, distinct_reports(random.Random(12_402), int(RATE * SECONDS)), RATE) as phones:
            phones.at(15)
            pipeline.workers[0].kill()
            killed = phones.note("kill -9 worker-0 (never restarted)")
            phones.wait()

            def survivor_holds_every_partition() -> None:
                assert pipeline.workers[1].alive and not pipeline.workers[0].alive
                port = pipeline.settings.worker_web_port + 1
                hosts = httpx.get(f"http://127.0.0.1:{port}/router/", timeout=5).json()
                owning = [h for h, topics in hosts.items() if any(topics.values())]
                assert len(owning) == 1 and owning[0].rstrip("/").endswith(f":{port}"), hosts

            conclude(
                "worker-killed-other-takes-over",
                "two workers, kill -9 of worker-0 at 15 s, not restarted; worker-1 takes its partitions",
                phones, killed, checks=[survivor_holds_every_partition],
            )  # fmt: skip
    finally:
        pipeline.stop()
