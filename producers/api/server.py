"""Run the intake (``gridflow intake``)."""

from __future__ import annotations

import uvicorn

from accounts.directory import AccountDirectory
from district import load_registry
from infra.kafka import ensure_topics
from infra.lifeline import watch
from infra.settings import Settings
from producers.api.app import create_app
from producers.api.index import ReportIndex
from producers.api.redrive import Redrive
from producers.api.verdicts import Verdicts
from producers.api.worker_client import CaseReader
from producers.api.writer import ReportWriter
from producers.networks.adapt import load_maps
from schemas.topics import declared


def build_app(settings: Settings):  # type: ignore[no-untyped-def]
    """The intake app wired to Kafka and the workers named in ``settings``."""
    # Data first: a bad mapping table stops the intake here, naming file and line.
    maps = load_maps(settings.networks_dir or None)
    index, writer, cases = ReportIndex(settings), ReportWriter(settings), CaseReader(settings)
    return create_app(
        directory=AccountDirectory(settings),
        index=index,
        writer=writer,
        cases=cases,
        verdicts=Verdicts(settings),
        settings=settings,
        redrive=Redrive(settings, index, cases, writer),
        maps=maps,
    )


def run_intake(settings: Settings) -> None:
    """Serve the intake until stopped."""
    watch(settings.lifeline_fd)  # started by the demo or a test: stop when it dies
    try:
        ensure_topics(settings, declared(load_registry().department_codes))
    except Exception:  # Kafka down at start: the intake starts anyway and answers 503 until it is back
        pass
    uvicorn.run(
        build_app(settings),
        host=settings.intake_host,
        port=settings.intake_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        ssl_certfile=settings.intake_tls_cert or None,
        ssl_keyfile=settings.intake_tls_key or None,
        # Live streams never end by themselves: without a bound uvicorn would wait for them for ever
        # and never reach the app's shutdown (which stops the alert hub and the Kafka clients).
        timeout_graceful_shutdown=5,
        # uvicorn's default of 5 s equals the 503's Retry-After: a phone waiting it out and sending again on the
        # same connection met the server closing it (a dropped request, RemoteProtocolError, in the Kafka fault test).
        timeout_keep_alive=int(settings.intake_keep_alive_s),
    )
