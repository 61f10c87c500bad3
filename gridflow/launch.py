"""The local pipeline as ``gridflow demo`` and ``gridflow soak`` run it: stack, topics, tables, then the services.

Both commands start the same children the same way, so they live here once:
:func:`prepare` (the demo's minute SLAs unless a routing folder is set, the
stack, every topic Faust and gridflow need, the ClickHouse migrations),
:func:`start_services` (the workers and the intake, each tied to this
process by its lifeline — :mod:`gridflow.services`), :func:`wait_ready`
and :func:`stop_services`. :func:`running` is the three as one ``with``.

Kafka and ClickHouse are not stopped here: ``gridflow stack up`` is the
long-lived, shared part, stopped only by ``gridflow stack down``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import routing
from gridflow import services, stale
from infra import stack
from infra.clickhouse import ServerEngine
from infra.kafka import ensure_topics
from infra.settings import Settings
from processors.pipeline import internal_topics
from schemas.migrate import apply
from schemas.topics import declared

Say = Callable[[str], None]

#: the routing rules with an SLA table in minutes, so late signs and resolves happen within a run
DEMO_ROUTING = Path(routing.__file__).resolve().parent / "demo"

READY_INTAKE_S = 90
READY_WORKER_S = 120
SETTLED_GROUP_S = 120


def ports_taken(settings: Settings, workers: int, say: Say) -> bool:
    """Say who answers on the ports this run needs (a killed earlier run's leftovers); True if any does.

    Never talk to an intake or workers someone else started: the caller stops instead.
    """
    taken = stale.squatters(settings, workers)
    for squatter in taken:
        say(squatter.message())
    return bool(taken)


def prepare(settings: Settings, say: Say) -> Settings:
    """Bring up the stack, its topics and tables; return the settings the services run with (demo SLAs)."""
    from district import load_registry

    if not settings.routing_dir:
        # Minutes instead of hours, so that late signs and resolves happen within the run.
        settings = settings.replace(routing_dir=str(DEMO_ROUTING))
        say(f"演示用时限 demo SLAs in minutes: {DEMO_ROUTING / 'sla.yaml'}")
    say("启动 Kafka 与 ClickHouse … (starting the stack)")
    stack.up(settings, progress=say)
    ensure_topics(settings, declared(load_registry().department_codes), internal=internal_topics(settings))
    engine = ServerEngine.from_settings(settings)
    try:
        apply(engine, settings.clickhouse_database)
    finally:
        engine.close()
    return settings


def start_services(settings: Settings, workers: int, say: Say) -> list[services.Service]:
    """Start ``workers`` workers and the intake (in that order) and name their pids; stop them all if one fails to start."""
    children = [services.worker(settings, i) for i in range(workers)] + [services.intake(settings)]
    try:
        for child in children:
            child.start()
    except BaseException:
        stop_services(children)
        raise
    say("服务进程 processes: " + ", ".join(f"{child.name} pid {child.pid}" for child in children))
    return children


def wait_ready(settings: Settings, workers: int) -> None:
    """Until the intake answers, each worker serves its tables and the group has settled (TimeoutError otherwise)."""
    services.wait_until(services.intake_ready(settings), READY_INTAKE_S, "intake")
    for i in range(workers):
        services.wait_until(services.worker_ready(settings, i), READY_WORKER_S, f"worker {i}")
    services.wait_until(services.group_settled(settings, workers), SETTLED_GROUP_S, "worker group")


def stop_services(children: list[services.Service]) -> None:
    """Stop the children in the reverse order of their start: the intake first, so no report arrives at a stopping worker."""
    for child in reversed(children):
        child.stop()


@contextmanager
def running(settings: Settings, workers: int, say: Say) -> Iterator[list[services.Service]]:
    """The services started and ready for the ``with`` block, stopped after it however it ends."""
    children = start_services(settings, workers, say)
    try:
        wait_ready(settings, workers)
        yield children
    finally:
        stop_services(children)


def interrupt_on_sigterm() -> None:
    """Make SIGTERM end this process as Ctrl-C does, so the ``finally`` that stops its children runs."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
