"""``gridflow report``: the indicator table as text, CSV, JSON or a spreadsheet (.xlsx).

A spreadsheet is what district offices pass around, so the xlsx has Chinese
headers, percentages formatted as such and one sheet per report.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from analytics.targets import Target

# (key in the indicator row, Chinese header, kind)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("key", "分组", "text"),
    ("dispatched", "派遣案件数", "int"),
    ("及时签收率", "及时签收率", "rate"),
    ("按期办结率", "按期办结率", "rate"),
    ("结案率", "结案率", "rate"),
    ("返工率", "返工率", "rate"),
    ("退回率", "退回率", "rate"),
    ("on_the_spot", "自行处置数", "int"),
    ("sign_p50_s", "签收用时 p50 (小时)", "hours"),
    ("sign_p90_s", "签收用时 p90 (小时)", "hours"),
    ("resolve_p50_s", "办结用时 p50 (小时)", "hours"),
    ("resolve_p90_s", "办结用时 p90 (小时)", "hours"),
    ("dispatch_p50_s", "派遣用时 p50 (小时)", "hours"),
    ("close_p50_s", "结案用时 p50 (小时)", "hours"),
)
FORMATS = ("table", "csv", "json", "xlsx")


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "hours":
        return round(value / 3600, 2)
    return value


def _text(value: Any, kind: str) -> str:
    value = _cell(value, kind)
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    return str(value)


def render(rows: Sequence[dict[str, Any]], fmt: str, *, title: str, out: Path | None = None,
           targets: Mapping[str, Target] | None = None) -> str:
    """The report in ``fmt``; for xlsx, written to ``out`` and its path returned.

    With ``targets``, the text table marks each rate that misses its target
    with ``*`` and names the targets below the table.
    """
    if fmt == "json":
        return json.dumps({"title": title, "rows": list(rows)}, ensure_ascii=False, indent=2, default=str)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([h for _, h, _ in COLUMNS])
        for row in rows:
            writer.writerow(["" if (v := _cell(row.get(k), kind)) is None else v for k, _, kind in COLUMNS])
        return buffer.getvalue()
    if fmt == "xlsx":
        if out is None:
            raise ValueError("--format xlsx needs --out FILE.xlsx")
        return str(_xlsx(rows, title, out))
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r} (expected {', '.join(FORMATS)})")
    targets = targets or {}

    def text(row: dict[str, Any], key: str, kind: str) -> str:
        missed = key in targets and targets[key].met(row.get(key)) is False
        return _text(row.get(key), kind) + ("*" if missed else "")

    cells = [[h for _, h, _ in COLUMNS]] + [[text(row, k, kind) for k, _, kind in COLUMNS] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = [title] + ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip() for r in cells]
    if targets:
        bounds = "，".join(f"{t.rate} {'≥' if t.bound == 'at_least' else '≤'}{t.value:.0%}" for t in targets.values())
        lines.append(f"* 未达考核目标（{bounds}）")
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Display width: a CJK character takes two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _xlsx(rows: Sequence[dict[str, Any]], title: str, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "指标"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([h for _, h, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(row.get(k), kind) for k, _, kind in COLUMNS])
        for (_, _, kind), cell in zip(COLUMNS, sheet[sheet.max_row]):
            if kind == "rate":
                cell.number_format = "0.0%"
    for letter, (_, header, _) in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", COLUMNS):
        sheet.column_dimensions[letter].width = max(10, _width(header) + 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def title_for(by: str, since: datetime, until: datetime, as_of: datetime) -> str:
    """The report's heading, in Chinese, with the period and the as-of time (Asia/Shanghai)."""
    from analytics.indicators import SHANGHAI

    names = {"department": "部门", "town": "镇街", "grid": "网格", "category": "类别", "day": "日期", "network": "来源网络"}
    fmt = "%Y-%m-%d %H:%M"
    return (
        f"综合评价（按{names[by]}）期间 {since.astimezone(SHANGHAI).strftime(fmt)} 至 "
        f"{until.astimezone(SHANGHAI).strftime(fmt)}，截至 {as_of.astimezone(SHANGHAI).strftime(fmt)}"
    )
