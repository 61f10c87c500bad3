"""Accept a report (受理): place and classify it, pass it on for numbering; dead-letter a conflicting body.

An exact repeat still passes its opening on: if a worker died after
remembering the report but before its opening reached Kafka, the replay
must finish the job. Everything downstream is keyed by the derived case id
(:func:`case_id_for`), so a second opening changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from classifier import ReportClassifier
from district import Registry, place_report
from processors.lifecycle.decide import classification_of, report_text
from schemas.case_flow import UNKNOWN_TOWN, CaseOpening, RejectedReport
from schemas.report import AcceptedReport

if TYPE_CHECKING:
    from processors.pipeline import Pipeline

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_NAMESPACE = uuid.UUID("6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61")


def register(p: Pipeline) -> None:
    """Run :func:`accept_one` over the reports topic."""
    p.each(p.reports, "accept-reports", accept_one)


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


def case_id_for(report_id: uuid.UUID) -> uuid.UUID:
    """The case a report opens: a UUIDv5 of the report id, the same every time the report is processed."""
    return uuid.uuid5(CASE_NAMESPACE, str(report_id))


def shanghai_day(when: datetime) -> str:
    """YYYYMMDD of ``when`` in Asia/Shanghai (case numbers count local days)."""
    return when.astimezone(SHANGHAI).strftime("%Y%m%d")


def opening_for(report: AcceptedReport, registry: Registry, classifier: ReportClassifier) -> CaseOpening:
    """Place and classify the report (pure), and say which town's numbering it joins."""
    point = report.location
    placement = place_report(
        registry,
        report.grid_id,
        point.lat if point else None,
        point.lon if point else None,
        point.datum.value if point else None,
    )
    return CaseOpening(
        case_id=case_id_for(report.report_id),
        town=placement.town_code or UNKNOWN_TOWN,
        day=shanghai_day(report.received_at),
        grid_id=placement.grid_id,
        lat=placement.lat,
        lon=placement.lon,
        place_note=placement.reason.code if placement.reason else None,
        classification=classification_of(
            classifier,
            report_text(report),
            report.category_hint.value if report.category_hint else None,
            report.severity_hint.value if report.severity_hint else None,
            report.subcategory_hint,
        ),
        report=report,
    )
