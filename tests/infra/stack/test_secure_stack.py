"""docker-compose's security, proven on the real servers: Kafka with SASL/SCRAM and ACLs, ClickHouse's read-only user.

A second local broker runs in the SCRAM + ACL mode (``GRIDFLOW_KAFKA_STACK_SCRAM``)
with the users ``admin`` (super user), ``intake``, ``worker`` and ``outsider``
(no ACLs), and the ACL table of ``deploy/kafka-acls.txt`` — the one compose
applies — put on it. Then: nobody gets in without the right password, a
principal without a line cannot write the accounts topic, and the intake's
clients and a real ``gridflow worker`` (Faust, the ClickHouse sink) run on
their own ACLs, a report written as ``intake`` becoming a case in ClickHouse.
The read-only user is tried on the test stack's Debian ClickHouse (18.16).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException
from harness import free_port, report_body
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAuthorizationFailedError

from accounts.directory import AccountDirectory, add_account
from district import load_registry
from gridflow import services
from infra.clickhouse import ServerEngine
from infra.kafka import client_config, ensure_topics, producer
from infra.kafka_acls import apply_acls, read_acl_table
from infra.settings import Settings
from infra.stack.clickhouse import READONLY_USER, ClickHouseServer
from infra.stack.kafka import KafkaServer, kafka_healthy
from infra.tail import TopicTail
from producers.api.writer import ReportWriter
from schemas.migrate import apply
from schemas.report import AcceptedReport, Report
from schemas.topics import ACCOUNTS, REPORTS, declared
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ACL_TABLE = ROOT / "deploy" / "kafka-acls.txt"
USERS = ("admin", "intake", "worker", "outsider")
FAIL_FAST = {"max_block_ms": 4000, "bootstrap_timeout_ms": 4000, "request_timeout_ms": 4000}


@dataclass
class SecureKafka:
    """The SCRAM broker, and settings that log in as each of its users."""

    server: KafkaServer
    as_user: dict[str, Settings]

    @property
    def bootstrap(self) -> str:
        return self.as_user["admin"].bootstrap

    def log_lines(self, pattern: str) -> int:
        return len(re.findall(pattern, self.server.log_path.read_text(errors="replace")))


@pytest.fixture(scope="module")
def secure(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    uid = uuid.uuid4().hex[:8]
    passwords = {user: secrets.token_hex(16) for user in USERS}
    admin = stack.replace(
        home=tmp_path_factory.mktemp("secure-kafka"),
        kafka_bootstrap="",
        kafka_port=free_port(2),
        kafka_partitions=2,
        kafka_stack_scram=True,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_username="admin",
        kafka_password=passwords["admin"],
        topic_prefix=f"s{uid}",
        worker_id=f"s{uid}",
        clickhouse_database=f"s_{uid}",
    )
    server = KafkaServer(admin, scram_users={u: passwords[u] for u in USERS if u != "admin"})
    try:
        server.start_and_wait(lambda line: print(line, flush=True), 120)
        as_user = {u: admin.replace(kafka_username=u, kafka_password=passwords[u]) for u in USERS}
        assert apply_acls(admin, read_acl_table(ACL_TABLE, admin.topic_prefix, admin.worker_id)) > 10
        # The intake makes the topics at its start, as the intake: Describe and Create on the prefix.
        ensure_topics(as_user["intake"], declared(load_registry().department_codes))
        yield SecureKafka(server, as_user)
    finally:
        server.stop()
    assert not server.is_running()


def _send(settings: Settings, topic: str, value: bytes = b"{}", key: bytes = b"k") -> int:
    p = producer(settings, **FAIL_FAST)
    try:
        return p.send(settings.topic(topic), key=key, value=value).get(timeout=10).offset
    finally:
        p.close(timeout=2)


# --- who gets in ----------------------------------------------------------------------------


def test_a_client_without_credentials_gets_nothing(secure: SecureKafka) -> None:
    before = secure.log_lines("during SASL handshake")
    with pytest.raises(KafkaError):
        KafkaProducer(bootstrap_servers=secure.bootstrap, **FAIL_FAST).send("x", b"x").get(timeout=10)
    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=secure.bootstrap, bootstrap_timeout_ms=4000, request_timeout_ms=4000)
    with pytest.raises(KafkaError):
        KafkaConsumer(
            secure.as_user["admin"].topic(ACCOUNTS.name), bootstrap_servers=secure.bootstrap,
            bootstrap_timeout_ms=4000, request_timeout_ms=4000,
        )  # fmt: skip
    # The broker refused to talk before a login (not a network failure), and a logged-in client is served.
    assert secure.log_lines("during SASL handshake") > before
    assert not kafka_healthy(secure.bootstrap, 4.0)
    assert kafka_healthy(secure.bootstrap, 10.0, client_config(secure.as_user["admin"]))


def test_a_wrong_password_is_refused(secure: SecureKafka) -> None:
    before = secure.log_lines("invalid credentials with SASL mechanism SCRAM-SHA-512")
    wrong = secure.as_user["intake"].replace(kafka_password=secrets.token_hex(16))
    with pytest.raises(KafkaError):
        _send(wrong, REPORTS.name)
    assert not kafka_healthy(secure.bootstrap, 4.0, client_config(wrong))
    assert secure.log_lines("invalid credentials with SASL mechanism SCRAM-SHA-512") > before
    impostor = secure.as_user["outsider"].replace(kafka_username="admin")  # a user's password under another's name
    with pytest.raises(KafkaError):
        _send(impostor, ACCOUNTS.name)


# --- what each may do -------------------------------------------------------------------------


def test_only_the_intake_may_write_the_accounts_topic(secure: SecureKafka) -> None:
    """Before: anyone on the network could write an admin account to the accounts topic."""
    for user in ("worker", "outsider"):
        with pytest.raises(TopicAuthorizationFailedError):
            _send(secure.as_user[user], ACCOUNTS.name, key=b"forged", value=b'{"role": "admin"}')
    with pytest.raises(TopicAuthorizationFailedError):
        _send(secure.as_user["worker"], REPORTS.name)  # the workers read reports, only the intake writes them
    assert _send(secure.as_user["intake"], REPORTS.name, value=b"not a report") >= 0


def test_a_principal_without_a_read_acl_reads_nothing(secure: SecureKafka) -> None:
    intake, outsider = secure.as_user["intake"], secure.as_user["outsider"]
    topic = intake.topic(ACCOUNTS.name)
    _send(intake, ACCOUNTS.name, key=b"readable", value=b'{"probe": true}')
    assert _read_partitions(intake, topic), "the intake reads the accounts it writes"
    assert _read_partitions(outsider, topic) == [], "the outsider saw accounts"
    # Nor may it make topics of its own (ensure_topics says why at once).
    with pytest.raises(RuntimeError, match="outsider.*needs Create"):
        ensure_topics(outsider.replace(topic_prefix=f"{outsider.topic_prefix}x"), [(REPORTS.name, {})])


def _read_partitions(settings: Settings, topic: str) -> list[bytes]:
    """Every value ``settings``' user gets from ``topic`` (an unauthorized one: its metadata hides the topic)."""
    consumer = KafkaConsumer(**client_config(settings), group_id=None, request_timeout_ms=5000)
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            # Not even metadata: try the partitions the topic has, blind.
            parts = set(range(settings.kafka_partitions))
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        values: list[bytes] = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not values:
            for records in consumer.poll(timeout_ms=500).values():
                values += [r.value for r in records]
        return values
    except TopicAuthorizationFailedError:
        return []
    finally:
        consumer.close()


def test_the_intakes_clients_run_as_intake(secure: SecureKafka) -> None:
    """The intake's report writer, the accounts writer and the tail behind the account directory."""
    intake = secure.as_user["intake"]
    writer = ReportWriter(intake)
    report = _accepted_report()
    try:
        asyncio.run(writer.write(report))
    finally:
        writer.close()
    token = add_account(intake, "wgy-xl-secure", Role.GRID_WORKER, town="XL")
    directory = AccountDirectory(intake).start()
    try:
        account = directory.lookup(token)
        assert account is not None and account.user_id == "wgy-xl-secure"
    finally:
        directory.stop()
    seen: list[bytes] = []
    tail = TopicTail(intake, intake.topic(REPORTS.name), lambda key, _value, _ts: seen.append(key or b"")).start()
    try:
        assert tail.catch_up(timeout=20)
        assert str(report.report_id).encode() in seen
        assert tail.connected
    finally:
        tail.stop()


@pytest.mark.timeout(600)
def test_a_worker_runs_on_its_acls_and_a_report_becomes_a_case(secure: SecureKafka, tmp_path: Path) -> None:
    """A real `gridflow worker` as `worker`: Faust (its group, tables, changelogs), the sink, the webhooks."""
    worker = secure.as_user["worker"].replace(
        home=tmp_path / "worker",
        worker_web_port=free_port(),
        worker_canonical_host="127.0.0.1",
    )
    process = services.worker(worker, 0).start()
    try:
        services.wait_until(services.worker_ready(worker, 0), 180, "worker as `worker`")
        services.wait_until(services.group_settled(worker, 1), 120, "worker group")
        report = _accepted_report()
        writer = ReportWriter(secure.as_user["intake"])
        try:
            asyncio.run(writer.write(report))
        finally:
            writer.close()
        # The Faust agents took it (the worker's table view knows its case) ...
        url = f"http://127.0.0.1:{worker.worker_web_port}/reports/{report.report_id}/"
        services.wait_until(lambda: httpx.get(url, timeout=5).status_code == 200, 90, "the report's case")
        # ... and the sink, a committing kafka-python consumer in the worker's group, wrote it to ClickHouse.
        engine = ServerEngine.from_settings(worker)
        try:
            query = f"SELECT count() FROM {worker.clickhouse_database}.reports WHERE report_id = '{report.report_id}'"
            services.wait_until(lambda: engine.execute(query)[0][0] >= 1, 90, "the report in ClickHouse")
        finally:
            engine.close()
    finally:
        process.stop()
    log = (worker.log_dir / "worker-0.log").read_text(errors="replace")
    assert "AuthorizationFailed" not in log and "AuthenticationFailed" not in log


def _accepted_report() -> AcceptedReport:
    return AcceptedReport.stamp(
        Report.model_validate(report_body()),
        reporter_id="wgy-xl-01",
        reporter_role=Role.GRID_WORKER,
        received_at=datetime.now(UTC),
    )


# --- ClickHouse: the dashboards' read-only user ----------------------------------------------------


def test_the_readonly_user_reads_gridflows_tables_and_changes_nothing(stack: Settings) -> None:
    database = stack.clickhouse_database
    probe = f"readonly_probe_{uuid.uuid4().hex[:8]}"
    other = f"t_other_{uuid.uuid4().hex[:8]}"
    engine = ServerEngine.from_settings(stack)
    apply(engine, database)
    engine.execute(f"CREATE TABLE {database}.{probe} (n UInt32) ENGINE = MergeTree ORDER BY n")
    engine.insert(f"{database}.{probe}", [{"n": 1}, {"n": 2}])
    engine.execute(f"CREATE DATABASE {other}")
    engine.execute(f"CREATE TABLE {other}.t (n UInt32) ENGINE = MergeTree ORDER BY n")
    readonly = Client.from_url(ClickHouseServer(stack).readonly_url)
    try:
        assert readonly.execute(f"SELECT sum(n) FROM {database}.{probe}") == [(3,)]
        assert readonly.execute(f"SELECT count() FROM {database}.cases FINAL")[0][0] >= 0
        readonly.execute("SET max_execution_time = 30")  # what Grafana's plugin does on every query
        refused = [
            (f"INSERT INTO {database}.{probe} (n) VALUES", [(9,)]),
            (f"CREATE TABLE {database}.x (n UInt32) ENGINE = Memory", None),
            (f"DROP TABLE {database}.{probe}", None),
            (f"TRUNCATE TABLE {database}.{probe}", None),
            (f"ALTER TABLE {database}.{probe} DELETE WHERE n = 1", None),
            (f"CREATE DATABASE {other}_2", None),
            ("SET readonly = 0", None),
            (f"SELECT count() FROM {database}.{probe} SETTINGS readonly = 0", None),
            (f"SELECT count() FROM {other}.t", None),  # another database
        ]
        for sql, rows in refused:
            with pytest.raises(ServerException) as failure:
                readonly.execute(sql, rows) if rows else readonly.execute(sql)
            assert failure.value.code in (164, 291), (sql, failure.value)  # READONLY, DATABASE_ACCESS_DENIED
        # A client that asks for write access when it connects is refused too.
        greedy = Client(
            "127.0.0.1", port=stack.clickhouse_port, user=READONLY_USER, database=database, settings={"readonly": 0}
        )
        try:
            with pytest.raises(ServerException):
                greedy.execute(f"INSERT INTO {database}.{probe} (n) VALUES", [(9,)])
        finally:
            greedy.disconnect()
        assert engine.execute(f"SELECT sum(n), count() FROM {database}.{probe}") == [(3, 2)]
        assert engine.execute(f"EXISTS TABLE {database}.{probe}") == [(1,)]
    finally:
        readonly.disconnect()
        engine.execute(f"DROP TABLE IF EXISTS {database}.{probe}")
        engine.execute(f"DROP DATABASE IF EXISTS {other}")
        engine.close()
