from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timezone

import pytest

from schemas import tables
from schemas.alert import DepartmentAlert
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.clickhouse import row
from schemas.pii import (
    FREE_TEXT,
    mask_free_text,
    mask_phone,
    mask_phones_in_text,
    masked,
    personal_fields,
)
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


# --- phones typed into free text --------------------------------------------------------------------

TYPED = "请联系王先生 +86 138-1234-5678 或 0771-5521234，备用１３９１２３４５６７８。"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("请联系13812345678", "请联系138****5678"),
        ("电话 138 1234 5678。", "电话 138****5678。"),
        ("+8613812345678", "138****5678"),
        ("86-138-1234-5678", "138****5678"),
        ("手机１３８１２３４５６７８", "手机138****5678"),  # full-width digits, as an input method types them
        ("Tel13812345678号", "Tel138****5678号"),
        ("座机0771-5521234", "座机0771-***1234"),
        ("(010)12345678", "(010)****5678"),
        ("（0771）5521234", "（0771）***1234"),
        ("07715521234", "0771***1234"),
        # not phones: an id number, a timestamp, a case number, a date, ten digits, twelve digits
        ("身份证450102199001011234", "身份证450102199001011234"),
        ("时间20261125084000", "时间20261125084000"),
        ("案件 XL-20261125-0042", "案件 XL-20261125-0042"),
        ("2026-11-25 08:40", "2026-11-25 08:40"),
        ("1381234567", "1381234567"),
        ("138123456789", "138123456789"),
        ("", ""),
    ],
)
def test_mask_phones_in_text(text: str, shown: str) -> None:
    assert mask_phones_in_text(text) == shown
    assert mask_phones_in_text(shown) == shown  # masking twice changes nothing


def _no_phone(blob: str) -> None:
    assert not re.search(r"1[3-9]\d{9}|1[3-9]\d[ -]\d{4}[ -]\d{4}|5521234|１３９", blob), blob


def _typed_report() -> AcceptedReport:
    return _accepted().model_copy(update={"title": "路灯不亮 13812345678", "description": TYPED})


def test_clickhouse_rows_mask_phones_typed_into_text() -> None:
    values = row(_typed_report(), case_id="6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61")
    assert values["title"] == "路灯不亮 138****5678"
    assert values["description"] == "请联系王先生 138****5678 或 0771-***1234，备用139****5678。"
    _no_phone(json.dumps(values, ensure_ascii=False, default=str))


def _case(**changes: object) -> Case:
    at = datetime(2026, 11, 25, 1, tzinfo=UTC)
    return Case(
        case_id="6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61", case_no="XL-20261125-0042", seq=2,
        report_id="0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10", source="mobile", title="路灯不亮 13812345678",
        description=TYPED, reporter_id="w1", reporter_phone=PHONE, state="dispatched", lead_department="CG",
        received_at=at, accepted_at=at, updated_at=at, **changes,  # type: ignore[arg-type]
    )  # fmt: skip


def test_case_rows_mask_phones_typed_into_text() -> None:
    values = row(_case())
    assert values["description"].startswith("请联系王先生 138****5678")
    _no_phone(json.dumps(values, ensure_ascii=False, default=str))


def test_case_event_rows_mask_notes_and_reasons_but_not_ids() -> None:
    photo = "13812345678abcdef13812345678abcd"  # a photo id may hold a phone-shaped run: it is no text
    event = CaseEvent(
        case_id="6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61", case_no="XL-20261125-0042", seq=3, type="resolved",
        state="resolved", actor_id="cg-01", actor_role=Role.DEPARTMENT_STAFF, at=datetime.now(UTC),
        payload={"note": "已修好，业主电话13812345678", "reason": "联系 0771-5521234", "photos": [photo],
                 "nested": {"note": "13912345678"}},
    )  # fmt: skip
    payload = json.loads(row(event)["payload"])
    assert payload["note"] == "已修好，业主电话138****5678"
    assert payload["reason"] == "联系 0771-***1234"
    assert payload["nested"]["note"] == "139****5678"
    assert payload["photos"] == [photo]


def test_department_alerts_mask_phones_typed_into_text() -> None:
    from processors.lifecycle.dispatching import alert_for

    case = _case()
    event = CaseEvent(
        case_id=case.case_id, case_no=case.case_no, seq=2, type="dispatched", state="dispatched",
        actor_id="system", actor_role=Role.SYSTEM, at=case.updated_at, department="CG",
    )  # fmt: skip
    alert = alert_for(case, event, "CG", lead=True)
    assert alert.title == "路灯不亮 138****5678"
    _no_phone(alert.model_dump_json())


def test_masked_dict_masks_typed_phones_too() -> None:
    _no_phone(json.dumps(masked(_typed_report()), ensure_ascii=False, default=str))


def test_free_text_is_declared_where_people_type() -> None:
    assert {"title", "description", "note", "reason"} <= FREE_TEXT
    assert {"title", "description"} <= set(DepartmentAlert.model_fields) & set(Case.model_fields) & set(Report.model_fields)
    assert mask_free_text({"history": [{"payload": {"note": "13812345678"}}], "case_no": "13812345678"}) == {
        "history": [{"payload": {"note": "138****5678"}}], "case_no": "13812345678"
    }
