"""Run the intake (``gridflow intake``)."""

from __future__ import annotations

import uvicorn

from gridflow.accounts.directory import AccountDirectory
from gridflow.kafka import ensure_topics
from gridflow.settings import Settings
from producers.intake.app import create_app
from producers.intake.cases import CaseReader
from producers.intake.index import ReportIndex
from producers.intake.redrive import Redrive
from producers.intake.verdicts import Verdicts
from producers.intake.writer import ReportWriter


def build_app(settings: Settings):  # type: ignore[no-untyped-def]
    """The intake app wired to Kafka and the workers named in ``settings``."""
    index, writer, cases = ReportIndex(settings), ReportWriter(settings), CaseReader(settings)
    return create_app(
        directory=AccountDirectory(settings),
        index=index,
        writer=writer,
        cases=cases,
        verdicts=Verdicts(settings),
        settings=settings,
        redrive=Redrive(settings, index, cases, writer),
    )


def run_intake(settings: Settings) -> None:
    """Serve the intake until stopped."""
    try:
        ensure_topics(settings)
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
    )
