"""Automatic escalation: which (clock, level) is due when, on wall and working time, raised once."""

from __future__ import annotations

from datetime import datetime, timedelta

from processors.lifecycle.escalation import Due, due, escalate, next_due
from routing import load_calendar
from schemas.case import Case
from schemas.vocabulary import CaseState

SH = datetime.fromisoformat("2026-11-27T16:00:00+08:00").tzinfo
CAL = load_calendar()


def sh(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


def _case(**changes: object) -> Case:
    base = dict(
        case_id="6f1c1d2e-8a5b-4f0e-9c3d-2b7a9e4d5c61", case_no="XL-20261127-0001", seq=2,
        report_id="0b4c8f7e-3a51-4a36-9f8e-6f2d1c9a7b10", source="mobile", town="XL", title="路灯不亮",
        description="村口路灯坏了", reporter_id="w1", reporter_phone="13812345678", state=CaseState.DISPATCHED,
        lead_department="CG", received_at=sh(11, 27, 15, 50), accepted_at=sh(11, 27, 16),
        updated_at=sh(11, 27, 16), sla_clock="working", sla_dispatch_minutes=120, sla_sign_minutes=480,
        sla_resolve_minutes=2700,
    )  # fmt: skip
    base.update(changes)
    case = Case.model_validate(base)
    # P3, dispatched Friday 16:00: 8 working hours → sign by Monday 15:00 (Fri 1.5 h + Mon 6.5 h)
    deadlines = dict(
        sign_deadline=CAL.add(sh(11, 27, 16), 480, "working"),
        resolve_deadline=CAL.add(sh(11, 27, 16), 2700, "working"),
        dispatch_deadline=CAL.add(sh(11, 27, 15, 50), 120, "working"),
    )
    deadlines.update({k: v for k, v in changes.items() if k.endswith("_deadline")})  # type: ignore[misc]
    return case.model_copy(update=deadlines)


def test_sign_level_1_at_the_working_time_deadline_and_level_2_half_an_sla_later() -> None:
    case = _case()
    assert case.sign_deadline == sh(11, 30, 15)
    assert due(case, sh(11, 30, 14, 59), CAL) == []  # the weekend did not count
    first = due(case, sh(11, 30, 15), CAL)
    assert [(d.clock, d.level, d.to) for d in first] == [("sign", 1, "department_head")]
    # level 2: 4 more working hours — Monday 15:00 + 2.5 h, then Tuesday 08:30 + 1.5 h = Tuesday 10:00
    assert [(d.clock, d.level) for d in due(case, sh(12, 1, 9, 59), CAL)] == [("sign", 1)]
    assert [(d.clock, d.level, d.to) for d in due(case, sh(12, 1, 10), CAL)] == [
        ("sign", 1, "department_head"), ("sign", 2, "command_centre_head"),
    ]


def test_raised_once_and_recorded_on_the_case() -> None:
    case = _case()
    applied = escalate(case, sh(11, 30, 15, 5), CAL)
    assert applied is not None
    assert [e.payload["clock"] for e in applied.events] == ["sign"] and applied.case.seq == case.seq + 1
    assert [a.department for a in applied.alerts] == ["CG"] and applied.alerts[0].kind == "escalation"
    assert escalate(applied.case, sh(11, 30, 15, 6), CAL) is None  # again: nothing
    assert due(applied.case, sh(11, 30, 16), CAL) == []


def test_holidays_stop_the_working_clock() -> None:
    # Dispatched Wednesday 2026-09-30 16:00 before 国庆 (10-01..10-07 off; Saturday 10-10 works).
    start = datetime(2026, 9, 30, 16, tzinfo=SH)
    case = _case(updated_at=start, sign_deadline=CAL.add(start, 480, "working"))
    assert case.sign_deadline == datetime(2026, 10, 8, 15, 0, tzinfo=SH)  # Wed 1.5 h, then Thu 8 Oct 6.5 h
    assert due(case, datetime(2026, 10, 7, 23, tzinfo=SH), CAL) == []
    assert [d.clock for d in due(case, datetime(2026, 10, 8, 15, 0, tzinfo=SH), CAL)] == ["sign"]


def test_only_running_clocks_escalate() -> None:
    late = sh(12, 20, 12)  # past every deadline
    signed = _case(state=CaseState.SIGNED)
    assert [d.clock for d in due(signed, late, CAL) if d.level == 1] == ["resolve"]
    suspended = _case(state=CaseState.SIGNED, suspended_at=sh(11, 28, 9))
    assert due(suspended, late, CAL) == []  # a suspended case's resolve clock stands still
    triage = _case(state=CaseState.TRIAGE, lead_department="ZZZX")
    assert [(d.clock, d.to) for d in due(triage, late, CAL) if d.level == 1] == [("dispatch", "command_centre_duty")]
    closed = _case(state=CaseState.CLOSED)
    assert due(closed, late, CAL) == []


def test_a_new_deadline_is_a_new_escalation() -> None:
    case = escalate(_case(), sh(11, 30, 15, 5), CAL)
    assert case is not None
    moved = case.case.model_copy(update={"sign_deadline": sh(12, 2, 9)})  # re-dispatched after a return
    assert [d.clock for d in due(moved, sh(12, 2, 9, 1), CAL)] == ["sign"]
    assert due(moved, sh(12, 1, 9), CAL) == []


def _raised(case: Case, *ids: str) -> Case:
    return case.model_copy(update={"escalations": list(ids)})


def test_next_due_is_when_due_first_has_something() -> None:
    """For cases in every state with any escalations raised: nothing is due just before next_due, something at it."""
    tick = timedelta(microseconds=1)
    checked = 0
    for state in CaseState:
        for suspended in (None, sh(11, 28, 9)):
            base = _case(state=state, suspended_at=suspended)
            ids = [Due(c, level, d).id for c, d in (("dispatch", base.dispatch_deadline), ("sign", base.sign_deadline),
                   ("resolve", base.resolve_deadline)) for level in (1, 2)]  # fmt: skip
            for mask in range(1 << len(ids)):
                case = _raised(base, *(i for bit, i in enumerate(ids) if mask >> bit & 1))
                at = next_due(case, CAL)
                if at is None:
                    assert due(case, sh(12, 31, 23), CAL) == [], (state, case.escalations)
                    continue
                assert due(case, at - tick, CAL) == [] and due(case, at, CAL) != [], (state, case.escalations)
                checked += 1
    assert checked > 100


def test_next_due_moves_to_level_2_then_to_none() -> None:
    case = _case()  # dispatched: the sign clock runs (Monday 15:00), level 2 Tuesday 10:00
    assert next_due(case, CAL) == sh(11, 30, 15)
    first = escalate(case, sh(11, 30, 15, 5), CAL)
    assert first is not None and next_due(first.case, CAL) == sh(12, 1, 10)
    second = escalate(first.case, sh(12, 1, 10), CAL)
    assert second is not None and next_due(second.case, CAL) == case.resolve_deadline  # that clock runs too
    assert next_due(_case(state=CaseState.CLOSED), CAL) is None
