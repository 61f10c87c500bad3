"""Live alert streams on the real intake and broker: one consumer per topic, caps, revocation, slow clients.

One intake (no workers: the alerts are written to their topics directly, as
the case agent writes them) serves every test of this module. A stream is
opened over a plain socket, so a test can stop reading it — the slow
client — and can count what the intake holds: its own stats in
``/healthz`` and, from outside, its TCP connections to the broker.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import make_pipeline_settings

from accounts.directory import add_account, revoke_user
from district import load_registry
from gridflow import services
from infra.kafka import ensure_topics, producer
from infra.settings import Settings
from schemas.topics import alerts_topic, declared
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration

PATH = "/api/v1/alerts/stream"


class RawStream:
    """An SSE request over a bare socket: read when the test says so, or never."""

    def __init__(self, settings: Settings, token: str, path: str = PATH, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket()
        if rcvbuf:  # a small window: the server's writes back up soon after the client stops reading
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(15)
        self.sock.connect(("127.0.0.1", settings.intake_port))
        request = f"GET {path} HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer {token}\r\n\r\n"
        self.sock.sendall(request.encode())
        self.raw = b""
        while b"\r\n\r\n" not in self.raw:
            self.raw += self._recv()
        head, _, self.raw = self.raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        return data

    def read_to_end(self, timeout: float) -> list[tuple[str, dict[str, Any] | None]]:
        """Read until the response ends (its last chunk, or the connection closed); the events it held."""
        deadline = time.monotonic() + timeout
        while b"\r\n0\r\n\r\n" not in b"\r\n" + self.raw and time.monotonic() < deadline:
            try:
                self.raw += self._recv()
            except (EOFError, OSError):
                break
        return events(dechunk(self.raw))

    def read_until(self, marker: bytes, timeout: float = 30) -> list[tuple[str, dict[str, Any] | None]]:
        """Read until ``marker`` has come (or ``timeout``); the events so far."""
        self.sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while marker not in self.raw and time.monotonic() < deadline:
            try:
                self.raw += self._recv()
            except TimeoutError:
                pass
        return events(dechunk(self.raw))

    def close(self) -> None:
        self.sock.close()


def dechunk(raw: bytes) -> bytes:
    body, rest = b"", raw
    while b"\r\n" in rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0 or len(rest) < size:
            break
        body, rest = body + rest[:size], rest[size + 2 :]
    return body


def events(body: bytes) -> list[tuple[str, dict[str, Any] | None]]:
    """(event name, data) of every event block; comments left out."""
    found = []
    for block in body.decode().split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if lines:
            name = next((line[7:] for line in lines if line.startswith("event: ")), "message")
            data = "".join(line[6:] for line in lines if line.startswith("data: "))
            found.append((name, json.loads(data) if data else None))
    return found


def alert(department: str, n: int, pad: int = 0) -> dict[str, Any]:
    return {"alert_id": f"{uuid.uuid4()}:{n}:{department}", "kind": "dispatch", "case_id": str(uuid.uuid4()),
            "department": department, "town": "XL", "title": f"路灯不亮 {n}", "pad": "x" * pad}  # fmt: skip


def publish(settings: Settings, department: str, alerts: list[dict[str, Any]], partition: int | None = None) -> None:
    """Write alerts to the department's topic, as the case agent does (one partition: in order)."""
    # Large batches: a flood of big alerts one request each would take minutes.
    p = producer(settings, max_block_ms=30000, delivery_timeout_ms=60000, request_timeout_ms=30000,
                 batch_size=1 << 20, linger_ms=20)  # fmt: skip
    try:
        for a in alerts:
            p.send(settings.topic(alerts_topic(department)), value=json.dumps(a).encode(), partition=partition)
        p.flush(60)
    finally:
        p.close()


def kafka_connections(pid: int, port: int) -> int:
    """Established TCP connections of process ``pid`` to ``port`` (the broker), from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port, state, inode = int(fields[2].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if state == "01" and remote_port == port and inode in inodes:
                count += 1
    return count


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def intake(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, services.Service]]:
    settings = make_pipeline_settings(stack, tmp_path_factory.mktemp("live")).replace(
        live_streams_per_account=3, live_streams_max=8, live_queue_alerts=100, live_send_timeout_s=120.0
    )
    ensure_topics(settings, declared(load_registry().department_codes))
    service = services.intake(settings).start()
    try:
        services.wait_until(services.intake_ready(settings), 120, "intake")
        yield settings, service
    finally:
        service.stop()


def live(settings: Settings) -> dict[str, Any]:
    return httpx.get(f"{settings.intake_url}/healthz", timeout=5).json()["live"]


def settled(read: Any, seconds: float = 2.0, timeout: float = 30.0) -> Any:
    """``read()`` once it has given the same answer for ``seconds``."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return now
    raise AssertionError(f"never settled; last {last}")


def test_streams_of_one_topic_share_one_consumer_and_each_gets_every_alert(intake) -> None:
    settings, service = intake
    assert service.pid is not None
    cg = add_account(settings, "cg-share", Role.DEPARTMENT_STAFF, department="CG")
    rs = add_account(settings, "rs-share", Role.DEPARTMENT_STAFF, department="RS")
    before = live(settings)["consumers"]
    first = RawStream(settings, cg)
    assert first.status == 200 and first.headers["content-type"].startswith("text/event-stream")
    services.wait_until(lambda: live(settings)["consumers"] == before + 1, 10, "the CG consumer")
    with_one = settled(lambda: kafka_connections(service.pid, settings.kafka_port))
    second = RawStream(settings, cg)  # the same account, a second page
    assert second.status == 200
    assert live(settings)["consumers"] == before + 1 and live(settings)["streams"] >= 2
    time.sleep(3)  # a consumer of its own would be connected by now
    assert kafka_connections(service.pid, settings.kafka_port) == with_one
    other = RawStream(settings, rs)  # another topic: one more consumer — so the count above can see one
    services.wait_until(lambda: kafka_connections(service.pid, settings.kafka_port) > with_one, 15, "RS connects")
    assert live(settings)["consumers"] == before + 2
    time.sleep(1)  # the tails have joined their topics
    sent = [alert("CG", n) for n in range(3)]
    publish(settings, "CG", sent, partition=0)
    publish(settings, "CG", [{"alert_id": "END", "town": "XL"}], partition=0)
    for s in (first, second):
        got = [data["alert_id"] for name, data in s.read_until(b"id: END") if name == "alert" and data]
        assert got == [a["alert_id"] for a in sent] + ["END"]
    for s in (first, second, other):
        s.close()
    services.wait_until(lambda: live(settings)["following"] == 0, 10, "streams released")


def test_the_fourth_stream_of_an_account_gets_429_and_a_closed_one_frees_its_place(intake) -> None:
    settings, _ = intake
    token = add_account(settings, "cg-many", Role.DEPARTMENT_STAFF, department="CG")
    opened = [RawStream(settings, token) for _ in range(3)]
    assert [s.status for s in opened] == [200, 200, 200]
    fourth = httpx.get(f"{settings.intake_url}{PATH}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert fourth.status_code == 429, fourth.text
    assert fourth.json()["error"] == "too_many_streams" and fourth.json()["limit"] == 3
    assert fourth.headers["retry-after"]
    other = RawStream(settings, add_account(settings, "cg-other", Role.DEPARTMENT_STAFF, department="CG"))
    assert other.status == 200  # the cap is per account, not per topic
    opened[0].close()
    services.wait_until(lambda: live(settings)["streams"] == 3, 10, "the closed stream's place freed")
    again = RawStream(settings, token)
    assert again.status == 200
    for s in (*opened, other, again):
        s.close()


def test_the_intake_refuses_streams_past_its_own_cap(intake) -> None:
    settings, _ = intake
    services.wait_until(lambda: live(settings)["streams"] == 0, 15, "earlier streams gone")
    tokens = [add_account(settings, f"zx-cap-{n}", Role.COMMAND_CENTRE) for n in range(3)]
    held = [RawStream(settings, t) for t in (*[tokens[0]] * 3, *[tokens[1]] * 3, *[tokens[2]] * 2)]
    assert [s.status for s in held] == [200] * settings.live_streams_max
    refused = httpx.get(f"{settings.intake_url}{PATH}", headers={"Authorization": f"Bearer {tokens[2]}"}, timeout=10)
    assert refused.status_code == 429 and refused.json()["scope"] == "intake", refused.text  # its own third
    for s in held:
        s.close()
    services.wait_until(lambda: live(settings)["streams"] == 0, 10, "streams released")


def test_a_revoked_tokens_stream_ends_within_5_seconds_saying_why(intake) -> None:
    settings, _ = intake
    token = add_account(settings, "cg-leaving", Role.DEPARTMENT_STAFF, department="CG")
    kept_token = add_account(settings, "cg-staying", Role.DEPARTMENT_STAFF, department="CG")
    stream, kept = RawStream(settings, token), RawStream(settings, kept_token)
    assert stream.status == kept.status == 200
    ended: dict[str, Any] = {}

    def read() -> None:
        ended["events"] = stream.read_to_end(timeout=60)
        ended["at"] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert revoke_user(settings, "cg-leaving") == 1
    revoked_at = time.monotonic()
    reader.join(10)
    assert "at" in ended, "the stream of a revoked token is still open"
    assert ended["at"] - revoked_at < 5
    assert ended["events"][-1] == ("closed", {"reason": "revoked", "message": ended["events"][-1][1]["message"]})
    assert live(settings)["closed_revoked"] >= 1
    time.sleep(0.5)
    publish(settings, "CG", [{"alert_id": "STILL", "town": "XL"}])
    assert ("alert", {"alert_id": "STILL", "town": "XL"}) in kept.read_until(b"id: STILL")  # the other goes on
    kept.close()
    again = httpx.get(f"{settings.intake_url}{PATH}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert again.status_code == 401


def test_a_client_that_stops_reading_is_closed_and_the_intake_does_not_grow(intake) -> None:
    settings, service = intake
    assert service.pid is not None
    token = add_account(settings, "cg-slow", Role.DEPARTMENT_STAFF, department="CG")
    slow = RawStream(settings, token, rcvbuf=4096)  # and never read, until the end
    assert slow.status == 200
    dropped = live(settings)["dropped_slow"]
    time.sleep(1.5)  # the consumer has joined the topic
    baseline = settled(lambda: rss_kib(service.pid) // 1024, seconds=1.0)
    peak = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(service.pid) // 1024)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    flood = [alert("CG", n, pad=40_000) for n in range(1500)]  # ~60 MB, all of it for the slow stream
    try:
        publish(settings, "CG", flood, partition=0)
        services.wait_until(lambda: live(settings)["dropped_slow"] == dropped + 1, 60, "the slow stream closed")
        fresh = RawStream(settings, add_account(settings, "cg-fresh", Role.DEPARTMENT_STAFF, department="CG"))
        time.sleep(0.5)
        publish(settings, "CG", [{"alert_id": "AFTER", "town": "XL"}], partition=0)  # after the whole flood
        fresh.read_until(b"id: AFTER", timeout=60)
        assert b"id: AFTER" in fresh.raw  # the hub read the whole flood and goes on
        fresh.close()
    finally:
        stop.set()
        sampler.join()
    grew = peak[0] - baseline
    assert grew < 30, f"the intake grew by {grew} MB for a ~60 MB flood a client did not read"
    got = slow.read_to_end(timeout=30)
    names = [name for name, _ in got]
    assert names[-1] == "closed" and got[-1][1]["reason"] == "slow", names[-3:]
    assert 0 < names.count("alert") < len(flood)  # what its socket held, then the end: not the flood
    slow.close()
