"""The command centre's dashboards, built with grafana-foundation-sdk (``gridflow dashboards build`` writes them).

The overview (intake, backlog, breaches now, open P1, triage queue); the
response times (p50/p90 to sign and resolve by department, town, category,
and the daily trend); the district indicators per department with DESIGN's
formulas — the same counts as ``gridflow report --by department`` as of now;
intake per source network; and the map of open cases over the grids' own
GeoJSON (no basemap tiles). The filters are
single-select template variables whose "all" value is ``%`` (used with
LIKE), so one SQL text serves a value and "all". Days are Asia/Shanghai days.
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DynamicConfigValue,
    VariableModel,
    VariableOption,
)

from analytics.targets import Target, load_targets
from dashboards.clickhouse_query import SQL, TIME_SERIES
from dashboards.provisioned import DATASOURCE_TYPE, DATASOURCE_UID, JSON_DIR
from schemas.case_sql import IS_OPEN, in_list, overdue
from schemas.vocabulary import CLOCK_RUNNING, NOT_WORK_STATES, RESOLVED_STATES, SlaClock

#: the database, a hidden constant variable: a district whose tables live elsewhere changes it in one place
DB = "${database}"
#: a case past its sign deadline unsigned, or past its resolve deadline unresolved (a suspended clock stands still)
OVERDUE = overdue("now()")
#: every panel's datasource: the plugin's, by the uid the provisioning file and ``dashboards push`` give it
DS = DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)
#: the template variables' filter on the cases table
FILTERS = (
    "ifNull(town, '') LIKE '${town}' AND ifNull(lead_department, '') LIKE '${department}' "
    "AND ifNull(category, '') LIKE '${category}' AND ifNull(severity, '') LIKE '${severity}'"
)
#: the cases the indicators count, as gridflow report does: first dispatched in the time range, not closed
#: on the spot, not rejected or merged (not work done), and within the filters
DISPATCHED_WORK = (
    f"isNotNull(dispatched_at) AND on_the_spot = 0 AND state NOT IN {in_list(NOT_WORK_STATES)} "
    f"AND $__timeFilter(dispatched_at) AND {FILTERS}"
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


def _bucket(column: str) -> str:
    """The start of ``column``'s time bucket of the panel's interval, on Shanghai's clock.

    Not the plugin's ``$__timeInterval``: that is toStartOfInterval, which Debian's
    ClickHouse 18.16 lacks, and it cuts day-long buckets at UTC midnight.
    """
    shift = 8 * 3600  # Asia/Shanghai has no daylight saving time
    return (
        f"toDateTime(intDiv(toUInt32({column}) + {shift}, $__interval_s) * $__interval_s - {shift}, 'Asia/Shanghai')"
    )


def _variables() -> list[cogbuilder.Builder[VariableModel]]:
    from district import load_registry
    from routing import load_taxonomy

    registry, taxonomy = load_registry(), load_taxonomy()
    return [
        dashboard.ConstantVariable("database").value("gridflow").description("gridflow 的 ClickHouse 数据库"),
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
    return stat.Panel().datasource(DS).title(title).unit(unit).height(5).span(4).with_target(SQL(sql))


def overview() -> dashboard.Dashboard:
    """指挥中心总览: what needs attention now."""
    cases = f"{DB}.cases FINAL"
    return (
        _board("gridflow-overview", "指挥中心总览")
        .with_panel(_stat("时段内受理", f"SELECT count() FROM {cases} WHERE $__timeFilter(received_at) AND {FILTERS}"))
        .with_panel(_stat("在办积压", f"SELECT count() FROM {cases} WHERE {IS_OPEN} AND {FILTERS}"))
        .with_panel(
            _stat(
                "当前超时",
                f"SELECT count() FROM {cases} WHERE {FILTERS} AND {OVERDUE}",
            )
        )
        .with_panel(_stat("在办紧急 (P1)", f"SELECT count() FROM {cases} WHERE {IS_OPEN} AND severity = 'P1' AND {FILTERS}"))
        .with_panel(_stat("待人工分拨", f"SELECT count() FROM {cases} WHERE state = 'triage' AND {FILTERS}"))
        .with_panel(
            timeseries.Panel().datasource(DS)
            .title("受理量（每时段）")
            .height(9)
            .span(24)
            .with_target(
                SQL(
                    f"SELECT {_bucket('received_at')} AS time, count() AS `受理` FROM {cases} "
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
        isNotNull(signed_at) OR (state IN {in_list(CLOCK_RUNNING[SlaClock.SIGN])} AND sign_deadline < now()) AS sign_base,
        isNull(suspended_at) AND state IN {in_list(RESOLVED_STATES)} AND resolved_at <= resolve_deadline AS resolve_ok,
        isNull(suspended_at) AND (state IN {in_list(RESOLVED_STATES)}
            OR (state IN {in_list(CLOCK_RUNNING[SlaClock.RESOLVE])} AND resolve_deadline < now())) AS resolve_base,
        state = 'closed' AS closed,
        reopen_count > 0 AS reopened,
        isNotNull(first_resolved_at) AS resolved_once
    FROM {DB}.cases FINAL
    WHERE {DISPATCHED_WORK}
)
WHERE dept LIKE '${{department}}'
GROUP BY dept
ORDER BY `派遣案件数` DESC"""


def _against(panel: table.Panel, target: Target) -> table.Panel:
    """Colour ``target.rate``'s cells green where the target is met, red where not; the header names the target."""
    # A threshold step applies from its value up; a ceiling is met at the value itself,
    # so red starts just above it.
    if target.bound == "at_least":
        steps = [{"color": "red", "value": None}, {"color": "green", "value": target.value}]
    else:
        steps = [{"color": "green", "value": None}, {"color": "red", "value": target.value + 1e-9}]
    sign = "≥" if target.bound == "at_least" else "≤"
    return panel.override_by_name(
        target.rate,
        [
            DynamicConfigValue(id_val="displayName", value=f"{target.rate}（目标 {sign}{target.value:.0%}）"),
            DynamicConfigValue(id_val="thresholds", value={"mode": "absolute", "steps": steps}),
            DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"}),
        ],
    )


def indicators() -> dashboard.Dashboard:
    """综合评价: 及时签收率, 按期办结率, 结案率, 返工率, 退回率 per department against the district's targets."""
    panel = (
        table.Panel().datasource(DS).title("各部门指标（本时段首次派遣的案件，截至现在）")
        .height(14).span(24).unit("percentunit").decimals(1)
        .override_by_name("派遣案件数", [DynamicConfigValue(id_val="unit", value="none"),
                                         DynamicConfigValue(id_val="decimals", value=0)])
        .with_target(SQL(INDICATORS_SQL))
    )
    for target in load_targets().values():
        panel = _against(panel, target)
    return _board("gridflow-indicators", "综合评价（部门）").time("now-30d", "now").with_panel(panel)


#: p50/p90 hours to sign and to resolve (quantileExact, as gridflow report)
PERCENTILES = ",\n    ".join(
    f"quantileExactIf({p})({what}_seconds, isNotNull({what}_seconds)) / 3600 AS `{name} p{int(p * 100)} (小时)`"
    for what, name in (("sign", "签收"), ("resolve", "办结"))
    for p in (0.5, 0.9)
)


def _durations_by(dimension: str, label: str) -> str:
    """p50/p90 hours to sign and to resolve, grouped by ``dimension`` (quantileExact, as gridflow report)."""
    return f"""SELECT ifNull({dimension}, '-') AS `{label}`,
    count() AS `派遣案件数`,
    {PERCENTILES}
FROM {DB}.cases FINAL
WHERE {DISPATCHED_WORK}
GROUP BY `{label}`
ORDER BY `派遣案件数` DESC"""


def response_times() -> dashboard.Dashboard:
    """响应时效: p50/p90 time to sign and to resolve by department, town and category, and the daily trend."""
    board = _board("gridflow-response-times", "响应时效").time("now-30d", "now")
    for dimension, label in (("lead_department", "部门"), ("town", "镇街"), ("category", "类别")):
        board = board.with_panel(
            table.Panel().datasource(DS).title(f"按{label}").height(10).span(24).decimals(2).with_target(SQL(_durations_by(dimension, label)))
        )
    trend = f"""SELECT toDateTime(toDate(dispatched_at, 'Asia/Shanghai'), 'Asia/Shanghai') AS time,
    {PERCENTILES}
FROM {DB}.cases FINAL
WHERE {DISPATCHED_WORK}
GROUP BY time
ORDER BY time"""
    return board.with_panel(
        timeseries.Panel().datasource(DS).title("每日趋势（上海时间的日）").height(9).span(24).with_target(SQL(trend, fmt=TIME_SERIES))
    )


def sources() -> dashboard.Dashboard:
    """受理来源: intake per source network (多网合一), and per network and day what became of its events."""
    per_source = f"""SELECT {_bucket('received_at')} AS time, source, count() AS n
FROM {DB}.cases FINAL
WHERE $__timeFilter(received_at) AND {FILTERS}
GROUP BY time, source
ORDER BY time"""
    totals = f"""SELECT source AS `来源网络`, count() AS `受理数`, countIf(on_the_spot = 1) AS `自行处置`
FROM {DB}.cases FINAL
WHERE $__timeFilter(received_at) AND {FILTERS}
GROUP BY source
ORDER BY `受理数` DESC"""
    # Received, mapped, sent to triage for an unknown code, merged into another case (一事多报), and an
    # import's bad lines (which never became reports: their own table), per network and Shanghai day.
    per_day = f"""SELECT day AS `日期`, network AS `来源网络`, sum(received) AS `受理`, sum(mapped) AS `编码映射`,
    sum(unmapped) AS `未知编码转人工`, sum(merged) AS `合并到已有案件`, sum(bad) AS `导入错误行`
FROM
(
    SELECT toDate(received_at, 'Asia/Shanghai') AS day, source AS network, count() AS received,
        countIf(isNull(mapping_note)) AS mapped, countIf(isNotNull(mapping_note)) AS unmapped,
        countIf(state = 'merged') AS merged, toUInt64(0) AS bad
    FROM {DB}.cases FINAL
    WHERE $__timeFilter(received_at) AND {FILTERS}
    GROUP BY day, network
    UNION ALL
    SELECT toDate(at, 'Asia/Shanghai') AS day, network, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0),
        count() AS bad
    FROM {DB}.rejected_events FINAL
    WHERE $__timeFilter(at)
    GROUP BY day, network
)
GROUP BY day, network
ORDER BY day DESC, network"""
    return (
        _board("gridflow-sources", "受理来源（多网合一）")
        .with_panel(timeseries.Panel().datasource(DS).title("各网络受理量").height(10).span(24).with_target(SQL(per_source, fmt=TIME_SERIES)))
        .with_panel(table.Panel().datasource(DS).title("合计").height(8).span(24).with_target(SQL(totals)))
        .with_panel(table.Panel().datasource(DS).title("各网络每日：受理、映射、转人工、合并、导入错误").height(10).span(24)
                    .with_target(SQL(per_day)))
    )


#: where Grafana serves the grids' GeoJSON (docker-compose mounts district/data/grids.geojson there)
GRIDS_GEOJSON = "public/maps/gridflow-grids.geojson"


def open_cases_map() -> dashboard.Dashboard:
    """在办案件分布: open cases over the grids' own polygons; no external basemap tiles."""
    from grafana_foundation_sdk.builders import common, geomap
    from grafana_foundation_sdk.models.common import FrameGeometrySourceMode

    # Most reports name a grid rather than a point: place each grid's count on the grid itself,
    # looked up by grid_id in the registry's GeoJSON (Grafana's gazetteer lookup).
    points = f"""SELECT grid_id, count() AS open
FROM {DB}.cases FINAL
WHERE {IS_OPEN} AND isNotNull(grid_id) AND {FILTERS}
GROUP BY grid_id"""
    grids = (
        common.MapLayerOptions()
        .type("geojson")
        .name("网格")
        .config({"src": GRIDS_GEOJSON, "style": {"color": {"fixed": "#1456a0"}, "opacity": 0.15}})
    )
    cases = (
        common.MapLayerOptions()
        .type("markers")
        .name("在办案件")
        .location(common.FrameGeometrySource().mode(FrameGeometrySourceMode.LOOKUP).lookup("grid_id").gazetteer(GRIDS_GEOJSON))
        .config({"size": {"field": "open", "min": 4, "max": 24}, "color": {"fixed": "#c0392b"}})
    )
    return _board("gridflow-map", "在办案件分布").with_panel(
        geomap.Panel().datasource(DS)
        .title("网格在办案件")
        .height(18)
        .span(24)
        .basemap(grids)
        .layers([cases])
        .view(geomap.MapViewConfig().id("coords").lat(22.72).lon(108.35).zoom(11))
        .with_target(SQL(points))
    )


DASHBOARDS = {
    "overview": overview,
    "indicators": indicators,
    "response-times": response_times,
    "sources": sources,
    "map": open_cases_map,
}


def render(name: str) -> str:
    """One dashboard's JSON text, as committed."""
    return json.dumps(DASHBOARDS[name]().build(), cls=JSONEncoder, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write(out: Path = JSON_DIR) -> list[Path]:
    """Regenerate every dashboard's JSON file; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in DASHBOARDS:
        path = out / f"gridflow-{name}.json"
        path.write_text(render(name), encoding="utf-8")
        paths.append(path)
    return paths
