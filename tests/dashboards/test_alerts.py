"""The alert rules: the provisioning file is fresh and wired to the provisioned datasource, and both
rule queries give the right answer on chdb and on Debian's ClickHouse 18.16."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from casework import Worked
from engines import ENGINES, migrated

from dashboards import alerts
from dashboards.provisioned import (
    ALERTING_FILE,
    DATASOURCE_FILE,
    DATASOURCE_UID,
    PROVIDER_FILE,
)
from infra.datafile import DataFileError
from schemas.clickhouse import row
from schemas.vocabulary import CaseAction, Category, Severity


def test_the_committed_alerting_file_is_fresh() -> None:
    assert ALERTING_FILE.read_text(encoding="utf-8") == alerts.render(), "stale: run `gridflow dashboards build`"


def test_the_rules_read_the_provisioned_datasource_and_name_their_condition() -> None:
    document = yaml.safe_load(ALERTING_FILE.read_text(encoding="utf-8"))
    datasources = yaml.safe_load(DATASOURCE_FILE.read_text(encoding="utf-8"))
    dashboards = yaml.safe_load(PROVIDER_FILE.read_text(encoding="utf-8"))
    assert document["apiVersion"] == 1
    assert DATASOURCE_UID in {d["uid"] for d in datasources["datasources"]}
    (group,) = document["groups"]
    # grafana/grafana#125079: a rule folder sharing the dashboards' folder title is created twice.
    assert group["folder"] not in {p["folder"] for p in dashboards["providers"]}
    rules = {r["uid"]: r for r in group["rules"]}
    assert set(rules) == {"gridflow-sla-breach-rate", "gridflow-intake-stall"}
    for rule in rules.values():
        refs = {d["refId"]: d for d in rule["data"]}
        assert rule["condition"] in refs
        assert refs["A"]["datasourceUid"] == DATASOURCE_UID and "rawSql" in refs["A"]["model"]
        assert "$" not in refs["A"]["model"]["rawSql"], "alert rules have no template variables or macros"
        assert refs["C"]["model"]["expression"] == "B" and refs["B"]["model"]["expression"] == "A"
    threshold = rules["gridflow-sla-breach-rate"]["data"][2]["model"]["conditions"][0]["evaluator"]
    assert threshold == {"type": "gt", "params": [alerts.load_alert_settings().breach_above]}


@pytest.mark.parametrize(
    ("edit", "line", "problem"),
    [
        (("above: 0.10", "above: 10"), 8, "above of sla_breach_rate must be a number from 0 to 1, not 10"),
        (("for: 10m", "for: ten minutes"), 9, "for of sla_breach_rate must be a duration"),
        (("  days: 7", "  days: 7\n  weeks: 1"), 19, "unknown key 'weeks' in intake_stall"),
    ],
)
def test_a_wrong_alerts_file_names_its_line(tmp_path: Path, edit: tuple[str, str], line: int, problem: str) -> None:
    shipped = (Path(alerts.__file__).resolve().parent / "data" / "alerts.yaml").read_text(encoding="utf-8")
    path = tmp_path / "alerts.yaml"
    path.write_text(shipped.replace(*edit, 1), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        alerts.load_alert_settings(path)
    assert caught.value.line == line and problem in caught.value.problem, str(caught.value)


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """An empty, migrated gridflow database on one engine."""
    with migrated(request.param, request, tmp_path, "t_alerts") as engine:
        yield engine, "t_alerts"


def _store(engine: Any, database: str, cases: list[Worked]) -> None:
    engine.insert(f"{database}.cases", [row(v) for w in cases for v in w.versions])


def _case(received: datetime, severity: Severity = Severity.P2) -> Worked:
    return Worked(Category.URBAN, "street_light", "XL-02-03", received=received, severity=severity)


def _value(engine: Any, sql: str) -> Any:
    (only,) = engine.execute(sql)
    return only[0]


def test_the_breach_rate_is_the_share_of_clocked_open_cases_past_a_deadline(database: tuple[Any, str]) -> None:
    engine, db = database
    now = datetime.now(timezone.utc)
    assert _value(engine, alerts.breach_rate_sql(db)) is None  # no open case: no data, not a breach
    late = _case(now - timedelta(hours=5))  # P2: sign within 2 h, never signed
    fresh = _case(now - timedelta(minutes=20))
    signed_late_resolve = _case(now - timedelta(hours=30))  # signed in time, 24 h resolve deadline passed
    signed_late_resolve.lead(CaseAction.SIGN, signed_late_resolve.case.updated_at + timedelta(minutes=30))
    closed = _case(now - timedelta(hours=6))
    closed.lead(CaseAction.SIGN, closed.case.updated_at + timedelta(minutes=10))
    closed.lead(CaseAction.RESOLVE, closed.case.updated_at + timedelta(hours=1), note="已处置")
    closed.reporter(CaseAction.VERIFY, closed.case.updated_at + timedelta(minutes=30))
    _store(engine, db, [late, fresh, signed_late_resolve, closed])
    # 2 of the 3 open cases are late (the closed one is not counted at all)
    assert float(_value(engine, alerts.breach_rate_sql(db))) == pytest.approx(2 / 3)


def test_the_intake_stall_fires_only_when_a_usually_busy_slot_is_silent(database: tuple[Any, str]) -> None:
    engine, db = database
    settings = alerts.load_alert_settings()
    sql = alerts.intake_stall_sql(settings, db)
    now = datetime.now(timezone.utc)
    assert int(_value(engine, sql)) == 0  # never any report: a quiet slot, not a stall
    # The usual number of reports in this slot of the day, on each of the days before ...
    usual = [_case(now - timedelta(days=d, minutes=10 + i)) for d in range(1, settings.stall_days + 1)
             for i in range(settings.stall_usual_at_least)]  # fmt: skip
    # ... and, to show the slot is what matters, reports at other times of those days.
    other = [_case(now - timedelta(days=2, hours=6))]
    _store(engine, db, usual + other)
    assert int(_value(engine, sql)) == 1
    _store(engine, db, [_case(now - timedelta(minutes=settings.stall_minutes - 10))])
    assert int(_value(engine, sql)) == 0
