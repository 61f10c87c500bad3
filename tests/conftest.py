"""Test set-up: the real Kafka broker and ClickHouse server, started once per run.

Tests that need them take the ``stack`` fixture (directly or through
``pipeline_settings``) and carry the ``integration`` marker; a test without
the marker that asks for the stack fails loudly, so unit tests stay fast and
honest about what they touch. Each integration test gets its own topic
prefix, consumer group and database, so tests never see each other's data.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from infra.settings import Settings

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--keep-stack", action="store_true", help="leave the test Kafka/ClickHouse running afterwards")
    parser.addoption(
        "--stack-slot",
        type=int,
        default=0,
        help="run the test stack in slot N (its own folder and ports +10·N), so two test runs can share a machine",
    )


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings of the running test stack (Kafka + ClickHouse), started on first use."""
    from infra import stack as gf_stack

    base = Settings.from_env()
    slot = request.config.getoption("--stack-slot")
    shift = 10 * slot
    settings = base.replace(
        home=REPO / ".gridflow" / ("test-stack" if not slot else f"test-stack-{slot}"),
        cache_dir=base.cache_dir or str(REPO / ".gridflow" / "cache"),
        # Below Linux's ephemeral range (32768–60999): a client's own outgoing port can never
        # take the broker's while it restarts in a fault test.
        kafka_port=29092 + shift,
        clickhouse_port=29000 + shift,
        clickhouse_http_port=28123 + shift,
    )
    if settings.uses_local_kafka and settings.uses_local_clickhouse:
        # Each run starts from empty servers: thousands of partitions left by
        # earlier runs make a small broker slow and the tests flaky.
        gf_stack.down(settings)
        shutil.rmtree(settings.stack_dir, ignore_errors=True)
    try:
        gf_stack.up(settings, progress=lambda line: print(line, flush=True))
    except BaseException:
        gf_stack.down(settings)  # a half-started stack must not outlive the run
        raise
    yield settings
    if not request.config.getoption("--keep-stack"):
        gf_stack.down(settings)


@pytest.fixture(scope="session")
def report_classifier():  # type: ignore[no-untyped-def]
    """The shipped classifier, trained once and cached like the workers cache it."""
    from classifier import ReportClassifier

    return ReportClassifier.cached(REPO / ".gridflow" / "cache")


@pytest.fixture(autouse=True)
def _integration_needs_marker(request: pytest.FixtureRequest) -> None:
    if "stack" in request.fixturenames and request.node.get_closest_marker("integration") is None:
        pytest.fail("this test uses the real Kafka/ClickHouse stack: mark it @pytest.mark.integration")


@pytest.fixture
def pipeline_settings(stack: Settings, tmp_path: Path) -> Settings:
    """Settings for one test's own pipeline: unique topics, group, database and ports."""
    from harness import make_pipeline_settings

    return make_pipeline_settings(stack, tmp_path)
