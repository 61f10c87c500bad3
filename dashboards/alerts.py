"""The command centre's alert rules, as a Grafana alerting provisioning file.

Two rules, their thresholds in ``dashboards/data/alerts.yaml``:

- SLA 超时率 (``sla_breach_rate``): open cases with a running clock that are
  past their sign or resolve deadline, as a share of all such cases;
- 受理中断 (``intake_stall``): no report reached ClickHouse for N minutes at a
  time of day when, on the days before, reports usually came in.

``gridflow dashboards build`` writes ``provisioning/alerting/gridflow.yaml``;
a test fails when it is stale, and the tests run both queries on chdb and
18.16. Alert rules have no template variables, so the SQL names the
``gridflow`` database that docker-compose's Grafana reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dashboards.clickhouse_query import ClickHouseQuery
from dashboards.provisioned import ALERTING_FILE, DATASOURCE_UID
from infra.datafile import read_doc
from schemas.case_sql import RESOLVE_CLOCK_RUNNING, overdue

DATABASE = "gridflow"
#: Not the dashboards' folder: Grafana provisions alert rules before dashboards and finds folders
#: by title, so sharing the title makes a second folder of that name (grafana/grafana#125079).
FOLDER = "gridflow 告警"
_DURATION = re.compile(r"^[1-9][0-9]*[smh]$")


@dataclass(frozen=True)
class AlertSettings:
    """The thresholds of the two rules."""

    breach_above: float
    breach_for: str
    stall_minutes: int
    stall_usual_at_least: int
    stall_days: int
    stall_for: str


def load_alert_settings(source: Any = None) -> AlertSettings:
    """Load and validate ``alerts.yaml``; DataFileError names the file and line at fault."""
    doc = read_doc(source or resources.files("dashboards") / "data" / "alerts.yaml")
    root = doc.mapping(doc.root, 1, "the alerts file")
    doc.only_keys(root, ("sla_breach_rate", "intake_stall"), "the alerts file")
    breach = doc.mapping(root.get("sla_breach_rate"), root.line_of("sla_breach_rate"), "sla_breach_rate")
    stall = doc.mapping(root.get("intake_stall"), root.line_of("intake_stall"), "intake_stall")
    doc.only_keys(breach, ("above", "for"), "sla_breach_rate")
    doc.only_keys(stall, ("minutes", "usual_at_least", "days", "for"), "intake_stall")

    def number(m: Any, key: str, what: str, low: float, high: float, integer: bool = False) -> Any:
        value = m.get(key)
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)) or not low <= value <= high:
            kind = "a whole number" if integer else "a number"
            doc.fail(m.line_of(key), f"{key} of {what} must be {kind} from {low:g} to {high:g}, not {value!r}")
        return value

    def duration(m: Any, what: str) -> str:
        value = m.get("for")
        if not isinstance(value, str) or not _DURATION.match(value):
            doc.fail(m.line_of("for"), f"for of {what} must be a duration such as 5m, 30s or 1h, not {value!r}")
        return value

    return AlertSettings(
        breach_above=float(number(breach, "above", "sla_breach_rate", 0, 1)),
        breach_for=duration(breach, "sla_breach_rate"),
        stall_minutes=number(stall, "minutes", "intake_stall", 5, 1440, integer=True),
        stall_usual_at_least=number(stall, "usual_at_least", "intake_stall", 1, 100000, integer=True),
        stall_days=number(stall, "days", "intake_stall", 1, 28, integer=True),
        stall_for=duration(stall, "intake_stall"),
    )


def breach_rate_sql(database: str = DATABASE) -> str:
    """The share of open cases with a running clock that are past a deadline (NULL when there are none)."""
    return (
        f"SELECT countIf({overdue('now()')}) / nullIf(count(), 0) AS breach_rate\n"
        f"FROM {database}.cases FINAL\n"
        f"WHERE {RESOLVE_CLOCK_RUNNING}"
    )


def intake_stall_sql(settings: AlertSettings, database: str = DATABASE) -> str:
    """1 when no report came in the last minutes although this slot of the day is usually busy, else 0."""
    slot, days = settings.stall_minutes * 60, settings.stall_days
    return (
        "SELECT toUInt8(recent = 0 AND usual >= "
        f"{settings.stall_usual_at_least}) AS stalled\n"
        "FROM\n(\n"
        f"    SELECT countIf(received_at >= now() - {slot}) AS recent,\n"
        # the same slot of the day on each of the days before, averaged
        f"        countIf(received_at < now() - 86400 AND (toUInt32(now()) - toUInt32(received_at)) % 86400 < {slot})"
        f" / {days} AS usual\n"
        f"    FROM {database}.cases FINAL\n"
        f"    WHERE received_at >= now() - {days * 86400 + slot}\n)"
    )


def _rule(uid: str, title: str, sql: str, above: float, hold: str, no_data: str, summary: str) -> dict[str, Any]:
    query = ClickHouseQuery("A", sql).to_json()
    expressions = [
        {"refId": "B", "datasourceUid": "__expr__",
         "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last",
                   "datasource": {"type": "__expr__", "uid": "__expr__"}}},
        {"refId": "C", "datasourceUid": "__expr__",
         "model": {"refId": "C", "type": "threshold", "expression": "B",
                   "datasource": {"type": "__expr__", "uid": "__expr__"},
                   "conditions": [{"evaluator": {"type": "gt", "params": [above]}}]}},
    ]  # fmt: skip
    return {
        "uid": uid,
        "title": title,
        "condition": "C",
        "data": [{"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": DATASOURCE_UID,
                  "model": query}, *expressions],
        "noDataState": no_data,
        "execErrState": "Error",
        "for": hold,
        "annotations": {"summary": summary},
        "labels": {"team": "command-centre", "system": "gridflow"},
        "isPaused": False,
    }


def provisioning(settings: AlertSettings | None = None) -> dict[str, Any]:
    """The alerting provisioning document (Grafana's ``apiVersion: 1`` file format)."""
    settings = settings or load_alert_settings()
    breach = _rule(
        "gridflow-sla-breach-rate", "SLA 超时率过高", breach_rate_sql(), settings.breach_above, settings.breach_for,
        "OK",  # no open case with a running clock: nothing is late
        f"在办案件超时率超过 {settings.breach_above:.0%}：请查看「指挥中心总览」的当前超时案件并督办。",
    )
    stall = _rule(
        "gridflow-intake-stall", "受理中断", intake_stall_sql(settings), 0, settings.stall_for,
        "Alerting",  # the query itself returned nothing: ClickHouse is not answering as it should
        f"已 {settings.stall_minutes} 分钟没有新上报，而往常此时段有上报："
        "请检查上报入口、Kafka、处理进程和写入 ClickHouse 的进程。",
    )
    return {
        "apiVersion": 1,
        "groups": [{"orgId": 1, "name": "gridflow", "folder": FOLDER, "interval": "1m", "rules": [breach, stall]}],
    }


def render() -> str:
    """The provisioning file's text, as committed."""
    header = "# Generated by `gridflow dashboards build` from dashboards/alerts.py and dashboards/data/alerts.yaml.\n"
    return header + yaml.dump(provisioning(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the SQL) as literal blocks, readable as written."""


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def write(path: Path = ALERTING_FILE) -> Path:
    """Regenerate the alerting provisioning file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path
