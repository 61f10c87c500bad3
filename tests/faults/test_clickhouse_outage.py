"""ClickHouse stopped for 60 s under load: the sink backs off, catches up, and nothing is doubled or dead-lettered.

ClickHouse is not on a report's way in: the intake keeps answering 202 and
the workers keep opening and dispatching cases while it is down. The sink
keeps its batch, backs off (its log says so), and commits nothing until
ClickHouse took it; then it works through what Kafka kept. A batch inserted
just before the server went away may be inserted again: deduplicated reads
(FINAL) must show each row once, and a server that does not answer is not a
bad record — no dead letters.
"""

from __future__ import annotations

import random
import re

import pytest
from fault_load import Phones, conclude, distinct_reports
from harness import start_pipeline
from restarts import start_again

from infra.settings import Settings
from infra.stack.clickhouse import ClickHouseServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 25.0  # reports per second
SECONDS = 80  # of posting: 10 s before the outage, 60 s of it, 10 s after
OUTAGE_S = 60


def test_clickhouse_stopped_for_a_minute_under_load(stack: Settings, pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings, workers=1)
    server = ClickHouseServer(stack)
    try:
        with Phones(pipeline, distinct_reports(random.Random(12_404), int(RATE * SECONDS)), RATE) as phones:
            phones.at(10)
            server.stop()
            phones.note("ClickHouse stopped")
            phones.at(10 + OUTAGE_S)
            starts = start_again(server, [server.port, server.http_port])
            back = phones.note("ClickHouse answers again")
            phones.wait()
            log = pipeline.settings.log_dir.joinpath("worker-0.log").read_text(errors="replace")
            backoffs = len(re.findall(r"insert of \d+ rows into \w+ failed .*; retrying in", log))

            def clickhouse_is_not_on_the_way_in() -> None:
                assert set(phones.answers()) == {"202"}, phones.answers()

            def the_sink_backed_off() -> None:
                assert backoffs > 0, "the sink never said it was backing off"

            conclude(
                "clickhouse-stopped", f"ClickHouse stopped at 10 s for {OUTAGE_S} s under load", phones, back,
                checks=[clickhouse_is_not_on_the_way_in, the_sink_backed_off],
                sink_backoff_log_lines=backoffs, server_starts_needed=starts,
            )  # fmt: skip
    finally:
        try:
            if not server.is_running():
                start_again(server, [server.port, server.http_port])
        finally:
            pipeline.stop()
