"""Cases worked through the real state machine, for tests that need case versions without a pipeline.

``Worked`` opens a case from a report and applies actions to it with
``processors.lifecycle.actions``, keeping every version with its facts, as the
case agent would. ``seeded_cases`` works a deterministic mix of many cases
(signed in time or late, resolved in time or late, closed, reopened,
returned, left untouched) over several weeks.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from district import load_registry
from processors.agents.accept import case_id_for
from processors.lifecycle.actions import apply_action
from processors.lifecycle.context import Context
from processors.lifecycle.facts import with_facts
from processors.lifecycle.opening import open_case
from processors.lifecycle.outcome import Applied
from routing import load_calendar, load_rules, load_taxonomy
from schemas.case import Case
from schemas.case_flow import ActionCommand, CaseOpening, Classification, OpenCommand
from schemas.report import AcceptedReport, Report
from schemas.vocabulary import CaseAction, Category, Role, Severity

SH = datetime.fromisoformat("2026-11-02T09:00:00+08:00").tzinfo
CTX = Context(load_rules(), load_calendar(), 0.45, frozenset(d.code for d in load_registry().departments))
REPORTER = "wgy-01"


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """A moment of November 2026, Shanghai time."""
    return datetime(2026, 11, day, hh, mm, tzinfo=SH)


class Worked:
    """One case and every version it passed through."""

    def __init__(self, category: Category, subcategory: str, grid: str, *, received: datetime | None = None,
                 severity: Severity = Severity.P2, number: int = 1) -> None:
        received = received or at(2, 8, 55)
        report_id = uuid.uuid4()
        day = received.strftime("%Y%m%d")
        report = AcceptedReport.stamp(
            Report(report_id=report_id, grid_id=grid, reporter_phone="13812345678", title="示例案件",
                   description="示例", occurred_at=received - timedelta(minutes=5)),
            reporter_id=REPORTER, reporter_role=Role.GRID_WORKER, received_at=received,
        )
        opening = CaseOpening(
            case_id=case_id_for(report_id), town=grid[:2], day=day, grid_id=grid, report=report,
            classification=Classification(category=category, subcategory=subcategory, severity=severity,
                                          confidence=0.9, severity_source="model"),
        )
        case, _, _ = open_case(OpenCommand(case_no=f"{grid[:2]}-{day}-{number:04d}", opening=opening),
                               received + timedelta(minutes=5), rules=CTX.rules, calendar=CTX.calendar,
                               min_confidence=0.45)
        self.versions: list[Case] = [with_facts(case)]

    @property
    def case(self) -> Case:
        return self.versions[-1]

    def act(self, action: CaseAction, when: datetime, *, who: str, role: Role, actor_department: str | None = None,
            **fields: Any) -> None:
        command = ActionCommand(action=action, action_id=uuid.uuid4(), case_id=self.case.case_id, actor_id=who,
                             actor_role=role, actor_department=actor_department, at=when, **fields)
        outcome = apply_action(self.case, command, CTX)
        assert isinstance(outcome, Applied), outcome
        self.versions.append(with_facts(outcome.case))

    def lead(self, action: CaseAction, when: datetime, **fields: Any) -> None:
        self.act(action, when, who="clerk", role=Role.DEPARTMENT_STAFF, actor_department=self.case.lead_department,
                 **fields)

    def reporter(self, action: CaseAction, when: datetime, **fields: Any) -> None:
        self.act(action, when, who=REPORTER, role=Role.GRID_WORKER, **fields)

    def centre(self, action: CaseAction, when: datetime, **fields: Any) -> None:
        self.act(action, when, who="duty", role=Role.COMMAND_CENTRE, **fields)


def _work(w: Worked, rng: random.Random) -> None:
    """One of the common courses of a case, chosen by ``rng``."""
    if w.case.state.value != "dispatched":
        return  # triage: left in the command centre's queue
    start = w.case.updated_at
    sign_deadline, resolve_deadline = w.case.sign_deadline, w.case.resolve_deadline
    assert sign_deadline is not None and resolve_deadline is not None
    course = rng.random()
    if course < 0.1:
        return  # never signed
    if course < 0.18:
        w.lead(CaseAction.RETURN, start + timedelta(minutes=rng.randint(5, 90)), reason="不属于本部门职责")
        if w.case.state.value == "triage":
            w.centre(CaseAction.ASSIGN, w.case.updated_at + timedelta(minutes=20), department="CG")
        return
    late = rng.random() < 0.2
    signed = sign_deadline + timedelta(minutes=rng.randint(10, 600)) if late else \
        start + (sign_deadline - start) * rng.uniform(0.05, 0.95)
    w.lead(CaseAction.SIGN, signed)
    if course < 0.3:
        return  # signed, still being worked
    overdue = rng.random() < 0.25
    resolve_deadline = w.case.resolve_deadline or resolve_deadline
    resolved = resolve_deadline + timedelta(hours=rng.randint(1, 30)) if overdue else \
        signed + (max(resolve_deadline, signed + timedelta(hours=1)) - signed) * rng.uniform(0.1, 0.9)
    w.lead(CaseAction.RESOLVE, resolved, note="已处置")
    if course < 0.45:
        return  # waiting for the reporter's check
    if course < 0.55:
        w.reporter(CaseAction.REOPEN, resolved + timedelta(hours=2), reason="问题仍在")
        w.lead(CaseAction.RESOLVE, resolved + timedelta(hours=rng.randint(3, 20)), note="再次处置")
    w.reporter(CaseAction.VERIFY, w.case.updated_at + timedelta(hours=1))


def seeded_cases(n: int, seed: int = 7) -> list[Worked]:
    """``n`` cases received between 11-02 and 11-20, over every town, category and severity, each worked."""
    rng = random.Random(seed)
    grids = [g.grid_id for g in load_registry().grids]
    taxonomy = load_taxonomy()
    cases = []
    for i in range(n):
        category = rng.choice(list(taxonomy.categories.values()))
        received = at(2, 8) + timedelta(minutes=rng.randint(0, 18 * 24 * 60))
        w = Worked(Category(category.code), rng.choice(list(category.subcategories)), rng.choice(grids),
                   received=received, severity=rng.choice([Severity.P1, Severity.P2, Severity.P2, Severity.P3]),
                   number=i + 1)
        _work(w, rng)
        cases.append(w)
    return cases
