"""Property tests (hypothesis, stateful) of the case lifecycle: random cases, random actions, invariants after each step.

A :class:`CaseWorld` opens cases (placed or not, on the spot, unmapped,
joining another) and then, step by step, applies random action commands by
random actors (the lead, a co-handler, another department, the reporter,
another grid worker, the district centre, a town's sub-centre, an admin) at
random times, with fields given, missing or wrong — most of them refused —
plus timer checks and the delivery of the follow-up commands a merge or a
split sends. The world keeps what the case agent keeps (the case table, each
case's history, the link table) and delivers follow-ups as
:mod:`processors.agents.links` does, in Kafka's order per case.

After every step:

* a refused action changed nothing: the case given to ``apply_action`` is
  equal to what it was (no partial write), no event was made, and the
  refusal's code is the one the :data:`RULES` table gives for this actor's
  standing, the state, the condition and the fields;
* an applied action was allowed by that table, and its events continue the
  case's history with increasing ``seq`` (1, 2, 3 … with no gap), stamped at
  the action's time, one of them by the actor; the case moved to the state
  the lifecycle says (written here from DESIGN, not read from the code);
* a resolved, closed, rejected or merged case runs no SLA clock (no
  escalation is ever due), nor does a suspended case's resolve clock, and an
  escalation is raised once;
* with no follow-up in flight, every case counts the reports that joined it
  (its own, and every case merged into it, directly or through another);
* every case is valid by its schema, as JSON, with its facts;
* and nothing raises but the lifecycle's own refusals.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from district import load_registry
from processors.lifecycle.actions import RULES, allowed_actions, apply_action, standings
from processors.lifecycle.context import Context
from processors.lifecycle.escalation import due, escalate
from processors.lifecycle.facts import with_facts
from processors.lifecycle.linking import link, split_off, unlink
from processors.lifecycle.opening import open_case
from processors.lifecycle.outcome import Applied, Refusal
from routing import TRIAGE_DEPARTMENT, load_calendar, load_rules, route
from schemas.case import Case
from schemas.case_event import CaseEvent
from schemas.case_flow import (
    UNKNOWN_TOWN,
    ActionCommand,
    CaseOpening,
    Classification,
    DetachCommand,
    LinkCommand,
    MergeLink,
    OpenCommand,
    UnlinkCommand,
)
from schemas.report import AcceptedReport, NetworkOrigin, Report
from schemas.vocabulary import (
    CLOCK_RUNNING,
    CLOCKED_STATES,
    OPEN_STATES,
    CaseAction,
    CaseEventType,
    CaseState,
    Category,
    Role,
    Severity,
    SlaClock,
    SourceNetwork,
)

REGISTRY = load_registry()
CTX = Context(load_rules(), load_calendar(), 0.45, frozenset(d.code for d in REGISTRY.departments))
TAXONOMY = CTX.rules.taxonomy
SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2026, 11, 2, 8, 55, tzinfo=SHANGHAI)  # a Monday
GRIDS = sorted(g.grid_id for g in REGISTRY.grids)
DEPARTMENTS = sorted(CTX.departments)
REPORTERS = [("w1", Role.GRID_WORKER), ("w2", Role.GRID_WORKER), ("net-hotline", Role.INTEGRATOR)]
MAX_CASES = 4
MAX_FORWARDS = 20  # a link forwarded more often than this goes round in a circle

S, A = CaseState, CaseAction
WORKING = frozenset({S.SIGNED, S.IN_PROGRESS})
FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.REJECTED, S.MERGED})
REROUTED = frozenset({S.DISPATCHED, S.TRIAGE})
# Where an applied action leaves the case (DESIGN "The case lifecycle"); None: the state stays.
LEADS_TO: dict[CaseAction, frozenset[CaseState] | None] = {
    A.SIGN: frozenset({S.SIGNED}),
    A.START: frozenset({S.IN_PROGRESS}),
    A.RESOLVE: frozenset({S.RESOLVED}),
    A.VERIFY: frozenset({S.CLOSED}),
    A.REOPEN: frozenset({S.IN_PROGRESS}),  # back to the same department, no new sign
    A.RETURN: REROUTED,
    A.REJECT: frozenset({S.REJECTED}),
    A.MERGE: frozenset({S.MERGED}),
    A.ASSIGN: frozenset({S.DISPATCHED}),
    A.SPLIT: REROUTED,
    A.REQUEST_EXTENSION: None,
    A.REQUEST_SUSPENSION: None,
    A.APPROVE: None,
    A.REFUSE: None,
    A.RESUME: None,
    A.ESCALATE: None,
    A.NOTE: None,
    A.PART_DONE: None,
}
SUBCATEGORIES = [(Category(c), s) for c, cat in TAXONOMY.categories.items() for s in cat.subcategories]
# The few whose routing names co-handlers (协办), drawn more often so that co-handlers get to act.
WITH_CO_HANDLERS = [
    (c, s)
    for c, s in SUBCATEGORIES
    if route(CTX.rules, category=c.value, subcategory=s, town="XL", severity="P2", excluded=frozenset()).co_handlers
]

_text = st.sampled_from(["不属于本部门职责", "已到现场查看", "问题仍在", "请补充照片", "已处置完毕\n见附件"])
_blank = st.sampled_from(["", "  ", "\n"])


def expected_code(case: Case, command: ActionCommand) -> str:
    """What the RULES table says of ``command`` on ``case``: applied, or the refusal's code (checked in this order)."""
    rule = RULES[command.action]
    if not rule.who & standings(case, command):
        return "forbidden"
    if case.state not in rule.states or (rule.condition is not None and rule.condition(case)):
        return "not_allowed"
    if rule.needs is not None and rule.needs(command, case, CTX):
        return "invalid"
    return "applied"


def assert_continues(before: Case | None, after: Case, events: list[CaseEvent], at: datetime | None) -> None:
    """``events`` take the case from ``before`` to ``after``: the next seqs, no gap, the last one its state."""
    first = before.seq + 1 if before is not None else 1
    assert events, "a change without an event"
    assert [e.seq for e in events] == list(range(first, first + len(events)))
    assert after.seq == events[-1].seq and after.state is events[-1].state
    assert all(e.case_id == after.case_id and e.case_no == after.case_no for e in events)
    if at is not None:
        assert all(e.at == at for e in events) and after.updated_at == at
    if before is not None:
        same = ("case_id", "case_no", "report_id", "reporter_id", "received_at", "accepted_at", "source")
        assert {k: getattr(after, k) for k in same} == {k: getattr(before, k) for k in same}


def assert_storable(case: Case) -> None:
    """The case as the table keeps it (with its facts) is valid by its schema and round-trips as JSON."""
    stored = with_facts(case)
    assert Case.model_validate(stored.model_dump()) == stored
    assert Case.model_validate_json(stored.model_dump_json()) == stored
    for seconds in (stored.dispatch_seconds, stored.sign_seconds, stored.resolve_seconds, stored.close_seconds):
        assert seconds is None or seconds >= 0
    assert 1 <= stored.reporter_count and 1 <= stored.report_count


class CaseWorld(RuleBasedStateMachine):
    """A few cases, worked at random, with the case agent's tables."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.cases: dict[UUID, Case] = {}
        self.history: dict[UUID, list[CaseEvent]] = {}
        self.links: dict[tuple[UUID, UUID], int] = {}  # (case, joining report's case) → reports it brought
        self.by_reporter: dict[tuple[UUID, str], int] = {}  # (case, reporter) → links counted
        self.pending: list[tuple[UUID, LinkCommand | UnlinkCommand | DetachCommand, int]] = []  # (key, command, hops)
        self.opened = 0

    # --- helpers ---------------------------------------------------------------------------------

    def _tick(self, data: st.DataObject) -> datetime:
        """A time for the next command: mostly later, now and then the same instant or a little earlier (clock skew)."""
        step = data.draw(
            st.one_of(st.integers(0, 90), st.integers(0, 3 * 24 * 60), st.integers(-5, 0)), label="minutes later"
        )
        at = self.now + timedelta(minutes=step, seconds=data.draw(st.integers(0, 59), label="seconds"))
        self.now = max(self.now, at)
        return at

    def _store(self, before: Case | None, after: Case, events: list[CaseEvent], at: datetime | None) -> None:
        assert_continues(before, after, events, at)
        assert_storable(after)
        self.cases[after.case_id] = with_facts(after)
        self.history.setdefault(after.case_id, []).extend(events)

    def _send(self, follow_ups: list[Any]) -> None:
        self.pending.extend((f.case_id, f, 0) for f in follow_ups)

    def _root(self, case_id: UUID) -> UUID | None:
        """The case a case's reports are counted on: itself, or the end of its chain of merges."""
        seen: set[UUID] = set()
        while case_id in self.cases and self.cases[case_id].state is S.MERGED and case_id not in seen:
            seen.add(case_id)
            target = self.cases[case_id].merged_into
            if target is None:
                return None
            case_id = target
        return case_id if case_id in self.cases and case_id not in seen else None

    # --- opening ---------------------------------------------------------------------------------

    @precondition(lambda self: len(self.cases) < MAX_CASES)
    @rule(data=st.data())
    def open_a_case(self, data: st.DataObject) -> None:
        category, subcategory = data.draw(st.sampled_from(SUBCATEGORIES) | st.sampled_from(WITH_CO_HANDLERS))
        if data.draw(st.integers(0, 3), label="no subcategory") == 0:
            subcategory = None
        # Mostly what the pipeline sees most (a placed, well classified report), so that cases get far.
        grid = data.draw(
            st.sampled_from([*GRIDS, None]) if data.draw(st.integers(0, 4)) == 0 else st.sampled_from(GRIDS)
        )
        reporter, role = data.draw(st.sampled_from(REPORTERS), label="reporter")
        unmapped = data.draw(st.integers(0, 7), label="unmapped code") == 0
        report_id = data.draw(st.uuids(), label="report id")
        received = self._tick(data)
        network = grid is None or unmapped or role is Role.INTEGRATOR
        body = Report(
            report_id=report_id, source=SourceNetwork.HOTLINE if network else SourceNetwork.MOBILE, grid_id=grid,
            reporter_phone="13812345678", title="路灯不亮", description="村口路灯不亮已有三天",
            occurred_at=START - timedelta(hours=1), handled_on_spot=data.draw(st.integers(0, 9), label="on the spot") == 0,
        )  # fmt: skip
        origin = NetworkOrigin(event_id=f"GD{self.opened}", mapping_note="未知的类别编码 appeal_type=9999" if unmapped else None,
                               payload={"work_order_no": f"GD{self.opened}"}) if network else None  # fmt: skip
        report = AcceptedReport.stamp(
            body, reporter_id=reporter, reporter_role=role, received_at=received, origin=origin
        )
        town = grid[:2] if grid else UNKNOWN_TOWN
        targets = sorted(self.cases)
        merge = (
            data.draw(st.sampled_from(targets), label="joins")
            if targets and data.draw(st.integers(0, 3)) == 0
            else None
        )
        opening = CaseOpening(
            case_id=data.draw(st.uuids(), label="case id"), town=town,
            day=received.strftime("%Y%m%d"), grid_id=grid, report=report,
            classification=Classification(
                category=category, subcategory=subcategory, severity=data.draw(st.sampled_from(list(Severity))),
                confidence=data.draw(st.floats(0.5, 1) | st.floats(0, 1), label="confidence"), severity_source="model",
            ),
        )  # fmt: skip
        if opening.case_id in self.cases:
            return
        self.opened += 1
        command = OpenCommand(
            case_no=f"{town}-{opening.day}-{self.opened:04d}", opening=opening,
            merge=MergeLink(case_id=merge, evidence={"rule": "test"}) if merge else None,
        )  # fmt: skip
        at = received + timedelta(seconds=2)
        case, events, alerts = open_case(command, at, rules=CTX.rules, calendar=CTX.calendar, min_confidence=0.45)
        # A re-delivered open (a worker died before committing) makes the very same records.
        again = open_case(command, at, rules=CTX.rules, calendar=CTX.calendar, min_confidence=0.45)
        assert again == (case, events, alerts)
        assert case.state in {S.DISPATCHED, S.TRIAGE, S.CLOSED, S.MERGED}
        assert (case.state is S.CLOSED) == report.handled_on_spot
        if not report.handled_on_spot:
            assert (case.state is S.MERGED) == (merge is not None)
            if unmapped and merge is None:
                assert case.state is S.TRIAGE, "an unmapped code waits in triage"
        self._store(None, case, events, None)
        if case.state is S.MERGED:
            assert merge is not None
            self._send([LinkCommand(case_id=merge, report_case_id=case.case_id, report_id=report_id, source=report.source,
                                    reporter_id=reporter, occurred_at=report.occurred_at, evidence={"rule": "test"},
                                    at=at)])  # fmt: skip

    # --- a person's action -----------------------------------------------------------------------

    def _actor(self, data: st.DataObject, case: Case) -> dict[str, Any]:
        kind = data.draw(st.sampled_from(["lead", "lead", "department", "worker", "centre", "centre", "other"]))
        if kind in ("lead", "department"):
            known = [d for d in (case.lead_department, *case.co_handlers) if d]
            choices = known[:1] if kind == "lead" and known else known + ["CG", "YJ", "ZZZX", "SFS-XL"]
            department = data.draw(st.sampled_from(choices), label="department")
            role = data.draw(st.sampled_from([Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD]))
            return {"actor_id": f"{department.lower()}-1", "actor_role": role, "actor_department": department}
        if kind == "worker":
            reporter, role = data.draw(st.sampled_from([*REPORTERS, (case.reporter_id, Role.GRID_WORKER)]))
            return {"actor_id": reporter, "actor_role": role}
        if kind == "centre":
            town = data.draw(st.sampled_from([None, None, case.town or "XL", "BC"]), label="centre town")
            return {"actor_id": f"zx-{town or 'district'}", "actor_role": Role.COMMAND_CENTRE, "actor_town": town}
        role = data.draw(st.sampled_from([Role.ADMIN, Role.SYSTEM, Role.DEPARTMENT_STAFF]))
        return {"actor_id": "someone", "actor_role": role}  # a department clerk without a department, an admin…

    def _fields(self, data: st.DataObject, case: Case) -> dict[str, Any]:
        """Each field present and right, absent, or wrong (blank, unknown, not matching)."""
        others = [c for c in sorted(self.cases) if c != case.case_id and self._root(c) != case.case_id]
        category, subcategory = data.draw(st.sampled_from(SUBCATEGORIES), label="assign category")
        draws = {
            "note": st.none() | _text | _blank,
            "reason": st.none() | _text | _text | _blank,
            "hours": st.none() | st.integers(1, 24 * 60),
            "photos": st.sampled_from([[], [], ["0" * 32]]),
            "department": st.none() | st.sampled_from([*DEPARTMENTS, "QQ", TRIAGE_DEPARTMENT]),
            "category": st.sampled_from([None, category, category]),
            "subcategory": st.sampled_from([None, subcategory, "no_such_subcategory"]),
            # (never a case merged, through others, into this one: see the report of issue 12)
            "merge_into": st.sampled_from([None, case.case_id, UUID(int=7), *others, *others]),
        }
        return {name: data.draw(strategy, label=name) for name, strategy in draws.items()}

    @precondition(lambda self: self.cases)
    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        # A few actions a step: the other rules (open, timer, deliver) would otherwise take most steps.
        for _ in range(data.draw(st.integers(1, 4), label="actions")):
            self._act_once(data)

    def _act_once(self, data: st.DataObject) -> None:
        case = self.cases[data.draw(st.sampled_from(sorted(self.cases)), label="case")]
        actor = self._actor(data, case)
        # Mostly an action this actor may take now (else most commands are refused at once).
        probe = ActionCommand(action=A.NOTE, action_id=UUID(int=0), case_id=case.case_id, at=self.now, **actor)
        mine = [A(a) for a in allowed_actions(case, probe)]
        actions = mine if mine and data.draw(st.integers(0, 2), label="an allowed one") else list(CaseAction)
        command = ActionCommand(
            action=data.draw(st.sampled_from(actions), label="action"),
            action_id=data.draw(st.uuids(), label="action id"), case_id=case.case_id, at=self._tick(data),
            **actor, **self._fields(data, case),
        )  # fmt: skip
        self._run(case, command)

    @precondition(lambda self: self.cases)
    @rule(data=st.data())
    def work_a_case_on(self, data: st.DataObject) -> None:
        """The next step of a case's usual course, by the one who takes it, with its fields (so that cases get far)."""
        case = self.cases[data.draw(st.sampled_from(sorted(self.cases)), label="case")]
        lead = {"actor_id": "clerk", "actor_role": Role.DEPARTMENT_STAFF, "actor_department": case.lead_department}
        centre = {"actor_id": "duty", "actor_role": Role.COMMAND_CENTRE}
        reporter = {"actor_id": case.reporter_id, "actor_role": Role.GRID_WORKER}
        steps: dict[CaseState, list[tuple[CaseAction, dict[str, Any]]]] = {
            S.DISPATCHED: [(A.SIGN, lead), (A.SIGN, lead), (A.RETURN, lead)],
            S.SIGNED: [(A.START, lead), (A.RESOLVE, lead), (A.REQUEST_EXTENSION, lead), (A.REQUEST_SUSPENSION, lead)],
            S.IN_PROGRESS: [(A.RESOLVE, lead), (A.REQUEST_EXTENSION, lead), (A.REQUEST_SUSPENSION, lead)],
            S.RESOLVED: [(A.VERIFY, reporter), (A.VERIFY, centre), (A.REOPEN, reporter)],
            S.TRIAGE: [(A.ASSIGN, centre), (A.REJECT, centre)],
            S.MERGED: [(A.SPLIT, centre)],
        }
        if case.suspended_at is not None:
            steps[case.state] = [(A.RESUME, lead), (A.RESUME, centre)]
        elif case.pending_request:
            steps[case.state] = [(A.APPROVE, centre), (A.APPROVE, centre), (A.REFUSE, centre)]
        if case.co_handlers and case.state in {S.DISPATCHED, *WORKING}:
            co = {"actor_id": "co-1", "actor_role": Role.DEPARTMENT_STAFF, "actor_department": case.co_handlers[0]}
            steps[case.state].append((A.PART_DONE, co))
        if case.state not in steps or (case.lead_department is None and case.state is not S.MERGED):
            return
        action, actor = data.draw(st.sampled_from(steps[case.state]), label="next step")
        department = data.draw(st.sampled_from([d for d in DEPARTMENTS if d != TRIAGE_DEPARTMENT]), label="assign to")
        command = ActionCommand(
            action=action, action_id=data.draw(st.uuids(), label="action id"), case_id=case.case_id,
            at=self._tick(data), reason="不属于本部门职责", hours=data.draw(st.integers(1, 72), label="hours"),
            department=department, **actor,
        )  # fmt: skip
        self._run(case, command)

    def _run(self, case: Case, command: ActionCommand) -> None:
        """Apply ``command`` to ``case`` as the case agent does, and check the outcome."""
        before = case.model_dump()
        expected = expected_code(case, command)
        outcome = apply_action(case, command, CTX)
        assert case.model_dump() == before, "the case given was changed in place (a partial write)"
        if isinstance(outcome, Refusal):
            assert outcome.code == expected, (
                f"{command.action.value}: refused {outcome.code}, the table says {expected}"
            )
            assert outcome.state is case.state and outcome.message
            assert outcome.allowed == allowed_actions(case, command)
            if outcome.code != "invalid":
                assert command.action.value not in outcome.allowed
            return
        assert expected == "applied", f"{command.action.value} applied, the table says {expected}"
        after = outcome.case
        self._store(case, after, outcome.events, command.at)
        assert any((e.actor_id, e.actor_role) == (command.actor_id, command.actor_role) for e in outcome.events)
        to = LEADS_TO[command.action]
        assert after.state in (to if to is not None else {case.state}), f"{command.action.value} → {after.state}"
        self._check_effect(case, command, outcome)
        self._send(outcome.follow_ups)

    def _check_effect(self, case: Case, command: ActionCommand, outcome: Applied) -> None:
        """What each action must have done besides its state (DESIGN), and nothing it must not."""
        after, name = outcome.case, command.action
        if name is A.SIGN:
            assert after.signed_at == command.at
        if name is A.RESOLVE:
            assert after.resolved_at == command.at and after.pending_request is None
            assert after.first_resolved_at == (case.first_resolved_at or command.at)
        if name is A.VERIFY:
            assert after.closed_at == command.at
        if name is A.REOPEN:
            assert after.reopen_count == case.reopen_count + 1 and after.lead_department == case.lead_department
            assert after.resolve_deadline is not None and after.resolve_deadline >= command.at
        if name is A.RETURN:
            assert after.returned_by == [*case.returned_by, case.lead_department]
            assert after.lead_department == TRIAGE_DEPARTMENT or after.lead_department not in after.returned_by
            if len(after.returned_by) >= 2:
                assert after.state is S.TRIAGE, "a case returned twice goes to manual triage"
        if name is A.MERGE:
            assert after.merged_into == command.merge_into
            [tell] = outcome.follow_ups
            assert isinstance(tell, LinkCommand) and tell.case_id == command.merge_into
            assert tell.reports == case.report_count
        if name is A.SPLIT:
            assert after.merged_into is None
            [tell] = outcome.follow_ups
            assert isinstance(tell, UnlinkCommand) and tell.case_id == case.merged_into
            assert tell.reports == case.report_count
        if name is A.ASSIGN:
            assert after.lead_department == command.department and command.department not in after.co_handlers
        if name is A.APPROVE and case.pending_request == "extension":
            assert after.extension_count == case.extension_count + 1
            assert after.resolve_deadline is not None and case.resolve_deadline is not None
            assert after.resolve_deadline > case.resolve_deadline
        if name is A.APPROVE and case.pending_request == "suspension":
            assert after.suspended_at == command.at
        if name in (A.APPROVE, A.REFUSE):
            assert after.pending_request is None and after.pending_hours is None
        if name in (A.REQUEST_EXTENSION, A.REQUEST_SUSPENSION):
            assert after.pending_request == ("extension" if name is A.REQUEST_EXTENSION else "suspension")
        if name is A.RESUME:
            assert after.suspended_at is None
            assert (
                case.resolve_deadline is None
                or (after.resolve_deadline or case.resolve_deadline) >= case.resolve_deadline
            )
        if name not in (A.RETURN, A.ASSIGN, A.SPLIT):
            assert after.lead_department == case.lead_department and after.co_handlers == case.co_handlers
        if name not in (A.MERGE, A.SPLIT):
            assert not outcome.follow_ups

    # --- the timers ------------------------------------------------------------------------------

    @precondition(lambda self: self.cases)
    @rule(data=st.data())
    def timer_check(self, data: st.DataObject) -> None:
        case = self.cases[data.draw(st.sampled_from(sorted(self.cases)), label="case")]
        at = self._tick(data)
        before = case.model_dump()
        outcome = escalate(case, at, CTX.calendar)
        assert case.model_dump() == before, "the case given was changed in place (a partial write)"
        if case.state not in CLOCKED_STATES:
            assert outcome is None, f"a {case.state.value} case was escalated"
        if outcome is None:
            return
        assert all(e.type is CaseEventType.ESCALATED for e in outcome.events)
        for event in outcome.events:
            clock = SlaClock(event.payload["clock"])
            assert case.state in CLOCK_RUNNING[clock]
            assert not (clock is SlaClock.RESOLVE and case.suspended_at is not None), "a suspended clock ran"
        raised = outcome.case.escalations
        assert len(raised) == len(set(raised)) and raised[: len(case.escalations)] == case.escalations
        assert escalate(outcome.case, at, CTX.calendar) is None, "an escalation raised twice"
        self._store(case, outcome.case, outcome.events, at)

    # --- follow-ups, delivered as the case agent's links handling does ---------------------------

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        # Kafka keeps the order per key (case id) only: deliver the first pending command of some case.
        heads = [i for i, (key, _, _) in enumerate(self.pending) if all(k != key for k, _, _ in self.pending[:i])]
        key, command, hops = self.pending.pop(data.draw(st.sampled_from(heads), label="which follow-up"))
        if isinstance(command, LinkCommand):
            self._link(key, command, hops)
        elif isinstance(command, UnlinkCommand):
            self._unlink(key, command)
        else:
            self._detach(key, command)

    def _link(self, key: UUID, command: LinkCommand, hops: int) -> None:
        case = self.cases.get(key)
        if case is not None and case.state is S.MERGED and case.merged_into is not None:
            assert hops < MAX_FORWARDS, "a link is forwarded round a circle of merged cases"
            forwarded = command.model_copy(update={"case_id": case.merged_into})
            self.pending.append((case.merged_into, forwarded, hops + 1))
            return
        if case is None or case.state not in OPEN_STATES:
            detach = DetachCommand(case_id=command.report_case_id, reason="合并的案件已结案", at=command.at)
            self.pending.append((command.report_case_id, detach, 0))
            return
        if self.links.get((key, command.report_case_id)):
            return
        known = command.reporter_id == case.reporter_id or bool(self.by_reporter.get((key, command.reporter_id)))
        new_reporters = max(0, command.reporters - 1) if known else command.reporters
        outcome = link(case, command, new_reporters=new_reporters, bare_codes=CTX.rules.units.town_units)
        assert outcome.case.report_count == case.report_count + command.reports
        self._store(case, outcome.case, outcome.events, command.at)
        self.links[(key, command.report_case_id)] = command.reports
        self.by_reporter[(key, command.reporter_id)] = self.by_reporter.get((key, command.reporter_id), 0) + 1

    def _unlink(self, key: UUID, command: UnlinkCommand) -> None:
        case = self.cases.get(key)
        if case is None:
            return
        counted = self.links.get((key, command.report_case_id), 0)
        if counted:
            reports = min(command.reports, counted)
            left = self.by_reporter.get((key, command.reporter_id), 0) - (0 if command.carried else 1)
            gone = 1 if not command.carried and left <= 0 and command.reporter_id != case.reporter_id else 0
            outcome = unlink(case, command.model_copy(update={"reports": reports}), reporters_gone=gone)
            assert outcome.case.report_count == max(1, case.report_count - reports)
            self._store(case, outcome.case, outcome.events, command.at)
            self.links[(key, command.report_case_id)] = counted - reports
            if not command.carried:
                self.by_reporter[(key, command.reporter_id)] = max(0, left)
            case = outcome.case
        if case.state is S.MERGED and case.merged_into is not None:
            assert command.hops < MAX_FORWARDS, "an unlink is forwarded round a circle of merged cases"
            onward: dict[str, Any] = {"case_id": case.merged_into, "hops": command.hops + 1}
            if counted:
                onward.update(report_case_id=case.case_id, reports=min(command.reports, counted), carried=True)
            self.pending.append((case.merged_into, command.model_copy(update=onward), 0))

    def _detach(self, key: UUID, command: DetachCommand) -> None:
        case = self.cases.get(key)
        if case is None or case.state is not S.MERGED or case.merged_into is None:
            return
        outcome = split_off(case, command.at, CTX, actor_id="gridflow", actor_role=Role.SYSTEM,
                            details={"reason": command.reason}, tell_former=False)  # fmt: skip
        assert not outcome.follow_ups and outcome.case.state in REROUTED
        self._store(case, outcome.case, outcome.events, command.at)

    # --- invariants --------------------------------------------------------------------------------

    @invariant()
    def histories_are_whole_and_in_order(self) -> None:
        for case_id, case in self.cases.items():
            events = self.history[case_id]
            assert [e.seq for e in events] == list(range(1, case.seq + 1))
            assert events[-1].state is case.state

    @invariant()
    def finished_cases_run_no_clock(self) -> None:
        later = self.now + timedelta(days=400)
        for case in self.cases.values():
            pending = due(case, later, CTX.calendar)
            if case.state in FINISHED:
                assert not pending, f"a {case.state.value} case still runs {[d.id for d in pending]}"
            if case.suspended_at is not None:
                assert all(d.clock != SlaClock.RESOLVE.value for d in pending), "a suspended case's resolve clock ran"
            for d in pending:
                assert case.state in CLOCK_RUNNING[SlaClock(d.clock)]

    @invariant()
    def every_case_counts_the_reports_that_joined_it(self) -> None:
        if self.pending:
            return  # a link or unlink still in flight
        for case_id, case in self.cases.items():
            if case.state is S.MERGED:
                continue
            joined = sum(1 for other in self.cases if other != case_id and self._root(other) == case_id)
            assert case.report_count == 1 + joined, f"{case.case_no} counts {case.report_count}, {1 + joined} joined it"


CaseWorld.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_the_case_lifecycle_under_random_commands = CaseWorld.TestCase
