"""The intake's report index stays bounded: confirmed old reports are forgotten, unconfirmed ones never."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from harness import report_body

from infra.settings import Settings
from producers.api.index import ReportIndex
from schemas.report import AcceptedReport, Report
from schemas.vocabulary import Role

NOW = datetime.now(timezone.utc)


def _accepted(received_at: datetime) -> AcceptedReport:
    when = (received_at - timedelta(hours=1)).isoformat()
    report = Report.model_validate(report_body(report_id=str(uuid.uuid4()), occurred_at=when))
    return AcceptedReport.stamp(report, reporter_id="wgy-xl-01", reporter_role=Role.GRID_WORKER, received_at=received_at)


def test_confirmed_reports_past_the_window_are_forgotten_unconfirmed_kept() -> None:
    index = ReportIndex(Settings(intake_index_hours=48))
    old = [index.remember(_accepted(NOW - timedelta(hours=60))) for _ in range(10)]
    keys = list(index._seen)
    for key in keys[:8]:
        index.confirm(key)  # eight became cases; two still wait for a worker
    recent = [index.remember(_accepted(NOW)) for _ in range(ReportIndex.SWEEP_EVERY)]
    assert len(old) == 10 and len(recent) == ReportIndex.SWEEP_EVERY
    assert all(index.get(k) is None for k in keys[:8])
    assert all(index.get(k) is not None for k in keys[8:])
    assert len(index) == ReportIndex.SWEEP_EVERY + 2


def test_past_the_cap_the_oldest_confirmed_go_first() -> None:
    index = ReportIndex(Settings(intake_index_max=100))
    reports = [_accepted(NOW - timedelta(minutes=300 - i)) for i in range(100)]
    for r in reports:
        index.remember(r)
        index.confirm(str(r.report_id))
    waiting = _accepted(NOW)
    index.remember(waiting)  # the 101st: one confirmed report must go
    assert len(index) <= 100 and index.get(str(reports[0].report_id)) is None
    assert index.get(str(reports[-1].report_id)) is not None and index.get(str(waiting.report_id)) is not None
