"""The case agent's verdicts, read from the replies topic, for requests waiting on them.

Every intake follows the whole replies topic (a district's actions are a few
per minute) from a minute before it started, and wakes the request whose
action id a verdict carries. A verdict that arrives after its request gave
up (202 pending) is kept a while, so a retry with the same action id is
answered at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict

from infra.settings import Settings
from infra.tail import FollowedTopic, TopicTail
from schemas.case_flow import ActionVerdict
from schemas.topics import CASE_REPLIES

KEEP = 10_000  # verdicts remembered for late retries


class Verdicts(FollowedTopic):
    """action_id → the case agent's verdict, with waiting for one."""

    def __init__(self, settings: Settings) -> None:
        self._known: OrderedDict[str, ActionVerdict] = OrderedDict()
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._lock = threading.Lock()
        since_ms = int((time.time() - 60) * 1000)
        self._tail = TopicTail(settings.bootstrap, settings.topic(CASE_REPLIES.name), self._on_record, since_ms)

    def _on_record(self, _key: bytes | None, value: bytes | None, _ts: int) -> None:
        if value is None:
            return
        verdict = ActionVerdict.model_validate_json(value)
        key = str(verdict.action_id)
        with self._lock:
            self._known[key] = verdict
            self._known.move_to_end(key)
            while len(self._known) > KEEP:
                self._known.popitem(last=False)
            waiter = self._waiting.get(key)
        if waiter is not None:
            loop, event = waiter
            loop.call_soon_threadsafe(event.set)

    async def wait(self, action_id: str, timeout: float) -> ActionVerdict | None:
        """The verdict on ``action_id``, waiting up to ``timeout`` s; None if it has not come by then."""
        event = asyncio.Event()
        with self._lock:
            if action_id in self._known:
                return self._known[action_id]
            self._waiting[action_id] = (asyncio.get_running_loop(), event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiting.pop(action_id, None)
        with self._lock:
            return self._known.get(action_id)
