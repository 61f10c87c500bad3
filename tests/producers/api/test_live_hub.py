"""The alert hub's fan-out, caps, bounded queues and re-checks, on the event loop alone.

The Kafka side is the topic tail, replaced here by a stand-in the test feeds
by hand; tests/producers/api/test_live_streams.py runs the same against the
real broker and intake.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from infra.settings import Settings
from producers.api import alert_hub
from producers.api.alert_hub import AlertHub, TooManyStreams
from producers.api.sse import LiveResponse, StreamEnd, alert_frame, closing_frame


class FakeTail:
    """Stands in for infra.tail.TopicTail: remembers its handler, reads nothing by itself."""

    made: ClassVar[list[FakeTail]] = []

    def __init__(self, bootstrap: str, topic: str, handle: Any, since_ms: int | None = None) -> None:
        self.topic, self.handle, self.since_ms = topic, handle, since_ms
        self.stopped = False
        FakeTail.made.append(self)

    def start(self) -> FakeTail:
        return self

    def stop(self) -> None:
        self.stopped = True


class Directory:
    """The two calls the hub makes of accounts.directory.AccountDirectory."""

    def __init__(self) -> None:
        self.expired: set[str] = set()
        self.watchers: list[Any] = []

    def watch_revocations(self, callback: Any) -> None:
        self.watchers.append(callback)

    def is_current_digest(self, token_sha256: str) -> bool:
        return token_sha256 not in self.expired


@pytest.fixture(autouse=True)
def _fake_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTail.made = []
    monkeypatch.setattr(alert_hub, "TopicTail", FakeTail)
    monkeypatch.setattr(alert_hub, "RECHECK_S", 0.2)


def _settings(**changes: Any) -> Settings:
    base = {"live_streams_per_account": 3, "live_streams_max": 5, "live_queue_alerts": 4}
    return Settings.from_env({}, **{**base, **changes})


def _alert(n: int, town: str = "XL") -> bytes:
    return json.dumps({"alert_id": f"a:{n}", "town": town, "title": "路灯不亮"}).encode()


async def _feed(tail: FakeTail, *values: bytes, ts: int | None = None) -> None:
    """Hand records to the hub as the tail's thread would, and let the loop fan them out."""
    at = int(time.time() * 1000) if ts is None else ts
    for value in values:
        await asyncio.to_thread(tail.handle, None, value, at)
    await asyncio.sleep(0.01)


def _open(hub: AlertHub, user: str = "cg-01", topic: str = "t.alerts.CG", since_ms: int = 0, town: str | None = None):
    return hub.open(user_id=user, token_sha256=f"sha-{user}", topic=topic, since_ms=since_ms,
                    wants=lambda t: town is None or t == town)  # fmt: skip


def test_streams_of_one_topic_share_one_tail_and_each_gets_every_alert() -> None:
    async def run() -> None:
        hub = AlertHub(_settings(), Directory())  # type: ignore[arg-type]
        a, b = _open(hub), _open(hub, user="cg-02")
        other = _open(hub, topic="t.alerts.RS", user="rs-01")
        assert [t.topic for t in FakeTail.made] == ["t.alerts.CG", "t.alerts.RS"]
        assert hub.stats()["consumers"] == 2 and hub.stats()["streams"] == 3
        await _feed(FakeTail.made[0], _alert(1), _alert(2))
        expected = alert_frame(json.loads(_alert(1))) + alert_frame(json.loads(_alert(2)))
        assert await a.next(1) == expected and await b.next(1) == expected
        assert await other.next(0.05) is None  # nothing on its topic: a keep-alive is due
        await hub.stop()
        assert all(t.stopped for t in FakeTail.made)
        assert await a.next(1) == closing_frame(StreamEnd.SHUTDOWN)

    asyncio.run(run())


def test_caps_per_account_and_in_total_and_a_released_place_is_free_again() -> None:
    async def run() -> None:
        hub = AlertHub(_settings(), Directory())  # type: ignore[arg-type]
        mine = [_open(hub) for _ in range(3)]
        with pytest.raises(TooManyStreams) as refused:
            _open(hub)
        assert (refused.value.scope, refused.value.limit) == ("account", 3)
        _open(hub, user="cg-02")
        _open(hub, user="cg-03")
        with pytest.raises(TooManyStreams) as full:
            _open(hub, user="cg-04")
        assert (full.value.scope, full.value.limit) == ("intake", 5)
        mine[0].release()
        mine[0].release()  # idempotent
        _open(hub)  # its place is free
        assert hub.stats()["refused"] == 2
        await hub.stop()

    asyncio.run(run())


def test_a_stream_that_falls_behind_is_closed_with_only_its_final_event_left() -> None:
    async def run() -> None:
        hub = AlertHub(_settings(live_queue_alerts=4), Directory())  # type: ignore[arg-type]
        slow, reader = _open(hub), _open(hub, user="cg-02")
        tail = FakeTail.made[0]
        for n in range(3):
            await _feed(tail, _alert(n))
            assert (await reader.next(1)).count(b"event: alert") == 1  # reads along: never closed
        await _feed(tail, *[_alert(n) for n in range(3, 6)])
        assert slow.ended is StreamEnd.SLOW and slow.queue.qsize() == 1  # the 5th alert did not fit: freed
        assert await slow.next(1) == closing_frame(StreamEnd.SLOW)
        assert reader.ended is None and (await reader.next(1)).count(b"event: alert") == 3
        assert hub.stats()["dropped_slow"] == 1 and hub.stats()["following"] == 1
        await _feed(tail, _alert(9))
        assert slow.queue.empty()  # no longer fanned out to
        await hub.stop()

    asyncio.run(run())


def test_a_reconnecting_page_is_replayed_from_memory_its_town_and_minutes_only() -> None:
    async def run() -> None:
        hub = AlertHub(_settings(live_queue_alerts=100), Directory())  # type: ignore[arg-type]
        first = _open(hub, topic="t.alerts.ZZZX", user="zx-duty")
        tail = FakeTail.made[0]
        now_ms = int(time.time() * 1000)
        await _feed(tail, _alert(1, "XL"), ts=now_ms - 120_000)
        await _feed(tail, _alert(2, "DH"), _alert(3, "XL"), ts=now_ms - 30_000)
        sub_centre = _open(hub, topic="t.alerts.ZZZX", user="zx-xl", since_ms=now_ms - 60_000, town="XL")
        assert len(FakeTail.made) == 1  # no consumer of its own
        replayed = await sub_centre.next(1)
        assert replayed == alert_frame(json.loads(_alert(3, "XL")))  # not a:1 (too old), not a:2 (another town)
        assert (await first.next(1)).count(b"event: alert") == 3
        await _feed(tail, b'{"no": "alert id"}', _alert(4, "XL"))
        assert await sub_centre.next(1) == alert_frame(json.loads(_alert(4, "XL")))
        await hub.stop()

    asyncio.run(run())


def test_a_revoked_token_loses_its_stream_at_once_and_an_expired_one_within_a_recheck() -> None:
    async def run() -> None:
        directory = Directory()
        hub = AlertHub(_settings(), directory)  # type: ignore[arg-type]
        kept, revoked, expired = _open(hub), _open(hub, user="cg-02"), _open(hub, user="cg-03")
        await asyncio.to_thread(directory.watchers[0], "sha-cg-02")  # the directory's reading thread
        assert await revoked.next(0.02) == closing_frame(StreamEnd.REVOKED)  # before any recheck
        directory.expired.add("sha-cg-03")  # expiry writes no record: the recheck finds it
        assert await expired.next(1) == closing_frame(StreamEnd.REVOKED)
        assert kept.ended is None and hub.stats()["closed_revoked"] == 2
        await hub.stop()

    asyncio.run(run())


def test_a_response_whose_client_takes_nothing_ends_and_frees_its_place() -> None:
    async def run() -> None:
        ended: list[bool] = []

        async def frames() -> AsyncIterator[bytes]:
            while True:
                yield b": keep-alive\n\n"

        response = LiveResponse(frames(), send_timeout=0.1, on_end=lambda: ended.append(True))
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)
            if len(sent) > 2:
                await asyncio.Event().wait()  # the client's socket is full: this write never completes

        await asyncio.wait_for(response.stream_response(send), 2)
        assert ended == [True] and len(sent) == 3

    asyncio.run(run())
