"""The case agent's verdicts, read from the replies topic, for requests waiting on them.

Every intake follows the whole replies topic (a district's actions are a few
per minute) from a minute before it started, and wakes the request whose
action id a verdict carries. A verdict that arrives after its request gave
up (202 pending) is kept a while, so a retry with the same action id is
answered at once.

A verdict is found by the action's id *as the case agent knows it*, which
the intake derives from (case, actor, the client's ``action_id``)
(:func:`replay_key`): a client's id is its own idempotency key on one case,
so another person — or the same person on another case — reusing it gets a
new action and a verdict of its own, never the first one's. (Refusing the
reuse with a 409 instead would need every intake to know every id ever
used, and would let whoever learns someone's action id block that action.)
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import OrderedDict

from infra.settings import Settings
from infra.tail import FollowedTopic, TopicTail
from schemas.case_flow import ActionVerdict
from schemas.topics import CASE_REPLIES

KEEP = 10_000  # verdicts remembered for late retries
#: namespace of the action ids the case agent sees (never change it: a retry across the change would apply twice)
ACTION_NAMESPACE = uuid.UUID("7d0c5a0e-3f7b-4c55-9a43-5a1f2b6c8e11")


def replay_key(case_id: uuid.UUID, actor_id: str, action_id: uuid.UUID) -> uuid.UUID:
    """The id the case agent knows an action by: one per (case, actor, the client's action id)."""
    return uuid.uuid5(ACTION_NAMESPACE, f"{case_id}:{actor_id}:{action_id}")


class Verdicts(FollowedTopic):
    """action_id → the case agent's verdict, with waiting for one."""

    def __init__(self, settings: Settings) -> None:
        self._known: OrderedDict[str, ActionVerdict] = OrderedDict()
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._lock = threading.Lock()
        since_ms = int((time.time() - 60) * 1000)
        self._tail = TopicTail(settings, settings.topic(CASE_REPLIES.name), self._on_record, since_ms)

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
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiting.pop(action_id, None)
        with self._lock:
            return self._known.get(action_id)
