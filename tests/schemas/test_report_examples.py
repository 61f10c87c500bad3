"""Every example payload in schemas/examples/report is judged as its file name says.

``valid__*.json`` must validate; ``invalid__<field>__*.json`` must be refused
with an error that names ``<field>``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from district import load_registry
from schemas.report import AcceptedReport, Report
from schemas.vocabulary import Role

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "schemas" / "examples" / "report").glob("*.json"))


def _field_of(error: dict) -> str:
    return ".".join(str(p) for p in error["loc"])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    kind, *rest = path.stem.split("__")
    if kind == "valid":
        report = Report.model_validate(data)
        if report.grid_id:
            assert load_registry().grid(report.grid_id) is not None, "examples use real grids"
    else:
        field = rest[0]
        with pytest.raises(ValidationError) as caught:
            Report.model_validate(data)
        assert field in {_field_of(e) for e in caught.value.errors()}


def test_there_are_valid_and_invalid_examples() -> None:
    kinds = {p.stem.split("__")[0] for p in EXAMPLES}
    assert kinds == {"valid", "invalid"}


def test_fingerprint_ignores_key_order_and_whitespace_but_not_content() -> None:
    data = json.loads(EXAMPLES[-1].read_text(encoding="utf-8"))
    a = Report.model_validate(data)
    b = Report.model_validate(dict(reversed(list(data.items()))) | {"title": "  " + data["title"] + " "})
    assert a.fingerprint() == b.fingerprint()
    c = Report.model_validate(data | {"description": data["description"] + "。"})
    assert a.fingerprint() != c.fingerprint()


def test_the_reporter_cannot_come_from_the_body() -> None:
    data = json.loads(EXAMPLES[-1].read_text(encoding="utf-8"))
    with pytest.raises(ValidationError):
        Report.model_validate(data | {"reporter_id": "x"})
    with pytest.raises(ValidationError):
        Report.model_validate(data | {"received_at": "2026-11-25T00:00:00Z"})


def test_accepted_report_keeps_the_body_and_its_fingerprint() -> None:
    from datetime import datetime, timezone

    report = Report.model_validate(json.loads(EXAMPLES[-1].read_text(encoding="utf-8")))
    accepted = AcceptedReport.stamp(
        report, reporter_id="wgy-1", reporter_role=Role.GRID_WORKER, received_at=datetime.now(timezone.utc)
    )
    assert accepted.body() == report
    assert accepted.fingerprint_sha256 == report.fingerprint()
    assert AcceptedReport.model_validate_json(accepted.model_dump_json()) == accepted


def test_json_schema_marks_the_phone_as_personal() -> None:
    schema = Report.model_json_schema()
    assert schema["properties"]["reporter_phone"]["x-personal-information"] == "phone"
    assert schema["additionalProperties"] is False
