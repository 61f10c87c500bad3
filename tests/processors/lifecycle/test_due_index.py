"""The deadline timer's index: what is due comes out once, earliest first; updates and rebuilds replace."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from processors.lifecycle.due_index import DueIndex

T0 = datetime(2026, 12, 2, 8, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_due_keys_come_out_once_earliest_first() -> None:
    index = DueIndex()
    index.note(b"b", at(20))
    index.note(b"a", at(10))
    index.note(b"c", at(30))
    assert index.take_due(at(5)) == []
    assert index.take_due(at(20)) == [b"a", b"b"]
    assert index.take_due(at(20)) == []  # taken out: the timer notes again what stays due
    assert len(index) == 1


def test_a_new_time_replaces_the_old_and_none_forgets() -> None:
    index = DueIndex()
    index.note(b"a", at(10))
    index.note(b"a", at(40))  # the case moved on: its old time must not fire
    index.note(b"b", at(10))
    index.note(b"b", None)  # closed
    assert index.take_due(at(30)) == []
    assert index.take_due(at(40)) == [b"a"]


def test_many_updates_keep_the_heap_bounded() -> None:
    index = DueIndex()
    for i in range(20_000):
        index.note(b"k%d" % (i % 10), at(i))
    assert len(index) == 10 and len(index._heap) <= 2 * 10 + 1024
    assert sorted(index.take_due(at(20_000))) == sorted(b"k%d" % i for i in range(10))


def test_a_rebuild_replaces_everything_and_clears_stale() -> None:
    index = DueIndex()
    assert index.stale
    index.note(b"gone", at(1))
    index.rebuild([(b"a", at(5)), (b"closed", None)])
    assert not index.stale and len(index) == 1
    assert index.take_due(at(10)) == [b"a"]
