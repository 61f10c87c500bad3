"""Accept a report (受理): drop exact repeats, dead-letter a conflicting body, place and classify it, pass it on for numbering.

An exact repeat still passes its opening on: if a worker died after
remembering the report but before its opening reached Kafka, the replay
must finish the job. Everything downstream is keyed by the derived case id,
so a second opening changes nothing.
"""

from __future__ import annotations

import logging

from processors.opening import opening_for
from processors.pipeline import Pipeline
from schemas.case_flow import RejectedReport
from schemas.report import AcceptedReport

logger = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    @p.app.agent(p.reports, name="accept-reports")
    async def accept(stream):  # type: ignore[no-untyped-def]
        async for report in stream:
            await accept_one(p, report)


async def accept_one(p: Pipeline, report: AcceptedReport) -> None:
    """Handle one accepted report from the intake."""
    key = str(report.report_id).encode()
    known = p.report_links.get(key)
    if known is not None and known["fingerprint"] != report.fingerprint_sha256:
        logger.warning("report %s repeated with another body: dead-lettered", report.report_id)
        await p.rejected.send(
            key=key,
            value=RejectedReport(
                report_id=str(report.report_id),
                reason="conflicting_body",
                detail="report_id was first accepted with a different body (字段 report_id 重复)",
                at=p.clock.now(),
                fingerprint_sha256=report.fingerprint_sha256,
            ),
        )
        return
    opening = opening_for(report, p.registry, p.classifier)
    await p.openings.send(key=opening.town.encode(), value=opening)
    if known is None:
        p.report_links[key] = {
            "report_id": str(report.report_id),
            "fingerprint": report.fingerprint_sha256,
            "case_id": str(opening.case_id),
            "reporter_id": report.reporter_id,
            "received_at": report.received_at.isoformat(),
        }
