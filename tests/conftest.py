"""Test set-up: the real Kafka broker and ClickHouse server, started once per run.

Tests that need them take the ``stack`` fixture (directly or through
``pipeline_settings``) and carry the ``integration`` marker; a test without
the marker that asks for the stack fails loudly, so unit tests stay fast and
honest about what they touch. Each integration test gets its own topic
prefix, consumer group and database, so tests never see each other's data.
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from gridflow.settings import Settings

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def free_port(count: int = 1) -> int:
    """A port with ``count - 1`` free ports after it, on 127.0.0.1."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count >= 65000:
            continue
        ok = True
        for port in range(base + 1, base + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--keep-stack", action="store_true", help="leave the test Kafka/ClickHouse running afterwards")


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings of the running test stack (Kafka + ClickHouse), started on first use."""
    from gridflow import stack as gf_stack

    base = Settings.from_env()
    settings = base.replace(
        home=REPO / ".gridflow" / "test-stack",
        cache_dir=base.cache_dir or str(REPO / ".gridflow" / "cache"),
        kafka_port=39092,
        clickhouse_port=39000,
        clickhouse_http_port=38123,
    )
    gf_stack.up(settings, progress=lambda line: print(line, flush=True))
    yield settings
    if not request.config.getoption("--keep-stack"):
        gf_stack.down(settings)


@pytest.fixture(autouse=True)
def _integration_needs_marker(request: pytest.FixtureRequest) -> None:
    if "stack" in request.fixturenames and request.node.get_closest_marker("integration") is None:
        pytest.fail("this test uses the real Kafka/ClickHouse stack: mark it @pytest.mark.integration")


@pytest.fixture
def pipeline_settings(stack: Settings, tmp_path: Path) -> Settings:
    """Settings for one test's own pipeline: unique topics, group, database and ports."""
    return make_pipeline_settings(stack, tmp_path)


def make_pipeline_settings(stack: Settings, home: Path) -> Settings:
    """Unique topics, consumer group, database and ports on the shared stack."""
    uid = uuid.uuid4().hex[:8]
    web = free_port(4)
    return stack.replace(
        home=home / "home",
        topic_prefix=f"t{uid}",
        worker_id=f"t{uid}",
        clickhouse_database=f"t_{uid}",
        intake_port=free_port(),
        worker_web_port=web,
        worker_urls=",".join(f"http://127.0.0.1:{web + i}" for i in range(4)),
        worker_canonical_host="127.0.0.1",
        log_level="INFO",
    )
