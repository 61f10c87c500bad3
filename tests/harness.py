"""A running pipeline (workers + intake as real processes) for integration tests."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer

from accounts.directory import add_account
from district import load_registry
from gridflow import services
from infra.clickhouse import ServerEngine
from infra.kafka import ensure_topics
from infra.settings import Settings
from infra.stack.processes import pid_alive
from processors.pipeline import internal_topics
from schemas.migrate import apply
from schemas.topics import CASE_EVENTS, alerts_topic, declared
from schemas.vocabulary import INTEGRATED_NETWORKS, Role, SourceNetwork


@dataclass
class Pipeline:
    settings: Settings
    workers: list[services.Service]
    intake: services.Service
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.settings.intake_url

    def client(self, who: str = "worker") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[who]}"}, timeout=30)

    def clickhouse(self) -> ServerEngine:
        return ServerEngine.from_settings(self.settings)

    def restart_worker(self, index: int) -> None:
        self.workers[index] = services.worker(self.settings, index).start()
        services.wait_until(services.worker_ready(self.settings, index), 120, f"worker {index}")

    def stop(self) -> None:
        """End the processes at once (SIGKILL): the test is over, and the topics, consumer group and
        database are this pipeline's own. A clean stop took five seconds a worker (RocksDB closing
        table by table), two minutes over `make test`; `gridflow demo` and `gridflow soak`, which the
        tests run too, stop theirs in order (gridflow/launch.py)."""
        for s in [self.intake, *self.workers]:
            s.kill()


def free_port(count: int = 1) -> int:
    """A port with ``count - 1`` free ports after it, on 127.0.0.1."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count >= 65000:
            continue
        ok = True
        for port in range(base + 1, base + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports")


def make_pipeline_settings(stack: Settings, home: Path) -> Settings:
    """Unique topics, consumer group, database and ports on the shared stack."""
    uid = uuid.uuid4().hex[:8]
    web = free_port(4)
    return stack.replace(
        home=home / "home",
        topic_prefix=f"t{uid}",
        worker_id=f"t{uid}",
        clickhouse_database=f"t_{uid}",
        intake_port=free_port(),
        worker_web_port=web,
        worker_urls=",".join(f"http://127.0.0.1:{web + i}" for i in range(4)),
        worker_canonical_host="127.0.0.1",
        log_level="INFO",
    )


def start_pipeline(settings: Settings, workers: int = 1) -> Pipeline:
    """Topics, tables, accounts, then the workers and the intake; returns once all answer."""
    ensure_topics(settings, declared(load_registry().department_codes), internal=internal_topics(settings))
    engine = ServerEngine.from_settings(settings)
    apply(engine, settings.clickhouse_database)
    engine.close()
    p = Pipeline(
        settings=settings,
        workers=[services.worker(settings, i).start() for i in range(workers)],
        intake=services.intake(settings).start(),
    )
    try:
        _ready(p, workers)
    except BaseException:
        p.stop()  # never leave processes behind a failed start
        raise
    return p


def _ready(p: Pipeline, workers: int) -> None:
    settings = p.settings
    p.tokens = {
        "worker": add_account(settings, "wgy-xl-01", Role.GRID_WORKER, town="XL"),
        "worker2": add_account(settings, "wgy-dh-01", Role.GRID_WORKER, town="DH"),
        "integrator": add_account(settings, "net-12345", Role.INTEGRATOR, network=SourceNetwork.HOTLINE),
        "centre": add_account(settings, "zx-duty", Role.COMMAND_CENTRE),
        "staff": add_account(settings, "cg-01", Role.DEPARTMENT_STAFF, department="CG"),
        "admin": add_account(settings, "admin", Role.ADMIN),
    }
    # One integrator per other network, by its name (the 12345 one is "integrator" above too).
    p.tokens[SourceNetwork.HOTLINE.value] = p.tokens["integrator"]
    for network in INTEGRATED_NETWORKS:
        if network is not SourceNetwork.HOTLINE:
            p.tokens[network.value] = add_account(settings, f"net-{network.value}", Role.INTEGRATOR, network=network)
    services.wait_until(services.intake_ready(settings), 120, "intake")
    for i in range(workers):
        services.wait_until(services.worker_ready(settings, i), 120, f"worker {i}")
    services.wait_until(services.group_settled(settings, workers), 120, "worker group")


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid report body with a fresh report_id."""
    body: dict[str, Any] = {
        "report_id": str(uuid.uuid4()),
        "grid_id": "XL-02-03",
        "reporter_phone": "13812345678",
        "category_hint": "URBAN",
        "title": "村口路灯不亮",
        "description": "石门村村口路灯坏了三天，晚上很黑。",
        "occurred_at": datetime.now(timezone.utc).isoformat(),
    }
    body.update(overrides)
    return body


def wait_for_state(client: httpx.Client, report_id: str, state: str, timeout: float = 60) -> dict[str, Any]:
    """Poll GET /reports/{id} until its state is ``state``; return the last answer."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/reports/{report_id}")
        if r.status_code == 200:
            last = r.json()
            if last["state"] == state:
                return last
        time.sleep(0.3)
    raise AssertionError(f"report {report_id} never reached {state}; last answer {last}")


class Alerts:
    """Reads departments' alert topics from the beginning."""

    def __init__(self, settings: Settings, departments: set[str]) -> None:
        self.consumer = KafkaConsumer(
            *[settings.topic(alerts_topic(d)) for d in sorted(departments)],
            bootstrap_servers=settings.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            consumer_timeout_ms=1000,
        )
        self.prefix = settings.topic(alerts_topic(""))
        self.seen: list[dict[str, Any]] = []

    def wait_for(self, predicate: Any, timeout: float = 90.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for msg in self.consumer:
                alert = json.loads(msg.value)
                alert["_topic"] = msg.topic[len(self.prefix):]
                self.seen.append(alert)
            if predicate(self.seen):
                return self.seen
        raise AssertionError(f"alerts never matched; seen {[(a['_topic'], a['case_no']) for a in self.seen]}")


class CaseSeqs:
    """Each case's latest seq, read from the case-events topic: a wait that asks the worker nothing.

    Polling the intake for hundreds of cases a round took the CPU the worker needed (each GET is
    a hop through the intake to the worker's table view).
    """

    def __init__(self, settings: Settings) -> None:
        self.consumer = KafkaConsumer(
            settings.topic(CASE_EVENTS.name),
            bootstrap_servers=settings.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self.seq: dict[str, int] = {}
        self.types: dict[str, set[str]] = {}

    def read(self) -> None:
        """Take in what is on the topic now."""
        for messages in self.consumer.poll(timeout_ms=200, max_records=20000).values():
            for msg in messages:
                event = json.loads(msg.value)
                case_id = event["case_id"]
                self.seq[case_id] = max(self.seq.get(case_id, 0), event["seq"])
                self.types.setdefault(case_id, set()).add(event["type"])

    def wait(self, done: Any, timeout: float, what: str) -> None:
        """Read until ``done(self)`` is true; TimeoutError naming ``what`` otherwise."""
        deadline = time.monotonic() + timeout
        while not done(self):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not seen on the case events after {timeout:.0f}s")
            self.read()

    def close(self) -> None:
        self.consumer.close()


def started_by(home: Path) -> dict[int, str]:
    """Live processes (pid → command line) whose environment names ``home`` as their GRIDFLOW_HOME."""
    mark = f"GRIDFLOW_HOME={home}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if mark in environ and pid_alive(int(proc.name)):
            found[int(proc.name)] = command
    return found
