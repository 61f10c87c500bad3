"""Every panel's query, as Grafana would send it, on seeded cases in chdb and in Debian's ClickHouse 18.16.

The template variables are substituted and the plugin's macros expanded
(``dashboards.panel_sql``); each query must run, give the columns its
visualization reads, and give the numbers the seeded cases hold. The
indicator and response-time panels must agree with ``gridflow report``
(``analytics.indicators``) on the same data.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from casework import Worked, at, seeded_cases
from engines import ENGINES, migrated

from analytics.indicators import case_rows, indicators
from dashboards.grafana_objects import dashboards
from dashboards.panel_sql import PanelQuery, TimeRange, defaults, queries, rendered
from schemas.clickhouse import row

ROOT = Path(__file__).resolve().parents[2]
BOARDS = {b["uid"]: b for b in dashboards()}
QUERIES = [q for b in BOARDS.values() for q in queries(b)]
OPEN = {"accepted", "triage", "dispatched", "signed", "in_progress", "resolved"}
#: the dashboards' time picker over the seeded weeks; a one-hour panel interval
WINDOW = TimeRange(at(1, 0), datetime.now(timezone.utc) + timedelta(minutes=1), 3_600_000)
CASES = seeded_cases(300)
NUMERIC = ("UInt", "Int", "Float", "Decimal")


def _numeric(kind: str) -> bool:
    return kind.removeprefix("Nullable(").startswith(NUMERIC)


class Seeded:
    """One engine holding the seeded cases in a (migrated) database of its own."""

    def __init__(self, engine: Any, database: str) -> None:
        self.engine, self.database = engine, database
        versions = [row(v) for w in CASES for v in w.versions]
        engine.insert(f"{database}.cases", versions)
        engine.insert(f"{database}.case_versions", versions)

    def run(self, query: PanelQuery, **chosen: str) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        """The panel's query with the dashboard's defaults, ``chosen`` variables and WINDOW; columns and rows."""
        values = {**defaults(BOARDS[query.dashboard]), "database": self.database, **chosen}
        columns, rows = self.engine.query(rendered(query, values, WINDOW))
        return columns, [dict(zip([c for c, _ in columns], r)) for r in rows]


@pytest.fixture(scope="module", params=ENGINES)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with migrated(request.param, request, tmp_path_factory.mktemp("panels"), "t_panels") as engine:
        yield Seeded(engine, "t_panels")


def _panel(query: PanelQuery) -> dict[str, Any]:
    return next(p for p in BOARDS[query.dashboard]["panels"] if p["title"] == query.panel)


def _check_shape(query: PanelQuery, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
    """The columns the panel's visualization reads are there, with the types it needs."""
    names = [c for c, _ in columns]
    types = dict(columns)
    assert rows, f"{query.panel}: no rows on the seeded cases"
    assert len(set(names)) == len(names), f"{query.panel}: repeated column names {names}"
    for override in _panel(query).get("fieldConfig", {}).get("overrides", []):
        if override["matcher"]["id"] == "byName":  # an override that matches no column does nothing, silently
            assert override["matcher"]["options"] in names, (query.panel, override["matcher"]["options"])
    if query.panel_type == "stat":
        assert len(rows) == 1 and len(names) == 1 and _numeric(types[names[0]]), (query.panel, columns)
    elif query.panel_type == "timeseries":
        assert query.query_format == 0, query.panel  # the plugin's time series format
        assert types.get("time", "").removeprefix("Nullable(").startswith("DateTime"), (query.panel, columns)
        assert any(_numeric(t) for c, t in columns if c != "time"), (query.panel, columns)
        times = [r["time"] for r in rows]
        assert times == sorted(times), f"{query.panel}: rows not in time order"
    elif query.panel_type == "table":
        # label columns first (a department; or a day and a network), then only figures
        labels = next(i for i, (_, t) in enumerate(columns + [("", "UInt8")]) if _numeric(t))
        figures = columns[labels:]
        assert 1 <= labels <= 2 and figures and all(_numeric(t) for _, t in figures), (query.panel, columns)
    elif query.panel_type == "geomap":
        layer = _panel(query)["options"]["layers"][0]
        lookup, size = layer["location"]["lookup"], layer["config"]["size"]["field"]
        assert "String" in types[lookup] and _numeric(types[size]), (query.panel, columns)
        grids = {f["id"] for f in json.loads((ROOT / "district" / "data" / "grids.geojson").read_text())["features"]}
        assert {r[lookup] for r in rows} <= grids, f"{query.panel}: a grid the map's GeoJSON does not have"
    else:
        raise AssertionError(f"{query.panel}: no expectation for a {query.panel_type} panel")


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.dashboard}:{q.panel}")
def test_every_panel_runs_and_gives_what_its_visualization_reads(seeded: Seeded, query: PanelQuery) -> None:
    columns, rows = seeded.run(query)
    _check_shape(query, columns, rows)
    # A filter narrows the answer, and the same SQL text serves it.
    _, in_town = seeded.run(query, town="XL")
    assert len(in_town) <= len(rows) or query.panel_type == "stat"


def _latest() -> list[Any]:
    return [w.case for w in CASES]


def _overview(title: str) -> PanelQuery:
    return next(q for q in QUERIES if q.dashboard == "gridflow-overview" and q.panel == title)


def _overdue(case: Any, now: datetime) -> bool:
    state = case.state.value
    return (state == "dispatched" and case.sign_deadline < now) or (
        state in {"dispatched", "signed", "in_progress"} and case.suspended_at is None and case.resolve_deadline < now
    )


@pytest.mark.parametrize("town", ["%", "XL"])
def test_the_overview_counts_what_the_seeded_cases_hold(seeded: Seeded, town: str) -> None:
    cases = [c for c in _latest() if town == "%" or c.town == town]
    now = datetime.now(timezone.utc)
    expected = {
        "时段内受理": len(cases),
        "在办积压": sum(c.state.value in OPEN for c in cases),
        "当前超时": sum(_overdue(c, now) for c in cases),
        "在办紧急 (P1)": sum(c.state.value in OPEN and c.severity.value == "P1" for c in cases),
        "待人工分拨": sum(c.state.value == "triage" for c in cases),
    }
    got = {title: int(next(iter(seeded.run(_overview(title), town=town)[1][0].values()))) for title in expected}
    assert got == expected
    assert expected["在办积压"] > 0 and expected["当前超时"] > 0


def test_the_map_places_every_open_case_on_its_grid(seeded: Seeded) -> None:
    query = next(q for q in QUERIES if q.panel_type == "geomap")
    _, rows = seeded.run(query)
    expected = Counter(c.grid_id for c in _latest() if c.state.value in OPEN)
    assert {r["grid_id"]: int(r["open"]) for r in rows} == dict(expected)


def _report(seeded: Seeded) -> dict[str, dict[str, Any]]:
    """``gridflow report --by department`` over the dashboards' window, as of now, by department."""
    now = datetime.now(timezone.utc)
    rows = case_rows(seeded.engine, seeded.database, now, WINDOW.start, WINDOW.end)
    return {r["key"]: r for r in indicators(rows, "department", now)}


def test_the_indicator_panel_gives_the_numbers_of_gridflow_report(seeded: Seeded) -> None:
    query = next(q for q in QUERIES if q.dashboard == "gridflow-indicators")
    _, panel = seeded.run(query)
    report = _report(seeded)
    assert len(panel) >= 8, "the seeded cases reach too few departments to prove much"
    returned_somewhere = 0
    for line in panel:
        expected = report[line["部门"]]
        assert int(line["派遣案件数"]) == expected["dispatched"], line["部门"]
        for rate in ("及时签收率", "按期办结率", "结案率", "返工率", "退回率"):
            got = line[rate]
            assert (None if got is None else round(float(got), 4)) == expected[rate], (line["部门"], rate)
        returned_somewhere += expected["returned"]
    assert returned_somewhere > 0, "no return in the seeded cases: 退回率 is not tested"
    assert {k for k, r in report.items() if r["dispatched"] or r["returned"]} - {"合计"} == {l["部门"] for l in panel}


def _hours(panel_value: Any) -> float | None:
    """A panel's hours, rounded; NULL (or chdb's NaN for an empty quantile) as None."""
    if panel_value is None or (isinstance(panel_value, float) and panel_value != panel_value):
        return None
    return round(float(panel_value), 6)


def _hours_of_seconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 6)


def test_the_response_time_panel_gives_the_percentiles_of_gridflow_report(seeded: Seeded) -> None:
    query = next(q for q in QUERIES if q.dashboard == "gridflow-response-times" and q.panel == "按部门")
    _, panel = seeded.run(query)
    report = _report(seeded)
    for line in panel:
        expected = report[line["部门"]]
        assert int(line["派遣案件数"]) == expected["dispatched"]
        for got, want in ((line["签收 p50 (小时)"], expected["sign_p50_s"]), (line["签收 p90 (小时)"], expected["sign_p90_s"]),
                          (line["办结 p50 (小时)"], expected["resolve_p50_s"]),
                          (line["办结 p90 (小时)"], expected["resolve_p90_s"])):
            assert _hours(got) == _hours_of_seconds(want), line["部门"]


def test_seeded_cases_cover_the_courses_the_panels_count() -> None:
    states = Counter(c.state.value for c in _latest())
    assert {"dispatched", "signed", "resolved", "closed"} <= set(states)
    assert any(c.reopen_count for c in _latest()) and any(c.returned_by for c in _latest())
    assert isinstance(CASES[0], Worked)


def test_the_daily_trend_gives_the_percentiles_of_gridflow_report_by_day(seeded: Seeded) -> None:
    query = next(q for q in QUERIES if q.dashboard == "gridflow-response-times" and q.panel_type == "timeseries")
    _, panel = seeded.run(query)
    now = datetime.now(timezone.utc)
    rows = case_rows(seeded.engine, seeded.database, now, WINDOW.start, WINDOW.end)
    report = {r["key"]: r for r in indicators(rows, "day", now) if r["key"] != "合计"}
    days = {str(line["time"])[:10]: line for line in panel}  # a Shanghai midnight, whichever engine gave it
    assert set(days) == {k for k, r in report.items() if r["dispatched"]}
    for day, line in days.items():
        for column, key in (("签收 p50 (小时)", "sign_p50_s"), ("办结 p90 (小时)", "resolve_p90_s")):
            want, got = report[day][key], line[column]
            assert _hours(got) == _hours_of_seconds(want), (day, column)
