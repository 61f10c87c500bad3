"""The local stack: a Kafka broker and a ClickHouse server for development and tests.

``up`` starts what is not running (and only health-checks servers named by
``settings.kafka_bootstrap`` / ``settings.clickhouse_url``), ``down`` stops
the local servers, ``status`` reports on them. State lives under
``settings.stack_dir``, logs under ``settings.log_dir``, the Kafka jars under
the cache folder (``settings.cache_dir`` or ``settings.home/"cache"``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from infra.kafka import client_config
from infra.settings import Settings
from infra.stack.clickhouse import ClickHouseServer, clickhouse_healthy
from infra.stack.kafka import KafkaServer, kafka_healthy
from infra.stack.processes import StackError

__all__ = ["up", "down", "status", "StackError", "KafkaServer", "ClickHouseServer"]

log = logging.getLogger(__name__)

EXTERNAL_CHECK_TIMEOUT_S = 15.0
KAFKA_START_TIMEOUT_S = 90.0
CLICKHOUSE_START_TIMEOUT_S = 60.0


def up(settings: Settings, progress: Callable[[str], None] = print) -> None:
    """Start whatever is not running and wait until every service answers.

    Idempotent: a running local server only gets a health check. When
    ``settings.kafka_bootstrap`` (or ``settings.clickhouse_url``) is set, that
    server is not started, only checked. Raises :class:`StackError` naming the
    log file to read when something does not come up.
    """
    started = time.monotonic()
    waits: list[tuple[str, Callable[[], None]]] = []

    if settings.uses_local_kafka:
        kafka = KafkaServer(settings)
        waits.append(("kafka", lambda: kafka.start_and_wait(progress, KAFKA_START_TIMEOUT_S)))
    else:
        waits.append(("kafka", lambda: _check_external_kafka(settings)))

    if settings.uses_local_clickhouse:
        ch = ClickHouseServer(settings)
        waits.append(("clickhouse", lambda: ch.start_and_wait(progress, CLICKHOUSE_START_TIMEOUT_S)))
    else:
        waits.append(("clickhouse", lambda: _check_external_clickhouse(settings)))

    _run_parallel(waits)
    progress(
        f"stack up in {time.monotonic() - started:.1f} s: kafka {settings.bootstrap}, clickhouse {_ch_endpoint(settings)}"
    )


def down(settings: Settings) -> None:
    """Stop the local servers (SIGTERM, wait, then SIGKILL). Idempotent.

    Servers named by ``kafka_bootstrap`` / ``clickhouse_url`` are never touched.
    """
    _run_parallel([("kafka", KafkaServer(settings).stop), ("clickhouse", ClickHouseServer(settings).stop)])


def status(settings: Settings) -> dict[str, dict]:
    """Per service: ``running``, ``pid``, ``endpoint``, ``healthy``, ``log``, ``external``."""
    result: dict[str, dict] = {}
    if settings.uses_local_kafka:
        k = KafkaServer(settings)
        pid = k.pid()
        result["kafka"] = _entry(pid is not None, pid, k.endpoint, pid is not None and k.healthy(3.0), k.log_path, False)
    else:
        ok = kafka_healthy(settings.kafka_bootstrap, 3.0, client_config(settings))
        result["kafka"] = _entry(ok, None, settings.kafka_bootstrap, ok, None, True)
    if settings.uses_local_clickhouse:
        c = ClickHouseServer(settings)
        pid = c.pid()
        result["clickhouse"] = _entry(pid is not None, pid, c.endpoint, pid is not None and c.healthy(3.0), c.log_path, False)
    else:
        ok = clickhouse_healthy(settings.clickhouse_url, 3.0)
        result["clickhouse"] = _entry(ok, None, _ch_endpoint(settings), ok, None, True)
    return result


def _entry(running: bool, pid: int | None, endpoint: str, healthy: bool, log_path, external: bool) -> dict:
    return {
        "running": running,
        "pid": pid,
        "endpoint": endpoint,
        "healthy": healthy,
        "log": str(log_path) if log_path else None,
        "external": external,
    }


def _ch_endpoint(settings: Settings) -> str:
    from urllib.parse import urlparse

    u = urlparse(settings.clickhouse)
    return f"{u.hostname}:{u.port or 9000}"


def _check_external_kafka(settings: Settings) -> None:
    deadline = time.monotonic() + EXTERNAL_CHECK_TIMEOUT_S
    while not kafka_healthy(settings.kafka_bootstrap, 5.0, client_config(settings)):
        if time.monotonic() > deadline:
            raise StackError(f"Kafka at KAFKA_BOOTSTRAP={settings.kafka_bootstrap} does not answer")
        time.sleep(1.0)


def _check_external_clickhouse(settings: Settings) -> None:
    deadline = time.monotonic() + EXTERNAL_CHECK_TIMEOUT_S
    while not clickhouse_healthy(settings.clickhouse_url, 5.0):
        if time.monotonic() > deadline:
            raise StackError(f"ClickHouse at CLICKHOUSE_URL ({_ch_endpoint(settings)}) does not answer SELECT 1")
        time.sleep(1.0)


def _run_parallel(jobs: list[tuple[str, Callable[[], None]]]) -> None:
    """Run ``jobs`` in threads; re-raise the first error (all errors are logged)."""
    errors: list[BaseException] = []

    def run(name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            log.error("%s: %s", name, exc)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job, name=f"stack-{job[0]}", daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise StackError("; ".join(str(e) for e in errors)) from errors[0]
