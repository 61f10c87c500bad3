"""The report's formats: a table a terminal aligns, CSV and JSON for machines, xlsx for the office."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

from openpyxl import load_workbook

from analytics.report import COLUMNS, render, title_for

ROWS = [
    {"key": "CG", "dispatched": 4, "及时签收率": 0.5, "按期办结率": 0.75, "结案率": 0.25, "返工率": None,
     "退回率": 0.0, "on_the_spot": 1, "sign_p50_s": 1800, "sign_p90_s": 10800},
    {"key": "合计", "dispatched": 4, "及时签收率": 0.5, "按期办结率": 0.75, "结案率": 0.25, "返工率": None,
     "退回率": 0.0, "on_the_spot": 1, "sign_p50_s": 1800, "sign_p90_s": 10800},
]  # fmt: skip
T = datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_table_shows_percentages_hours_and_dashes() -> None:
    text = render(ROWS, "table", title=title_for("department", T, T, T))
    lines = text.splitlines()
    assert lines[0].startswith("综合评价（按部门）")
    assert "50.0%" in lines[2] and "0.5" in lines[2] and "-" in lines[2]  # sign p50 0.5 h; no 返工率


def test_csv_and_json_carry_the_numbers() -> None:
    parsed = list(csv.reader(io.StringIO(render(ROWS, "csv", title="t"))))
    assert parsed[0] == [h for _, h, _ in COLUMNS] and parsed[1][:3] == ["CG", "4", "0.5"]
    assert json.loads(render(ROWS, "json", title="t"))["rows"][0]["按期办结率"] == 0.75


def test_xlsx_opens_with_chinese_headers_and_percent_cells(tmp_path: Path) -> None:
    out = Path(render(ROWS, "xlsx", title="综合评价", out=tmp_path / "r.xlsx"))
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "综合评价" and sheet["B2"].value == "派遣案件数"
    assert sheet["C3"].value == 0.5 and sheet["C3"].number_format == "0.0%"
    assert sheet["I3"].value == 0.5  # 签收用时 p50 in hours


def test_table_marks_rates_that_miss_their_targets() -> None:
    from analytics.targets import load_targets

    lines = render(ROWS, "table", title="t", targets=load_targets()).splitlines()
    # 及时签收率 50% < 95%, 按期办结率 75% < 90%, 结案率 25% < 85% miss; 退回率 0% ≤ 10% meets; no 返工率 figure.
    assert lines[2].split()[2:7] == ["50.0%*", "75.0%*", "25.0%*", "-", "0.0%"]
    assert lines[-1] == "* 未达考核目标（及时签收率 ≥95%，按期办结率 ≥90%，结案率 ≥85%，返工率 ≤5%，退回率 ≤10%）"
