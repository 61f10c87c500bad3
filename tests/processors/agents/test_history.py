"""A case's history in pages: order kept, repeats skipped, no page past its size, old lists still read."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

from processors.agents import history
from schemas.case_event import CaseEvent
from schemas.vocabulary import CaseEventType

CASE = UUID("0e0e0e0e-0000-4000-8000-00000000000a")
KEY = str(CASE).encode()
AT = datetime(2026, 12, 2, tzinfo=timezone.utc)


def _event(seq: int, kind: CaseEventType = CaseEventType.NOTE, note: str = "") -> CaseEvent:
    return CaseEvent(
        case_id=CASE, case_no="XL-20261202-0001", seq=seq, type=kind, at=AT,
        actor_id="cg-01", actor_role="department_staff", state="dispatched", payload={"note": note},
    )  # fmt: skip


def test_many_long_notes_stay_in_small_pages_in_order() -> None:
    table: dict[bytes, object] = {}
    note = "井盖" * 1000  # 2,000 characters, the longest a note may be
    for seq in range(1, 301):
        history.append(table, KEY, [_event(seq, note=note)])
    events = history.read(table, KEY)
    assert [e["seq"] for e in events] == list(range(1, 301))
    assert table[KEY]["pages"] == 300 // history.PAGE
    biggest = max(len(repr(v).encode()) for k, v in table.items() if k != KEY)
    assert biggest < 1_000_000 / 2  # far below Faust's 1 MB message limit


def test_a_replayed_command_keeps_nothing_twice_and_a_batch_can_span_pages() -> None:
    table: dict[bytes, object] = {}
    history.append(table, KEY, [_event(s) for s in range(1, history.PAGE)])
    history.append(table, KEY, [_event(s) for s in range(history.PAGE - 2, history.PAGE + 5)])  # 2 seen, 6 new
    history.append(table, KEY, [_event(history.PAGE + 4)])  # seen
    assert [e["seq"] for e in history.read(table, KEY)] == list(range(1, history.PAGE + 5))
    assert table[KEY]["pages"] == 2


def test_link_events_past_the_cap_are_counted_not_kept() -> None:
    table: dict[bytes, object] = {}
    history.append(table, KEY, [_event(s, CaseEventType.LINKED) for s in range(1, history.HISTORY_LINKS + 51)])
    history.append(table, KEY, [_event(history.HISTORY_LINKS + 51)])
    kept = history.read(table, KEY)
    assert sum(e["type"] == CaseEventType.LINKED.value for e in kept) == history.HISTORY_LINKS
    assert kept[-1]["seq"] == history.HISTORY_LINKS + 51


def test_a_history_written_as_one_list_is_read_and_then_paged() -> None:
    old = [_event(s).model_dump(mode="json") for s in (1, 2, 3)]
    table: dict[bytes, object] = {KEY: list(old)}
    assert history.read(table, KEY) == old
    history.append(table, KEY, [_event(3), _event(4)])
    assert [e["seq"] for e in history.read(table, KEY)] == [1, 2, 3, 4]
    assert isinstance(table[KEY], dict) and history.read(table, b"unknown") is None
