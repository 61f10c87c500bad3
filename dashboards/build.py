"""The command centre's dashboards, built with grafana-foundation-sdk (``python -m dashboards.build``).

So far: the overview (intake, backlog, breaches now, open P1, triage queue)
and the district indicators per department with DESIGN's formulas — the same
counts as ``gridflow report --by department`` as of now. The filters are
single-select template variables whose "all" value is ``%`` (used with
LIKE), so one SQL text serves a value and "all". Days are Asia/Shanghai days.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import VariableOption

from dashboards.clickhouse_query import SQL, TIME_SERIES

OUT = Path(__file__).resolve().parent / "json"
DB = "gridflow"
OPEN = "('accepted', 'triage', 'dispatched', 'signed', 'in_progress', 'resolved')"
#: the template variables' filter on the cases table
FILTERS = (
    "ifNull(town, '') LIKE '${town}' AND ifNull(lead_department, '') LIKE '${department}' "
    "AND ifNull(category, '') LIKE '${category}' AND ifNull(severity, '') LIKE '${severity}'"
)


def _choices(name: str, label: str, values: list[tuple[str, str]]) -> dashboard.CustomVariable:
    """A single-select variable whose first option, 全部, is ``%``."""
    options = [("全部", "%"), *values]
    query = ",".join(f"{text} : {value}" for text, value in options)
    return (
        dashboard.CustomVariable(name)
        .label(label)
        .values(query)
        .current(VariableOption(text="全部", value="%", selected=True))
    )


def _variables() -> list[dashboard.CustomVariable]:
    from district import load_registry
    from routing import load_taxonomy

    registry, taxonomy = load_registry(), load_taxonomy()
    return [
        _choices("town", "镇街", [(t.name, t.code) for t in registry.towns]),
        _choices("department", "部门", [(d.name, d.code) for d in registry.departments]),
        _choices("category", "类别", [(c.name, c.code) for c in taxonomy.categories.values()]),
        _choices("severity", "紧急程度", [("紧急", "P1"), ("重要", "P2"), ("一般", "P3"), ("咨询", "P4")]),
    ]


def _board(uid: str, title: str) -> dashboard.Dashboard:
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(["gridflow"])
        .timezone("Asia/Shanghai")
        .refresh("30s")
        .time("now-24h", "now")
        .editable()
    )
    for variable in _variables():
        board = board.with_variable(variable)
    return board


def _stat(title: str, sql: str, unit: str = "none") -> stat.Panel:
    return stat.Panel().title(title).unit(unit).height(5).span(4).with_target(SQL(sql))


def overview() -> dashboard.Dashboard:
    """指挥中心总览: what needs attention now."""
    cases = f"{DB}.cases FINAL"
    return (
        _board("gridflow-overview", "指挥中心总览")
        .with_panel(_stat("时段内受理", f"SELECT count() FROM {cases} WHERE $__timeFilter(received_at) AND {FILTERS}"))
        .with_panel(_stat("在办积压", f"SELECT count() FROM {cases} WHERE state IN {OPEN} AND {FILTERS}"))
        .with_panel(
            _stat(
                "当前超时",
                f"SELECT count() FROM {cases} WHERE {FILTERS} AND ((state = 'dispatched' AND sign_deadline < now()) "
                "OR (state IN ('dispatched', 'signed', 'in_progress') AND isNull(suspended_at) "
                "AND resolve_deadline < now()))",
            )
        )
        .with_panel(_stat("在办紧急 (P1)", f"SELECT count() FROM {cases} WHERE state IN {OPEN} AND severity = 'P1' AND {FILTERS}"))
        .with_panel(_stat("待人工分拨", f"SELECT count() FROM {cases} WHERE state = 'triage' AND {FILTERS}"))
        .with_panel(
            timeseries.Panel()
            .title("受理量（每时段）")
            .height(9)
            .span(24)
            .with_target(
                SQL(
                    f"SELECT $__timeInterval(received_at) AS time, count() AS `受理` FROM {cases} "
                    f"WHERE $__timeFilter(received_at) AND {FILTERS} GROUP BY time ORDER BY time",
                    fmt=TIME_SERIES,
                )
            )
        )
    )


#: DESIGN's indicators per department, as gridflow report computes them as of now: a case belongs to
#: its lead, except that a return counts against the department that returned it.
INDICATORS_SQL = f"""SELECT
    dept AS `部门`,
    sum(is_lead) AS `派遣案件数`,
    sumIf(sign_ok, is_lead) / nullIf(sumIf(sign_base, is_lead), 0) AS `及时签收率`,
    sumIf(resolve_ok, is_lead) / nullIf(sumIf(resolve_base, is_lead), 0) AS `按期办结率`,
    sumIf(closed, is_lead) / nullIf(sum(is_lead), 0) AS `结案率`,
    sumIf(reopened, is_lead) / nullIf(sumIf(resolved_once, is_lead), 0) AS `返工率`,
    sum(returned_here) / nullIf(count(), 0) AS `退回率`
FROM
(
    SELECT
        arrayJoin(arrayDistinct(arrayConcat([ifNull(lead_department, '-')], returned_by))) AS dept,
        dept = ifNull(lead_department, '-') AS is_lead,
        has(returned_by, dept) AS returned_here,
        isNotNull(signed_at) AND signed_at <= sign_deadline AS sign_ok,
        isNotNull(signed_at) OR (state = 'dispatched' AND sign_deadline < now()) AS sign_base,
        isNull(suspended_at) AND state IN ('resolved', 'closed') AND resolved_at <= resolve_deadline AS resolve_ok,
        isNull(suspended_at) AND (state IN ('resolved', 'closed')
            OR (state IN ('dispatched', 'signed', 'in_progress') AND resolve_deadline < now())) AS resolve_base,
        state = 'closed' AS closed,
        reopen_count > 0 AS reopened,
        isNotNull(first_resolved_at) AS resolved_once
    FROM {DB}.cases FINAL
    WHERE isNotNull(dispatched_at) AND on_the_spot = 0 AND state NOT IN ('rejected', 'merged')
        AND $__timeFilter(dispatched_at) AND {FILTERS}
)
WHERE dept LIKE '${{department}}'
GROUP BY dept
ORDER BY `派遣案件数` DESC"""


def indicators() -> dashboard.Dashboard:
    """综合评价: 及时签收率, 按期办结率, 结案率, 返工率, 退回率 per department (cases of the period by first dispatch)."""
    return (
        _board("gridflow-indicators", "综合评价（部门）")
        .time("now-30d", "now")
        .with_panel(table.Panel().title("各部门指标").height(14).span(24).unit("percentunit").with_target(SQL(INDICATORS_SQL)))
    )


DASHBOARDS = {"overview": overview, "indicators": indicators}


def render(name: str) -> str:
    """One dashboard's JSON text, as committed."""
    return json.dumps(DASHBOARDS[name]().build(), cls=JSONEncoder, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write(out: Path = OUT) -> list[Path]:
    """Regenerate every dashboard's JSON file; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in DASHBOARDS:
        path = out / f"gridflow-{name}.json"
        path.write_text(render(name), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    for path in write():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__: list[Any] = ["DASHBOARDS", "render", "write", "INDICATORS_SQL"]
