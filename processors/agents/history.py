"""A case's history (办理记录) in the case agent's table: its events in pages, so that it scales.

One table value per case would grow with every note and be rewritten whole
on every change — 80 long notes pass Faust's 1 MB message limit. So the
events are kept in pages of :data:`PAGE` under ``<case>#<n>``, and under
the case's own key a small head says how many pages there are, the last
seq kept and how many link events were. A change rewrites only the last
page and the head. Link events past :data:`HISTORY_LINKS` are not kept
(the events all go to Kafka and ClickHouse): a case reported thousands of
times stays readable.

Every key is written while the case agent handles a command keyed by the
case, so Faust keeps the pages in the case's own partition, where a lookup
routed by the case id finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.case_event import CaseEvent
from schemas.vocabulary import CaseEventType

#: events in one page (a long note is 2,000 characters: a page stays far below the 1 MB message limit)
PAGE = 50
#: link events kept in a case's history; past this only the count grows
HISTORY_LINKS = 200
_LINK_EVENTS = frozenset({CaseEventType.LINKED, CaseEventType.UNLINKED})
_LINK_TYPES = frozenset(t.value for t in _LINK_EVENTS)


def _page_key(key: bytes, n: int) -> bytes:
    return key + b"#" + str(n).encode()


def _head(table: Any, key: bytes) -> dict[str, int]:
    value = table.get(key)
    if isinstance(value, list):  # written before histories had pages: one page, read as such
        links = sum(1 for e in value if e.get("type") in _LINK_TYPES)
        return {"pages": 0, "last_seq": max((e["seq"] for e in value), default=0), "links": links, "legacy": 1}
    return dict(value) if value else {"pages": 0, "last_seq": 0, "links": 0}


def append(table: Any, key: bytes, events: Sequence[CaseEvent]) -> None:
    """Keep ``events`` of the case ``key`` after those it has; an event already kept (by seq) is skipped."""
    head = _head(table, key)
    if head.pop("legacy", 0):  # move the old list into the first page before adding to it
        old = table.get(key)
        table[_page_key(key, 0)] = old
        head["pages"] = 1 if old else 0
    fresh = []
    for event in events:
        if event.seq <= head["last_seq"]:
            continue  # a re-sent event (a replayed command): kept already
        head["last_seq"] = event.seq
        if event.type in _LINK_EVENTS:
            if head["links"] >= HISTORY_LINKS:
                continue
            head["links"] += 1
        fresh.append(event.model_dump(mode="json"))
    if not fresh:
        if head != _head(table, key):
            table[key] = head
        return
    n = head["pages"]
    page = list(table.get(_page_key(key, n - 1)) or []) if n else []
    if not n or len(page) >= PAGE:
        n, page = n + 1, []
    while fresh:
        room = PAGE - len(page)
        page, fresh = page + fresh[:room], fresh[room:]
        table[_page_key(key, n - 1)] = page
        if fresh:
            n, page = n + 1, []
    head["pages"] = n
    table[key] = head


def read(table: Any, key: bytes) -> list[dict[str, Any]] | None:
    """The case's events in seq order, or None when the case has no history here."""
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        return value
    events: list[dict[str, Any]] = []
    for n in range(int(value.get("pages", 0))):
        events += table.get(_page_key(key, n)) or []
    return events
