"""One Kafka consumer per alert topic in the intake, fanned out to every live stream that follows it.

A topic's consumer (a :class:`~infra.tail.TopicTail`) starts with the first
stream that asks for it, reading from ``REPLAY_MINUTES`` back, and stops
when no stream has wanted it for ``IDLE_S``; :meth:`AlertHub.stop` (the
app's shutdown) stops them all. Each record is parsed and framed once, in
the consumer's thread, and handed to the event loop, which puts it on the
queue of every stream that wants it and keeps it in the topic's short list
of recent alerts, so a page reconnecting with ``?minutes=N`` is replayed
from memory, without a consumer of its own.

Memory stays bounded however slow a client is: a stream's queue holds at
most ``GRIDFLOW_LIVE_QUEUE_ALERTS`` alerts; one more and the stream is
*closed* — its queue emptied, a final ``closed`` event (reason ``slow``)
put in their place — rather than made to wait or to skip alerts silently
(a page that misses alerts without knowing it is worse than one that
reconnects and replays). The hand-off from the consumer threads to the
loop is bounded too (``HANDOFF``): when the loop lags, the consumers wait
and Kafka keeps the records. A stream is therefore closed only when its
own client stops taking what is written: its socket full, its writes
waiting, its queue filling.

A revoked token (or a removed account) loses its streams as soon as the
account directory reads the revocation (``watch_revocations``); every
``RECHECK_S`` the open streams' tokens are also checked again
(``is_current_digest``), which catches what writes no record (a token that
expires) — either way with a final ``closed`` event (reason ``revoked``).

Everything but the consumers' reading runs on the event loop: no locks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.directory import AccountDirectory
from infra.settings import Settings
from infra.tail import TopicTail
from producers.api.sse import StreamEnd, alert_frame, closing_frame

logger = logging.getLogger(__name__)

REPLAY_MINUTES = 10  # how far back a topic's recent alerts are kept, for pages that reconnect
REPLAY_ALERTS = 500  # ... and at most this many of them per topic
REPLAY_BYTES = 1 << 20  # ... in at most this many bytes (an alert's description may be 12 kB)
RECHECK_S = 2.0  # how often the open streams' tokens are checked again
IDLE_S = 300.0  # a topic no stream has followed for this long: its consumer stops
HANDOFF = 32  # records read by the consumers and not yet fanned out: well below a stream's queue, so a
#              stream that reads along is never closed by one turn of the loop fanning out a burst


class TooManyStreams(Exception):
    """A new stream would pass a cap: ``scope`` is ``account`` or ``intake``."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"{scope} limit {limit}")
        self.scope = scope
        self.limit = limit


@dataclass(frozen=True)
class _Recent:
    at_ms: int  # the record's Kafka timestamp
    town: str | None
    frame: bytes


class Stream:
    """One open live stream: what it follows, its bounded queue, and why it ended if it did."""

    def __init__(
        self, hub: AlertHub, *, user_id: str, token_sha256: str, topic: str, since_ms: int,
        wants: Callable[[str | None], bool], size: int,
    ) -> None:  # fmt: skip
        self.hub = hub
        self.user_id = user_id
        self.token_sha256 = token_sha256  # to check the token again
        self.topic = topic
        self.since_ms = since_ms
        self.wants = wants
        self.size = size
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()  # bounded by offer(): size alerts + the closing frame
        self.ended: StreamEnd | None = None

    def offer(self, recent: _Recent) -> None:
        """Queue an alert read from the topic if this stream wants it; close the stream if it is full."""
        if self.ended is not None or recent.at_ms < self.since_ms or not self.wants(recent.town):
            return
        if self.queue.qsize() >= self.size:
            self.hub.end(self, StreamEnd.SLOW)
            return
        self.queue.put_nowait(recent.frame)

    def _close(self, reason: StreamEnd) -> None:
        self.ended = reason
        while not self.queue.empty():  # what it could not take is freed now, not when the client catches up
            self.queue.get_nowait()
        self.queue.put_nowait(closing_frame(reason))

    async def next(self, timeout: float) -> bytes | None:
        """Every frame waiting, as one write; None after ``timeout`` seconds without one.

        One write for all that waits: a client that keeps reading keeps up
        with a burst, which it would not at one loop turn per alert.
        """
        try:
            frames = [await asyncio.wait_for(self.queue.get(), timeout)]
        except TimeoutError:
            return None
        while not self.queue.empty():
            frames.append(self.queue.get_nowait())
        return b"".join(frames)

    def release(self) -> None:
        """The response is over (however it ended): free the stream's place. Idempotent."""
        self.hub._release(self)


@dataclass
class _Topic:
    name: str
    tail: TopicTail | None = None
    streams: set[Stream] = field(default_factory=set)
    recent: deque[_Recent] = field(default_factory=deque)
    recent_bytes: int = 0
    idle_since: float | None = None
    closed: threading.Event = field(default_factory=threading.Event)


class AlertHub:
    """The intake's alert topics, each read once, fanned out to its live streams; with the caps and the checks."""

    def __init__(self, settings: Settings, directory: AccountDirectory) -> None:
        self.settings = settings
        self.directory = directory
        self._topics: dict[str, _Topic] = {}
        self._streams: set[Stream] = set()  # open responses (an ended stream stays until its response is over)
        self._handoff = threading.BoundedSemaphore(HANDOFF)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watch: asyncio.Task[None] | None = None
        self._counts = {"dropped_slow": 0, "closed_revoked": 0, "refused": 0}
        directory.watch_revocations(self._on_revoked)

    # --- on the event loop ---------------------------------------------------------
    def open(
        self, *, user_id: str, token_sha256: str, topic: str, since_ms: int, wants: Callable[[str | None], bool]
    ) -> Stream:
        """A new stream of ``topic`` for ``user_id``, replayed from ``since_ms``; TooManyStreams past a cap."""
        per_account = self.settings.live_streams_per_account
        if sum(1 for s in self._streams if s.user_id == user_id) >= per_account:
            self._counts["refused"] += 1
            raise TooManyStreams("account", per_account)
        if len(self._streams) >= self.settings.live_streams_max:
            self._counts["refused"] += 1
            raise TooManyStreams("intake", self.settings.live_streams_max)
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._watch = asyncio.create_task(self._keep_watch(), name="alert-hub-watch")
        size = self.settings.live_queue_alerts
        stream = Stream(
            self, user_id=user_id, token_sha256=token_sha256, topic=topic, since_ms=since_ms, wants=wants, size=size
        )
        state = self._topic(topic)
        wanted = [r for r in state.recent if r.at_ms >= since_ms and wants(r.town)]
        for recent in wanted[-size:]:  # the newest that fit: a replay never closes a stream by itself
            stream.queue.put_nowait(recent.frame)
        state.streams.add(stream)
        state.idle_since = None
        self._streams.add(stream)
        return stream

    def end(self, stream: Stream, reason: StreamEnd) -> None:
        """Stop fanning out to ``stream`` and leave it only its closing event."""
        if stream.ended is not None:
            return
        stream._close(reason)
        self._unsubscribe(stream)
        if reason is StreamEnd.SLOW:
            self._counts["dropped_slow"] += 1
        elif reason is StreamEnd.REVOKED:
            self._counts["closed_revoked"] += 1
        logger.info("live stream of %s on %s closed: %s", stream.user_id, stream.topic, reason.value)

    def stats(self) -> dict[str, Any]:
        """Consumers running, streams open and following, and what was dropped, closed or refused."""
        return {
            "consumers": sum(1 for t in self._topics.values() if t.tail is not None),
            "streams": len(self._streams),
            "following": sum(len(t.streams) for t in self._topics.values()),
            **self._counts,
        }

    async def stop(self) -> None:
        """End every stream and stop every consumer (the app is stopping)."""
        for stream in list(self._streams):
            self.end(stream, StreamEnd.SHUTDOWN)
        if self._watch is not None:
            self._watch.cancel()
        topics, self._topics = list(self._topics.values()), {}
        for state in topics:
            state.closed.set()
        await asyncio.to_thread(lambda: [t.tail.stop() for t in topics if t.tail is not None])

    def _topic(self, name: str) -> _Topic:
        state = self._topics.get(name)
        if state is None:
            state = self._topics[name] = _Topic(name)
            since_ms = int((time.time() - REPLAY_MINUTES * 60) * 1000)
            state.tail = TopicTail(
                self.settings, name, lambda _k, value, ts: self._on_record(state, value, ts), since_ms
            ).start()
        return state

    def _unsubscribe(self, stream: Stream) -> None:
        state = self._topics.get(stream.topic)
        if state is not None and stream in state.streams:
            state.streams.discard(stream)
            if not state.streams:
                state.idle_since = time.monotonic()

    def _release(self, stream: Stream) -> None:
        self._unsubscribe(stream)
        self._streams.discard(stream)

    def _deliver(self, state: _Topic, recent: _Recent) -> None:
        try:
            if state.closed.is_set():
                return
            state.recent.append(recent)
            state.recent_bytes += len(recent.frame)
            horizon = (time.time() - REPLAY_MINUTES * 60) * 1000
            while state.recent and (
                state.recent[0].at_ms < horizon or len(state.recent) > REPLAY_ALERTS or state.recent_bytes > REPLAY_BYTES
            ):
                state.recent_bytes -= len(state.recent.popleft().frame)
            for stream in list(state.streams):
                stream.offer(recent)
        finally:
            self._handoff.release()

    def _close_token(self, token_sha256: str) -> None:
        for stream in list(self._streams):
            if stream.token_sha256 == token_sha256:
                self.end(stream, StreamEnd.REVOKED)

    async def _keep_watch(self) -> None:
        """Every RECHECK_S: close the streams whose token is no longer good; stop idle topics' consumers."""
        while True:
            await asyncio.sleep(RECHECK_S)
            try:
                # From the directory's memory, without waiting: cheap enough for the loop.
                for digest in {s.token_sha256 for s in self._streams if s.ended is None}:
                    if not self.directory.is_current_digest(digest):
                        self._close_token(digest)
                await self._stop_idle()
            except Exception:  # the watch must outlive one bad round
                logger.exception("checking the live streams")

    async def _stop_idle(self) -> None:
        now = time.monotonic()
        idle = [t for t in self._topics.values() if not t.streams and t.idle_since and now - t.idle_since > IDLE_S]
        for state in idle:
            del self._topics[state.name]
            state.closed.set()
            if state.tail is not None:
                await asyncio.to_thread(state.tail.stop)
            logger.info("no live stream follows %s: its consumer stopped", state.name)

    # --- in a consumer's thread (or the account directory's) ---------------------------
    def _on_revoked(self, token_sha256: str) -> None:
        if self._loop is None:
            return  # no stream was ever opened
        try:
            self._loop.call_soon_threadsafe(self._close_token, token_sha256)
        except RuntimeError:  # the loop is closed: the intake is stopping
            pass

    def _on_record(self, state: _Topic, value: bytes | None, ts: int) -> None:
        if value is None or self._loop is None:
            return
        alert = json.loads(value)
        if not isinstance(alert, dict) or not alert.get("alert_id"):
            logger.warning("an alert on %s without alert_id: skipped", state.name)
            return
        recent = _Recent(ts, alert.get("town"), alert_frame(alert))
        while not self._handoff.acquire(timeout=0.5):  # the loop lags: wait, Kafka keeps the records
            if state.closed.is_set():
                return
        try:
            self._loop.call_soon_threadsafe(self._deliver, state, recent)
        except RuntimeError:  # the loop is closed: the intake is stopping
            self._handoff.release()
