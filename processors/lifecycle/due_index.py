"""This worker's open cases by the time their next escalation falls due (督办到期索引).

The deadline timer used to read and validate every case in the table every
tick (a tenth of a loaded worker's time at 15 reports/s). The case agent now
notes each case's next due time here when it writes the case
(:func:`processors.lifecycle.escalation.next_due`), and the timer takes only
the cases whose time has come. The index is memory only: the timer rebuilds
it from the table after a rebalance or a recovery and now and then, so a case
whose row arrived by another path (a changelog replay) is never missed for long.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Iterable


class DueIndex:
    """key → next due time, with a heap for "which are due now"; stale heap entries are skipped."""

    def __init__(self) -> None:
        self._at: dict[bytes, datetime] = {}
        self._heap: list[tuple[datetime, bytes]] = []
        #: set when the table may hold rows the index has not seen (a rebalance, a recovery): rebuild
        self.stale = True

    def __len__(self) -> int:
        return len(self._at)

    def note(self, key: bytes, at: datetime | None) -> None:
        """``key`` falls due at ``at`` (None: never, as it stands)."""
        if at is None:
            self._at.pop(key, None)
            return
        if self._at.get(key) == at:
            return
        self._at[key] = at
        heapq.heappush(self._heap, (at, key))
        if len(self._heap) > 2 * len(self._at) + 1024:  # updates leave old entries behind: drop them
            self._heap = [(t, k) for k, t in self._at.items()]
            heapq.heapify(self._heap)

    def rebuild(self, entries: Iterable[tuple[bytes, datetime | None]]) -> None:
        """Replace the index with ``entries`` (the whole table, read in one go)."""
        self._at = {k: t for k, t in entries if t is not None}
        self._heap = [(t, k) for k, t in self._at.items()]
        heapq.heapify(self._heap)
        self.stale = False

    def take_due(self, now: datetime) -> list[bytes]:
        """Take out the keys due at ``now``, earliest first (the caller notes again what stays due)."""
        taken = []
        while self._heap and self._heap[0][0] <= now:
            at, key = heapq.heappop(self._heap)
            if self._at.get(key) == at:
                del self._at[key]
                taken.append(key)
        return taken
