"""The case state machine (processors.lifecycle.actions): who may do what, in which state, and what it does.

Pure unit tests: cases are opened with the shipped routing rules and calendar,
then driven with ``apply_action``. The expectations below are written from
DESIGN "The case lifecycle" / "SLA clocks", not from ``lifecycle.RULES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID, uuid4

import pytest

from district import load_registry
from processors.agents.accept import case_id_for
from processors.lifecycle.actions import allowed_actions, apply_action
from processors.lifecycle.context import Context
from processors.lifecycle.opening import open_case
from processors.lifecycle.outcome import Applied, Refusal
from routing import TRIAGE_DEPARTMENT, load_calendar, load_rules
from routing.sla import Clock
from schemas.case import Case
from schemas.case_flow import ActionCommand, CaseOpening, Classification, OpenCommand
from schemas.report import AcceptedReport, Report
from schemas.vocabulary import (
    CaseAction,
    CaseEventType,
    CaseState,
    Category,
    Role,
    Severity,
)

ROUTING, CALENDAR = load_rules(), load_calendar()
CTX = Context(
    ROUTING, CALENDAR, min_confidence=0.45, departments=frozenset(d.code for d in load_registry().departments)
)
SHANGHAI = timezone(timedelta(hours=8))
RECEIVED = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)  # a Wednesday
OPENED = RECEIVED + timedelta(seconds=2)
REPORTER = "w1"
OTHER_CASE = UUID("5d0c7a52-95f3-4c1e-8f0b-3f1f4c2d9e11")
CJK = re.compile(r"[\u4e00-\u9fff]")
REPORT_BODY: dict[str, Any] = dict(
    reporter_phone="13912345678", title="山体滑坡", description="村道旁山体出现裂缝，有滑坡危险", grid_id="XL-02-03"
)


# --- building cases and actions ------------------------------------------------------------------


def opened(
    category: Category = Category.DISASTER,
    subcategory: str | None = "landslide",
    severity: Severity = Severity.P1,
    *,
    confidence: float = 0.9,
) -> Case:
    """A case as ``open_case`` leaves it, reported by grid worker ``w1`` in XL-02-03."""
    report_id = uuid4()
    body = Report(report_id=report_id, occurred_at=RECEIVED, **REPORT_BODY)
    accepted = AcceptedReport.stamp(body, reporter_id=REPORTER, reporter_role=Role.GRID_WORKER, received_at=RECEIVED)
    guess = Classification(
        category=category, subcategory=subcategory, severity=severity, confidence=confidence, severity_source="model"
    )
    opening = CaseOpening(
        case_id=case_id_for(report_id), town="XL", day="20261125", grid_id="XL-02-03", classification=guess, report=accepted
    )
    case, _, _ = open_case(
        OpenCommand(case_no="XL-20261125-0007", opening=opening),
        OPENED,
        rules=ROUTING,
        calendar=CALENDAR,
        min_confidence=CTX.min_confidence,
    )
    return case


@dataclass(frozen=True)
class Actor:
    """Who acts, as his token says."""

    name: str
    role: Role
    actor_id: str = "u1"
    department: str | None = None
    town: str | None = None

    def token(self) -> dict[str, Any]:
        """The actor fields of a command, as the intake copies them from the token."""
        return dict(actor_id=self.actor_id, actor_role=self.role, actor_department=self.department, actor_town=self.town)


BASE = opened()  # P1 landslide: lead YJ, co-handler ZF-XL, town XL
LEAD, CO = BASE.lead_department, BASE.co_handlers[0]
assert (LEAD, CO) == ("YJ", "ZF-XL")

ACTORS = [
    Actor("lead staff", Role.DEPARTMENT_STAFF, "yj-1", department=LEAD),
    Actor("lead head", Role.DEPARTMENT_HEAD, "yj-head", department=LEAD),
    Actor("co-handler staff", Role.DEPARTMENT_STAFF, "zf-1", department=CO),
    Actor("other department staff", Role.DEPARTMENT_STAFF, "cg-1", department="CG"),
    Actor("reporter grid worker", Role.GRID_WORKER, REPORTER),
    Actor("another grid worker", Role.GRID_WORKER, "w2"),
    Actor("district command centre", Role.COMMAND_CENTRE, "zx-1"),
    Actor("another town's sub-centre", Role.COMMAND_CENTRE, "bc-zx", town="BC"),
    Actor("the case town's sub-centre", Role.COMMAND_CENTRE, "xl-zx", town="XL"),
    Actor("admin", Role.ADMIN, "root"),
    Actor("integrator who is the reporter", Role.INTEGRATOR, REPORTER),
]
BY_NAME = {a.name: a for a in ACTORS}
LEAD_STAFF, CENTRE, CO_STAFF = BY_NAME["lead staff"], BY_NAME["district command centre"], BY_NAME["co-handler staff"]
REPORTER_WORKER = BY_NAME["reporter grid worker"]

# Everything any action may need, so that in the matrix only state and standing decide.
ALL_FIELDS: dict[str, Any] = dict(
    reason="不属于本部门职责", hours=4, note="已到现场查看", department="CG", merge_into=OTHER_CASE
)


def act(case: Case, name: str, by: Actor, at: datetime, **fields: Any) -> ActionCommand:
    """The command ``by`` sends to ``case`` at ``at``, with exactly ``fields``."""
    return ActionCommand(action_id=uuid4(), case_id=case.case_id, action=CaseAction(name), at=at, **by.token(), **fields)


def applied(case: Case, name: str, by: Actor, at: datetime, **fields: Any) -> Case:
    """The case after an action that must be applied."""
    outcome = apply_action(case, act(case, name, by, at, **fields), CTX)
    assert isinstance(outcome, Applied), f"{name} by {by.name} in {case.state.value} refused: {outcome}"
    return outcome.case


def shanghai(day: int, hour: int, minute: int, second: int = 0, *, month: int = 11) -> datetime:
    """A time in 2026, Asia/Shanghai (25 November is a Wednesday)."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def minutes(n: float) -> datetime:
    """``n`` minutes after the case was opened."""
    return OPENED + timedelta(minutes=n)


def in_state(case: Case, state: CaseState) -> Case:
    """``case`` (just dispatched) moved to ``state`` with the fields that state comes with."""
    changes: dict[str, Any] = {"state": state, "seq": 7}
    if state is CaseState.TRIAGE:
        changes.update(
            lead_department=TRIAGE_DEPARTMENT,
            co_handlers=[],
            triage_reason="low_confidence",
            sign_deadline=None,
            resolve_deadline=None,
            dispatched_at=None,
        )
    if state in (CaseState.SIGNED, CaseState.IN_PROGRESS, CaseState.RESOLVED, CaseState.CLOSED):
        changes["signed_at"] = minutes(10)
    if state in (CaseState.RESOLVED, CaseState.CLOSED):
        changes.update(resolved_at=minutes(60), first_resolved_at=minutes(60))
    if state is CaseState.CLOSED:
        changes["closed_at"] = minutes(90)
    if state is CaseState.MERGED:
        changes["merged_into"] = OTHER_CASE
    return case.model_copy(update=changes)


VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "suspended": {"suspended_at": minutes(30)},
    "extension pending": {"pending_request": "extension", "pending_hours": 4},
    "suspension pending": {"pending_request": "suspension"},
}
STATES = [
    CaseState.ACCEPTED,
    CaseState.TRIAGE,
    CaseState.DISPATCHED,
    CaseState.SIGNED,
    CaseState.IN_PROGRESS,
    CaseState.RESOLVED,
    CaseState.CLOSED,
    CaseState.REJECTED,
    CaseState.MERGED,
]
CASES = {
    f"{state.value}/{variant}": in_state(BASE, state).model_copy(update=changes)
    for state in STATES
    for variant, changes in VARIANTS.items()
}


# --- the expected rules, written from DESIGN -----------------------------------------------------

S = CaseState
WORKING = frozenset({S.SIGNED, S.IN_PROGRESS})
BEFORE_SIGN = frozenset({S.ACCEPTED, S.TRIAGE, S.DISPATCHED})
OPEN = BEFORE_SIGN | WORKING | {S.RESOLVED}
REROUTED = "re-routed"  # a return: dispatched elsewhere, or to triage


def centre(case: Case, by: Actor) -> bool:
    return by.role is Role.COMMAND_CENTRE and by.town in (None, case.town)


def lead(case: Case, by: Actor) -> bool:
    return by.role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and by.department == case.lead_department


def co(case: Case, by: Actor) -> bool:
    return by.role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and by.department in case.co_handlers


def reporter(case: Case, by: Actor) -> bool:
    return by.role in (Role.GRID_WORKER, Role.INTEGRATOR) and by.actor_id == case.reporter_id


def not_suspended(case: Case) -> bool:
    return case.suspended_at is None


def free_to_ask(case: Case) -> bool:
    return case.suspended_at is None and case.pending_request is None


def pending(case: Case) -> bool:
    return case.pending_request is not None


def suspended(case: Case) -> bool:
    return case.suspended_at is not None


Who = Callable[[Case, Actor], bool]


@dataclass(frozen=True)
class Expect:
    states: frozenset[CaseState]
    who: tuple[Who, ...]
    when: Callable[[Case], bool] = lambda case: True
    to: CaseState | str | None = None  # None: the state does not change


EXPECTED: dict[str, Expect] = {  # in the order allowed_actions lists them
    "sign": Expect(frozenset({S.DISPATCHED}), (lead,), to=S.SIGNED),
    "start": Expect(frozenset({S.SIGNED}), (lead,), not_suspended, S.IN_PROGRESS),
    "resolve": Expect(WORKING, (lead,), not_suspended, S.RESOLVED),
    "verify": Expect(frozenset({S.RESOLVED}), (reporter, centre), to=S.CLOSED),
    "reopen": Expect(frozenset({S.RESOLVED}), (reporter, centre), to=S.IN_PROGRESS),
    "return": Expect(frozenset({S.DISPATCHED}), (lead,), to=REROUTED),
    "reject": Expect(BEFORE_SIGN, (centre,), to=S.REJECTED),
    "merge": Expect(BEFORE_SIGN, (centre,), to=S.MERGED),
    "assign": Expect(frozenset({S.TRIAGE}), (centre,), to=S.DISPATCHED),
    "split": Expect(frozenset({S.MERGED}), (centre,), to=S.DISPATCHED),
    "request_extension": Expect(WORKING, (lead,), free_to_ask),
    "request_suspension": Expect(WORKING, (lead,), free_to_ask),
    "approve": Expect(WORKING, (centre,), pending),
    "refuse": Expect(WORKING, (centre,), pending),
    "resume": Expect(WORKING, (lead, centre), suspended),
    "escalate": Expect(OPEN - {S.RESOLVED}, (centre,)),
    "note": Expect(OPEN, (lead, co, centre)),
    "part_done": Expect(frozenset({S.DISPATCHED}) | WORKING, (co,)),
}


def expected_code(case: Case, name: str, by: Actor) -> str:
    """``applied``, or the refusal's code, for ``name`` by ``by`` on ``case`` with every field given."""
    rule = EXPECTED[name]
    if not any(has(case, by) for has in rule.who):
        return "forbidden"
    if case.state not in rule.states or not rule.when(case):
        return "not_allowed"
    return "applied"


def problems(case: Case, action: ActionCommand, expected: str) -> list[str]:
    """What is wrong with the outcome of ``action`` on ``case`` (empty when right)."""
    before = case.model_dump()
    outcome = apply_action(case, action, CTX)
    found = ["the input case was changed"] if case.model_dump() != before else []
    if expected == "applied":
        return found + _applied_problems(case, action, outcome)
    return found + _refusal_problems(case, action, outcome, expected)


def _refusal_problems(case: Case, action: ActionCommand, outcome: Applied | Refusal, expected: str) -> list[str]:
    if not isinstance(outcome, Refusal):
        return [f"expected refusal {expected!r}, got applied → {outcome.case.state.value}"]
    found = []
    if outcome.code != expected:
        found.append(f"expected refusal {expected!r}, got {outcome.code!r} ({outcome.message})")
    if outcome.state is not case.state:
        found.append(f"refusal state {outcome.state} != case state {case.state}")
    if action.action.value in outcome.allowed:
        found.append(f"refused, yet listed in allowed {outcome.allowed}")
    return found


def _applied_problems(case: Case, action: ActionCommand, outcome: Applied | Refusal) -> list[str]:
    if not isinstance(outcome, Applied):
        return [f"expected applied, got {outcome.code!r}: {outcome.message}"]
    first, after, found = outcome.events[0], outcome.case, []
    stamp = (first.seq, first.actor_id, first.actor_role, first.at)
    if stamp != (case.seq + 1, action.actor_id, action.actor_role, action.at):
        found.append(f"first event (seq, actor, role, at) is {stamp}")
    if [e.seq for e in outcome.events] != list(range(case.seq + 1, case.seq + 1 + len(outcome.events))):
        found.append(f"event seqs {[e.seq for e in outcome.events]}")
    if after.seq != outcome.events[-1].seq or outcome.events[-1].state is not after.state:
        found.append("the case does not match its last event")
    to = EXPECTED[action.action.value].to
    if to == REROUTED:
        if after.state not in (S.DISPATCHED, S.TRIAGE) or after.lead_department == case.lead_department:
            found.append(f"return left it {after.state.value} at {after.lead_department}")
    elif after.state is not (want := to if isinstance(to, CaseState) else case.state):
        found.append(f"expected state {want.value}, got {after.state.value}")
    return found


# --- 1. the matrix: every state (and variant) × action × actor -----------------------------------


@pytest.mark.parametrize("variant", list(CASES))
def test_every_action_by_every_actor(variant: str) -> None:
    case = CASES[variant]
    mismatches = [
        f"{variant} · {name} by {by.name}: {why}"
        for by in ACTORS
        for name in EXPECTED
        for why in problems(case, act(case, name, by, minutes(120), **ALL_FIELDS), expected_code(case, name, by))
    ]
    assert mismatches == [], "\n".join(mismatches)


@pytest.mark.parametrize("variant", list(CASES))
def test_allowed_actions_lists_what_the_matrix_allows_in_table_order(variant: str) -> None:
    case = CASES[variant]
    wrong = []
    for by in ACTORS:
        want = [name for name in EXPECTED if expected_code(case, name, by) == "applied"]
        got = allowed_actions(case, act(case, "note", by, minutes(120)))
        if got != want:
            wrong.append(f"{variant} · {by.name}: expected {want}, got {got}")
    assert wrong == [], "\n".join(wrong)


def test_the_matrix_covers_every_action() -> None:
    assert set(EXPECTED) == {a.value for a in CaseAction}


def test_an_unplaced_case_answers_only_the_district_command_centre() -> None:
    case = in_state(BASE, S.DISPATCHED).model_copy(update={"town": None})
    for by, code in [
        (BY_NAME["district command centre"], "applied"),
        (BY_NAME["the case town's sub-centre"], "forbidden"),
    ]:
        outcome = apply_action(case, act(case, "escalate", by, minutes(5)), CTX)
        assert (outcome.code if isinstance(outcome, Refusal) else "applied") == code, by.name


# --- 2. clock effects ----------------------------------------------------------------------------

Kind = tuple[Category, str, Severity]  # what opened() needs
P2_WALL: Kind = (Category.DISASTER, "landslide", Severity.P2)
P3_WORKING: Kind = (Category.DISPUTE, "wages", Severity.P3)


def lead_of(case: Case) -> Actor:
    """A clerk of ``case``'s lead department."""
    return Actor("lead", Role.DEPARTMENT_STAFF, "lead-1", department=case.lead_department)


def clock_of(case: Case) -> Clock:
    """The case's SLA clock (set on every dispatched case)."""
    assert case.sla_clock in ("wall", "working")
    return case.sla_clock  # type: ignore[return-value]


def resolve_deadline(case: Case) -> datetime:
    """The case's resolve deadline (set on every dispatched case)."""
    assert case.resolve_deadline is not None
    return case.resolve_deadline


def signed(kind: Kind) -> Case:
    """A case of ``kind`` (category, subcategory, severity), signed by its lead 10 minutes after opening."""
    case = opened(*kind)
    return applied(case, "sign", lead_of(case), minutes(10))


@pytest.mark.parametrize(
    ("kind", "clock", "moved"),
    [
        (P2_WALL, "wall", lambda old: old + timedelta(hours=4)),
        (P3_WORKING, "working", lambda old: CALENDAR.add(old, 240, "working")),
    ],
)
def test_an_approved_extension_moves_the_resolve_deadline_on_the_case_clock(
    kind: Kind, clock: str, moved: Callable[[datetime], datetime]
) -> None:
    case = signed(kind)
    assert case.sla_clock == clock
    asked = applied(case, "request_extension", lead_of(case), minutes(20), reason="需协调多方", hours=4)
    assert (asked.pending_request, asked.pending_hours, asked.resolve_deadline) == (
        "extension",
        4,
        case.resolve_deadline,
    )
    done = applied(asked, "approve", CENTRE, minutes(30))
    assert done.resolve_deadline == moved(resolve_deadline(case))
    assert (done.pending_request, done.pending_hours, done.extension_count) == (None, None, 1)


def test_a_working_time_extension_skips_the_night() -> None:
    case = signed(P3_WORKING)  # resolve deadline: the next Wednesday 09:00:02
    asked = applied(case, "request_extension", lead_of(case), minutes(20), reason="需协调", hours=9)
    done = applied(asked, "approve", CENTRE, minutes(30))
    assert done.resolve_deadline == shanghai(3, 9, 0, 2, month=12)  # one working day later


def test_a_refused_request_leaves_the_deadline() -> None:
    case = signed(P2_WALL)
    asked = applied(case, "request_extension", lead_of(case), minutes(20), reason="需协调", hours=4)
    done = applied(asked, "refuse", CENTRE, minutes(30), reason="理由不充分")
    assert (done.resolve_deadline, done.pending_request, done.extension_count) == (case.resolve_deadline, None, 0)


@pytest.mark.parametrize(
    ("kind", "suspend_at", "resume_at", "paused"),
    [
        (P2_WALL, shanghai(25, 11, 0), shanghai(25, 14, 25, 30), 205.5),  # wall clock: 3 h 25 min 30 s
        (P3_WORKING, shanghai(27, 16, 0), shanghai(30, 10, 0), 180),  # working: Friday 16:00 → Monday 10:00 = 90 + 90
    ],
)
def test_suspended_time_does_not_count(kind: Kind, suspend_at: datetime, resume_at: datetime, paused: float) -> None:
    case = signed(kind)
    clock = clock_of(case)
    assert CALENDAR.elapsed(suspend_at, resume_at, clock) == paused
    asked = applied(case, "request_suspension", lead_of(case), suspend_at - timedelta(minutes=5), reason="等待鉴定")
    held = applied(asked, "approve", CENTRE, suspend_at)
    assert (held.suspended_at, held.pending_request, held.resolve_deadline) == (suspend_at, None, case.resolve_deadline)
    back = applied(held, "resume", lead_of(case), resume_at)
    assert back.suspended_at is None
    assert back.resolve_deadline == CALENDAR.add(resolve_deadline(case), round(paused), clock)


@pytest.mark.parametrize("ask", ["request_extension", "request_suspension"])
def test_a_resolve_leaves_no_request_dangling(ask: str) -> None:
    """Only a signed or in-progress case's request can be approved or refused: none may outlive the work.

    Either the resolve waits for the centre's answer, or it ends the request.
    """
    case = signed(P2_WALL)
    asked = applied(case, ask, lead_of(case), minutes(20), reason="需协调", hours=4)
    outcome = apply_action(asked, act(asked, "resolve", lead_of(case), minutes(30)), CTX)
    if isinstance(outcome, Refusal):
        assert outcome.code == "not_allowed"
    else:
        assert (outcome.case.pending_request, outcome.case.pending_hours) == (None, None)


def test_the_centre_may_resume_too_and_work_goes_on() -> None:
    case = signed(P2_WALL)
    asked = applied(case, "request_suspension", lead_of(case), minutes(20), reason="等待鉴定")
    held = applied(asked, "approve", CENTRE, minutes(30))
    back = applied(held, "resume", CENTRE, minutes(90))
    assert back.resolve_deadline == resolve_deadline(case) + timedelta(minutes=60)
    assert applied(back, "start", lead_of(case), minutes(95)).state is S.IN_PROGRESS


@pytest.mark.parametrize(
    ("kind", "deadline"),
    [
        (P2_WALL, shanghai(28, 17, 0)),  # 24 h later
        (P3_WORKING, shanghai(4, 17, 0, month=12)),  # 5 working days later
    ],
)
def test_a_reopen_restarts_the_resolve_clock_at_the_reopen(kind: Kind, deadline: datetime) -> None:
    case = signed(kind)
    resolved = applied(case, "resolve", lead_of(case), minutes(60))
    reopen_at = shanghai(27, 17, 0)  # a Friday, half an hour before closing
    again = applied(resolved, "reopen", REPORTER_WORKER, reopen_at, reason="现场仍有裂缝")
    assert again.resolve_deadline == CALENDAR.add(reopen_at, case.sla_resolve_minutes or 0, clock_of(case)) == deadline
    assert (again.state, again.lead_department, again.reopen_count, again.signed_at) == (
        S.IN_PROGRESS,
        case.lead_department,
        1,
        case.signed_at,
    )


# --- 3. whole paths ------------------------------------------------------------------------------


def test_the_happy_path_from_open_to_closed() -> None:
    case = opened(*P2_WALL)
    by = lead_of(case)
    steps = [
        ("sign", by, minutes(10)),
        ("start", by, minutes(20)),
        ("resolve", by, minutes(300)),
        ("verify", REPORTER_WORKER, minutes(400)),
    ]
    seen = [(case.state, case.seq)]
    for name, who, at in steps:
        case = applied(case, name, who, at)
        seen.append((case.state, case.seq))
    assert seen == [(S.DISPATCHED, 2), (S.SIGNED, 3), (S.IN_PROGRESS, 4), (S.RESOLVED, 5), (S.CLOSED, 6)]
    assert (case.signed_at, case.resolved_at, case.first_resolved_at, case.closed_at) == (
        minutes(10),
        minutes(300),
        minutes(300),
        minutes(400),
    )
    assert case.updated_at == minutes(400)


def test_a_reopened_case_keeps_its_first_resolve() -> None:
    case = signed(P2_WALL)
    by = lead_of(case)
    case = applied(case, "resolve", by, minutes(60))
    case = applied(case, "reopen", CENTRE, minutes(70), reason="核查不通过")
    case = applied(case, "resolve", by, minutes(200))  # no new sign, no new start
    case = applied(case, "verify", CENTRE, minutes(260))
    assert (case.state, case.first_resolved_at, case.resolved_at, case.reopen_count) == (
        S.CLOSED,
        minutes(60),
        minutes(200),
        1,
    )


def test_a_return_through_the_lifecycle_reroutes_and_names_the_returner() -> None:
    case = opened(Category.DISPUTE, "land_forest_water", Severity.P2)  # ZRZY, then LY
    outcome = apply_action(case, act(case, "return", lead_of(case), minutes(20), reason="属林业部门"), CTX)
    assert isinstance(outcome, Applied)
    assert [(e.seq, e.type, e.department, e.actor_id) for e in outcome.events] == [
        (3, CaseEventType.RETURNED, "ZRZY", "lead-1"),
        (4, CaseEventType.DISPATCHED, "LY", "gridflow"),
    ]
    assert (outcome.case.state, outcome.case.lead_department, outcome.case.returned_by) == (S.DISPATCHED, "LY", ["ZRZY"])


def test_one_department_returning_twice_sends_the_case_to_manual_triage() -> None:
    """Two returns are two returns even from one department (the centre assigned it back in between)."""
    case = opened(Category.DISPUTE, "land_forest_water", Severity.P2, confidence=0.2)  # ZRZY, then LY
    assert case.state is S.TRIAGE
    case = applied(case, "assign", CENTRE, minutes(10), department="ZRZY")
    case = applied(case, "return", lead_of(case), minutes(20), reason="不属于本部门")
    assert case.state is S.TRIAGE  # still unsure of the category
    case = applied(case, "assign", CENTRE, minutes(30), department="ZRZY", category="DISPUTE",
                   subcategory="land_forest_water")  # fmt: skip
    case = applied(case, "return", lead_of(case), minutes(40), reason="仍不属于本部门")
    # not on to LY: the second return sends it back to the centre
    assert (case.state, case.lead_department, case.returned_by) == (S.TRIAGE, "ZZZX", ["ZRZY", "ZRZY"])


def test_the_centres_assign_after_two_returns_keeps_the_rules_co_handlers() -> None:
    case = opened(Category.DISPUTE, "demolition", Severity.P2)  # SFS-XL leads, ZF-XL co-handles
    assert (case.lead_department, case.co_handlers) == ("SFS-XL", ["ZF-XL"])
    case = applied(case, "return", lead_of(case), minutes(20), reason="不属于本部门")
    case = applied(case, "return", lead_of(case), minutes(30), reason="不属于本部门")
    assert (case.state, case.co_handlers) == (S.TRIAGE, [])
    case = applied(case, "assign", CENTRE, minutes(40), department="CG")
    # the returners stay out, the co-handler comes back with the centre's lead
    assert (case.state, case.lead_department, case.co_handlers) == (S.DISPATCHED, "CG", ["ZF-XL"])


def test_the_centre_assigns_a_triaged_case() -> None:
    case = opened(Category.URBAN, "street_light", Severity.P2, confidence=0.2)
    assert case.state is S.TRIAGE
    outcome = apply_action(case, act(case, "assign", CENTRE, minutes(15), department="CG"), CTX)
    assert isinstance(outcome, Applied)
    after, event = outcome.case, outcome.events[0]
    assert (after.state, after.lead_department, after.dispatched_at) == (S.DISPATCHED, "CG", minutes(15))
    assert after.sign_deadline == minutes(15) + timedelta(hours=2)
    assert (event.type, event.actor_id, event.actor_role, event.payload["department"]) == (
        CaseEventType.DISPATCHED,
        CENTRE.actor_id,
        Role.COMMAND_CENTRE,
        "CG",
    )
    assert [a.department for a in outcome.alerts if a.lead] == ["CG"]


def test_a_co_handler_marks_its_part_once_without_moving_the_case() -> None:
    case = applied(BASE, "part_done", CO_STAFF, minutes(30))
    case = applied(case, "part_done", CO_STAFF, minutes(40))
    assert (case.state, case.co_done, case.seq) == (S.DISPATCHED, [CO], BASE.seq + 2)


# --- 4. allowed actions --------------------------------------------------------------------------


def test_allowed_actions_for_the_lead_and_the_centre() -> None:
    assert allowed_actions(BASE, act(BASE, "note", LEAD_STAFF, minutes(1))) == ["sign", "return", "note"]
    triaged = CASES["triage/plain"]
    assert {"assign", "reject", "merge", "escalate", "note"} <= set(
        allowed_actions(triaged, act(triaged, "note", CENTRE, minutes(1)))
    )


# --- 5. refusals: nothing changes, the message says why --------------------------------------------

REASON_ONLY = ("return", "reject", "reopen", "refuse", "request_suspension")
NEEDS_STATE = {
    "return": "dispatched/plain",
    "reject": "dispatched/plain",
    "reopen": "resolved/plain",
    "refuse": "signed/extension pending",
    "request_suspension": "in_progress/plain",
    "request_extension": "signed/plain",
    "merge": "accepted/plain",
    "assign": "triage/plain",
    "note": "resolved/plain",
}
ACTOR_FOR = {"return": LEAD_STAFF, "request_suspension": LEAD_STAFF, "request_extension": LEAD_STAFF}

MISSING = [
    *[(name, {}, "reason") for name in REASON_ONLY],
    *[(name, {"reason": "  \n"}, "reason") for name in REASON_ONLY],
    ("request_extension", {"hours": 4}, "reason"),
    ("request_extension", {"reason": "需协调"}, "hours"),
    ("merge", {}, "merge_into"),
    ("merge", {"merge_into": BASE.case_id}, "merge_into"),  # into itself (every case here is BASE)
    ("assign", {}, "department"),
    ("assign", {"department": "QQ"}, "department"),
    ("assign", {"department": TRIAGE_DEPARTMENT}, "department"),
    ("assign", {"department": "CG", "subcategory": "street_light"}, "category"),
    ("assign", {"department": "CG", "category": Category.URBAN, "subcategory": "wages"}, "subcategory"),
    ("note", {}, "note"),
    ("note", {"note": "   "}, "note"),
]


@pytest.mark.parametrize(("name", "fields", "field_named"), MISSING)
def test_a_missing_field_is_invalid_and_named(name: str, fields: dict[str, Any], field_named: str) -> None:
    case = CASES[NEEDS_STATE[name]]
    before = case.model_dump()
    outcome = apply_action(case, act(case, name, ACTOR_FOR.get(name, CENTRE), minutes(120), **fields), CTX)
    assert isinstance(outcome, Refusal)
    assert (outcome.code, outcome.state) == ("invalid", case.state)
    assert field_named in outcome.message and CJK.search(outcome.message), outcome.message
    assert name in outcome.allowed  # allowed, fields aside
    assert case.model_dump() == before


def test_a_note_may_be_photos_alone() -> None:
    after = applied(BASE, "note", CENTRE, minutes(5), photos=["0" * 32])
    assert (after.state, after.seq) == (BASE.state, BASE.seq + 1)


@pytest.mark.parametrize(
    ("variant", "name", "by", "code"),
    [
        ("dispatched/plain", "sign", BY_NAME["other department staff"], "forbidden"),
        ("signed/plain", "sign", LEAD_STAFF, "not_allowed"),
        ("signed/suspended", "resolve", LEAD_STAFF, "not_allowed"),
        ("resolved/plain", "verify", BY_NAME["another grid worker"], "forbidden"),
    ],
)
def test_refusal_messages_are_chinese_and_carry_the_state(variant: str, name: str, by: Actor, code: str) -> None:
    case = CASES[variant]
    outcome = apply_action(case, act(case, name, by, minutes(120), **ALL_FIELDS), CTX)
    assert isinstance(outcome, Refusal) and (outcome.code, outcome.state) == (code, case.state)
    assert CJK.search(outcome.message), outcome.message
    assert outcome.allowed == allowed_actions(case, act(case, name, by, minutes(120)))
