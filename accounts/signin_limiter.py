"""Failed sign-ins per account id (登录失败限制), in bounded memory.

After ``max_failures`` failures of one id within ``window_s`` seconds,
further attempts for that id are refused, without hashing, until the
oldest of them leaves the window. Known and unknown ids count alike, so
the refusal tells nothing about whether an id exists.

Attempts in flight count as failures until they end: fifty guesses sent at
once cannot slip past the limit while the first ten are still hashing.

At most ``max_ids`` ids are tracked; beyond that the id that failed least
recently is forgotten. An attacker can thus free an id by failing on that
many others, but each of those failures costs a hash on the bounded pool,
so it buys far fewer guesses than the window would give.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    pending: int = 0


class SignInLimiter:
    """Counts failures per id; :meth:`begin` before hashing, :meth:`end` after."""

    def __init__(
        self, max_failures: int, window_s: float, max_ids: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_ids = max_ids
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def begin(self, user_id: str) -> int | None:
        """None, and the attempt is counted as in flight; or the seconds (≥ 1) until ``user_id`` may try again."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None:
                entry = self._entries[user_id] = _Entry()
                self._evict()
            while entry.failures and entry.failures[0] <= now - self.window_s:
                entry.failures.popleft()
            if len(entry.failures) + entry.pending >= self.max_failures:
                if not entry.failures:  # only attempts in flight: they end within a hash's time
                    return 1
                # Failures and attempts in flight never exceed the limit, so the oldest failure leaving frees one.
                return max(1, math.ceil(entry.failures[0] + self.window_s - now))
            entry.pending += 1
            return None

    def end(self, user_id: str, ok: bool) -> None:
        """The attempt :meth:`begin` let through is over: a success forgets the id's failures."""
        with self._lock:
            entry = self._entries.get(user_id)
            if ok:
                self._entries.pop(user_id, None)
                return
            if entry is None:  # forgotten meanwhile (evicted): count it afresh
                entry = self._entries[user_id] = _Entry(pending=1)
                self._evict()
            entry.pending = max(0, entry.pending - 1)
            entry.failures.append(self._clock())
            while len(entry.failures) > self.max_failures:
                entry.failures.popleft()
            self._entries.move_to_end(user_id)

    def cancel(self, user_id: str) -> None:
        """The attempt :meth:`begin` let through was not made (no hash ran): it does not count."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is not None:
                entry.pending = max(0, entry.pending - 1)
                if not entry.pending and not entry.failures:
                    del self._entries[user_id]

    def _evict(self) -> None:
        while len(self._entries) > self.max_ids:
            self._entries.popitem(last=False)
