from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from schemas import tables
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.clickhouse import row
from schemas.pii import mask_phone, masked, personal_fields
from schemas.report import AcceptedReport, Report
from schemas.vocabulary import Role

PHONE = "13812345678"


@pytest.mark.parametrize(
    "raw, shown", [("13812345678", "138****5678"), ("", ""), (None, ""), ("12345", "*****"), ("1381234567", "138***4567")]
)
def test_mask_phone(raw: str | None, shown: str) -> None:
    assert mask_phone(raw) == shown


def test_personal_fields_are_declared_where_phones_live() -> None:
    assert personal_fields(Report) == {"reporter_phone": "phone"}
    # A network's original payload holds names and phones: withheld wherever it is stored.
    assert personal_fields(AcceptedReport) == {"reporter_phone": "phone", "original_payload": "payload"}
    assert personal_fields(Case) == {"reporter_phone": "phone", "original_payload": "payload"}
    # An alert has no field that could hold a full phone.
    assert "reporter_phone" not in DepartmentAlert.model_fields


def _accepted() -> AcceptedReport:
    report = Report(
        report_id="0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10",
        grid_id="XL-02-03",
        reporter_phone=PHONE,
        title="路灯不亮",
        description="村口路灯坏了",
        occurred_at=datetime(2026, 11, 25, 1, tzinfo=timezone.utc),
    )
    return AcceptedReport.stamp(report, reporter_id="w1", reporter_role=Role.GRID_WORKER, received_at=datetime.now(timezone.utc))


def test_clickhouse_rows_never_hold_the_full_phone() -> None:
    values = row(_accepted(), case_id="6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61")
    assert values["reporter_phone_masked"] == "138****5678"
    assert PHONE not in json.dumps(values, default=str)
    assert set(values) == {name for name, _ in tables.REPORTS.columns()}


def test_masked_dict_hides_the_phone() -> None:
    assert masked(_accepted())["reporter_phone"] == "138****5678"
    assert not re.search(r"1[3-9]\d{9}", json.dumps(masked(_accepted()), default=str))
