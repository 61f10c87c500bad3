"""DESIGN's worked example, reproduced exactly: four P2 cases, indicators as of 2026-11-05 00:00.

The cases are worked through the real state machine (processors.lifecycle.actions);
the indicators are computed twice — from the case versions in memory, and
from the same versions written to ClickHouse (chdb) and read back by the
report's SQL — and both must give DESIGN's figures.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from casework import SH, Worked, at

from analytics.indicators import CASE_FIELDS, COLUMNS, case_rows, indicators
from infra.clickhouse import EmbeddedEngine, ServerEngine
from schemas import migrate
from schemas.clickhouse import row
from schemas.vocabulary import CaseAction, Category

AS_OF = datetime(2026, 11, 5, 0, 0, tzinfo=SH)


def worked_example() -> list[Worked]:
    a = Worked(Category.URBAN, "street_light", "XL-02-03")
    a.lead(CaseAction.SIGN, at(2, 9, 30))
    a.lead(CaseAction.RESOLVE, at(2, 18), note="已修复")
    a.reporter(CaseAction.VERIFY, at(2, 19))

    b = Worked(Category.URBAN, "street_light", "XL-02-03")
    b.lead(CaseAction.SIGN, at(2, 12))
    b.lead(CaseAction.RESOLVE, at(3, 8), note="已修复")
    b.reporter(CaseAction.REOPEN, at(3, 9), reason="灯还是不亮")
    assert b.case.resolve_deadline == at(4, 9)  # "new deadline 11-04 09:00"
    b.lead(CaseAction.RESOLVE, at(3, 15), note="更换线路")
    b.reporter(CaseAction.VERIFY, at(3, 16))

    # C: its lead (the police station) returns it; no other lead is left by the rules,
    # so the command centre re-dispatches it by hand at 10:00 to another department.
    c = Worked(Category.SECURITY, "theft_suspicious", "BC-01-01")
    c.lead(CaseAction.RETURN, at(2, 9, 40), reason="不属于本所辖区")
    assert c.case.state.value == "triage"
    c.centre(CaseAction.ASSIGN, at(2, 10), department="SFS-BC")
    assert (c.case.sign_deadline, c.case.resolve_deadline) == (at(2, 12), at(3, 10))
    c.lead(CaseAction.SIGN, at(2, 10, 30))

    d = Worked(Category.URBAN, "street_light", "XL-02-03")
    return [a, b, c, d]


def _as_rows(cases: list[Worked]) -> list[dict[str, Any]]:
    """The versions as of AS_OF, in the shape case_rows() gives (what the SQL does, done by hand)."""
    out = []
    for w in cases:
        latest = [v for v in w.versions if v.updated_at <= AS_OF][-1]
        out.append({c: (str(latest.case_id) if c == "case_id" else getattr(latest, CASE_FIELDS.get(c, c)))
                    for c in COLUMNS})
        out[-1]["state"] = latest.state.value
        out[-1]["category"] = latest.category.value if latest.category else None
        out[-1]["network"] = latest.source.value
    return out


EXPECTED = {"dispatched": 4, "及时签收率": 0.5, "按期办结率": 0.5, "结案率": 0.5, "返工率": 0.5, "退回率": 0.25,
            "sign_p50_s": 1800}


def _check(total: dict[str, Any]) -> None:
    assert {k: total[k] for k in EXPECTED} == EXPECTED


def test_the_worked_example_in_memory() -> None:
    rows = indicators(_as_rows(worked_example()), "department", AS_OF)
    _check(rows[-1])
    by_department = {r["key"]: r for r in rows}
    # C's return counts against the police station that returned it, not the office that has it now.
    assert (by_department["PCS-BC"]["returned"], by_department["PCS-BC"]["dispatched"]) == (1, 0)
    assert by_department["SFS-BC"]["退回率"] == 0.0 and by_department["SFS-BC"]["及时签收率"] == 1.0


def _through(engine: Any, database: str) -> None:
    migrate.apply(engine, database)
    cases = worked_example()
    engine.insert(f"{database}.case_versions", [row(v) for w in cases for v in w.versions])
    since, until = at(2, 0), at(3, 0)
    rows = case_rows(engine, database, AS_OF, since, until)
    assert len(rows) == 4
    _check(indicators(rows, "department", AS_OF)[-1])
    # As of an earlier moment things stood otherwise: at 11-02 12:30, A and C signed in time,
    # B signed late, D past its deadline unsigned.
    early = indicators(case_rows(engine, database, at(2, 12, 30), since, until), "town", at(2, 12, 30))[-1]
    assert (early["signed_on_time"], early["sign_base"], early["closed"]) == (2, 4, 0)


def test_the_worked_example_through_chdb(tmp_path: Path) -> None:
    engine = EmbeddedEngine(str(tmp_path / "chdb"))
    try:
        _through(engine, "gf")
    finally:
        engine.close()


@pytest.mark.integration
def test_the_worked_example_through_the_debian_server(stack: Any) -> None:
    engine = ServerEngine.from_settings(stack)
    engine.execute("DROP DATABASE IF EXISTS t_worked_example")
    try:
        _through(engine, "t_worked_example")
    finally:
        engine.execute("DROP DATABASE IF EXISTS t_worked_example")
        engine.close()


@pytest.mark.parametrize("by", ["department", "town", "grid", "category", "day"])
def test_every_grouping_adds_up_to_the_total(by: str) -> None:
    rows = indicators(_as_rows(worked_example()), by, AS_OF)
    total = rows[-1]
    for key in ("signed_on_time", "sign_base", "resolved_on_time", "resolve_base", "closed"):
        assert sum(r[key] for r in rows[:-1]) == total[key], key


def test_a_value_cleared_later_stays_cleared_in_the_as_of_read(tmp_path: Path) -> None:
    """A resumed suspension: the latest version has no suspended_at (aggregates that skip NULLs would bring it back)."""
    w = Worked(Category.URBAN, "street_light", "XL-02-03")
    w.lead(CaseAction.SIGN, at(2, 9, 30))
    w.lead(CaseAction.REQUEST_SUSPENSION, at(2, 10), reason="等待当事人")
    w.centre(CaseAction.APPROVE, at(2, 11))
    w.lead(CaseAction.RESUME, at(3, 11))
    assert w.case.suspended_at is None
    engine = EmbeddedEngine(str(tmp_path / "chdb"))
    try:
        migrate.apply(engine, "gf")
        engine.insert("gf.case_versions", [row(v) for v in w.versions])
        (read,) = case_rows(engine, "gf", AS_OF, at(2, 0), at(3, 0))
        assert read["suspended_at"] is None and read["state"] == "signed"
        during = case_rows(engine, "gf", at(2, 12), at(2, 0), at(3, 0))[0]
        assert during["suspended_at"] == at(2, 11)
    finally:
        engine.close()


def test_versions_delivered_twice_give_the_same_indicators(tmp_path: Path) -> None:
    """At-least-once delivery: every version written twice (two inserts, unmerged) counts once."""
    engine = EmbeddedEngine(str(tmp_path / "chdb"))
    try:
        migrate.apply(engine, "gf")
        versions = [row(v) for w in worked_example() for v in w.versions]
        engine.insert("gf.case_versions", versions)
        engine.insert("gf.case_versions", versions)
        assert engine.execute("SELECT count() FROM gf.case_versions")[0][0] in (len(versions), 2 * len(versions))
        rows = case_rows(engine, "gf", AS_OF, at(2, 0), at(3, 0))
        assert len(rows) == 4
        _check(indicators(rows, "department", AS_OF)[-1])
    finally:
        engine.close()
