"""The local stack: config files, pid handling, and a real up → crash → up → down cycle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import free_port

from infra import stack
from infra.settings import Settings
from infra.stack import processes
from infra.stack.clickhouse import ClickHouseServer
from infra.stack.kafka import KafkaServer
from infra.stack.processes import StackError

REPO = Path(__file__).resolve().parents[3]
SHARED_CACHE = REPO / ".gridflow" / "cache"


def _settings(home: Path, **overrides) -> Settings:
    values = dict(
        home=home,
        cache_dir=str(SHARED_CACHE),
        kafka_port=free_port(2),
        clickhouse_port=free_port(),
        clickhouse_http_port=free_port(),
    )
    values.update(overrides)
    return Settings(**values)


# --- no servers -------------------------------------------------------------------


def test_cache_root_defaults_to_home_cache(tmp_path: Path) -> None:
    assert processes.cache_root(Settings(home=tmp_path)) == tmp_path / "cache"
    assert processes.cache_root(Settings(home=tmp_path, cache_dir="/x/y")) == Path("/x/y")
    kafka = KafkaServer(Settings(home=tmp_path, kafka_version="4.4.0"))
    assert kafka.libs_dir == tmp_path / "cache" / "kafka" / "4.4.0" / "libs"


def test_kafka_properties_follow_settings(tmp_path: Path) -> None:
    kafka = KafkaServer(Settings(home=tmp_path, kafka_port=23456, kafka_partitions=3))
    props = dict(
        line.split("=", 1) for line in kafka.server_properties().splitlines() if line and not line.startswith("#")
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:23456,CONTROLLER://127.0.0.1:23457"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:23457"
    assert props["process.roles"] == "broker,controller"
    assert props["num.partitions"] == "3"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["auto.create.topics.enable"] == "true"
    assert Path(props["log.dirs"]) == (tmp_path / "stack" / "kafka" / "data").resolve()
    assert kafka.log_path == tmp_path / "logs" / "kafka.log"


def test_clickhouse_config_follows_settings(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    ch = ClickHouseServer(Settings(home=tmp_path, clickhouse_port=23000, clickhouse_http_port=23123))
    root = ET.fromstring(ch.config_xml())
    assert root.tag == "yandex"
    assert root.findtext("tcp_port") == "23000"
    assert root.findtext("http_port") == "23123"
    assert root.findtext("listen_host") == "127.0.0.1"
    assert root.findtext("users_config") == str((tmp_path / "stack" / "clickhouse" / "users.xml").resolve())
    assert root.findtext("path").startswith(str((tmp_path / "stack" / "clickhouse").resolve()))
    assert root.findtext("logger/log") == str((tmp_path / "logs" / "clickhouse.log").resolve())
    assert root.findtext("logger/errorlog") == str((tmp_path / "logs" / "clickhouse.err.log").resolve())


def test_clickhouse_users_have_a_readonly_one(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    ch = ClickHouseServer(Settings(home=tmp_path, clickhouse_database="gf"))
    root = ET.fromstring(ch.users_xml())
    grafana = root.find("users/grafana")
    assert grafana is not None and root.find("users/default") is not None
    assert [d.text for d in grafana.findall("allow_databases/database")] == ["gf"]
    assert root.findtext(f"profiles/{grafana.findtext('profile')}/readonly") == "2"
    assert root.findtext(f"profiles/{grafana.findtext('profile')}/allow_ddl") == "0"
    assert ch.readonly_url.startswith("clickhouse://grafana@127.0.0.1:") and ch.readonly_url.endswith("/gf")


def test_kafka_scram_mode_properties(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, kafka_port=23456, kafka_stack_scram=True, kafka_security_protocol="SASL_PLAINTEXT",
        kafka_username="boss", kafka_password="boss-secret-0001",
    )  # fmt: skip
    kafka = KafkaServer(settings, scram_users={"intake": "intake-secret-1"})
    props = dict(
        line.split("=", 1) for line in kafka.server_properties().splitlines() if line and not line.startswith("#")
    )
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:23456,CONTROLLER://127.0.0.1:23457"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:23456"
    assert props["listener.security.protocol.map"] == "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:boss"
    assert 'username="boss" password="boss-secret-0001"' in props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert 'user_boss="boss-secret-0001"' in props["listener.name.controller.plain.sasl.jaas.config"]
    from infra.stack import kafka_security

    assert kafka_security.add_scram_args(settings, kafka.scram_users) == [
        "--add-scram", "SCRAM-SHA-512=[name=boss,password=boss-secret-0001]",
        "--add-scram", "SCRAM-SHA-512=[name=intake,password=intake-secret-1]",
    ]  # fmt: skip
    # The PLAINTEXT broker stays as it was.
    plain = KafkaServer(Settings(home=tmp_path, kafka_port=23456)).server_properties()
    assert "SASL" not in plain and "authorizer" not in plain


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"kafka_security_protocol": "PLAINTEXT"}, "GRIDFLOW_KAFKA_SECURITY_PROTOCOL"),
        ({"kafka_sasl_mechanism": "PLAIN"}, "GRIDFLOW_KAFKA_SASL_MECHANISM"),
        ({"kafka_username": ""}, "GRIDFLOW_KAFKA_USERNAME"),
        ({"kafka_password": 'with"quote'}, "GRIDFLOW_KAFKA_PASSWORD"),
        ({"kafka_password": "a,b"}, "GRIDFLOW_KAFKA_PASSWORD"),
    ],
)
def test_kafka_scram_mode_refuses_settings_it_cannot_serve(tmp_path: Path, changes: dict, named: str) -> None:
    base = {
        "home": tmp_path, "kafka_stack_scram": True, "kafka_security_protocol": "SASL_PLAINTEXT",
        "kafka_username": "admin", "kafka_password": "admin-secret-0001",
    }  # fmt: skip
    with pytest.raises(StackError, match=named):
        KafkaServer(Settings(**{**base, **changes})).start(progress=lambda _line: None)
    with pytest.raises(StackError, match="SCRAM user"):
        from infra.stack import kafka_security

        kafka_security.add_scram_args(Settings(**base), {"web hooks": "secret-secret-1"})


def test_a_plaintext_broker_refuses_sasl_client_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, kafka_security_protocol="SASL_PLAINTEXT", kafka_username="a", kafka_password="b")
    with pytest.raises(StackError, match="GRIDFLOW_KAFKA_STACK_SCRAM"):
        KafkaServer(settings).start(progress=lambda _line: None)


def test_a_port_a_client_connection_uses_is_busy() -> None:
    """The stack's fixed ports lie in the ephemeral range: a client's own end of a connection can hold one."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        listening = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", listening)) as client:
            own_end = client.getsockname()[1]
            assert processes.busy_ports([listening, own_end]) == [listening, own_end]
    assert processes.busy_ports([own_end]) == []  # the connection is gone (TIME_WAIT does not count)


def test_pid_file_of_dead_or_foreign_process_is_not_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    assert processes.running_pid(pid_file) is None  # no file
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    pid_file.write_text(f"{proc.pid}\n")
    assert processes.running_pid(pid_file) is None  # dead
    pid_file.write_text(f"{os.getpid()}\n")
    assert processes.running_pid(pid_file) == os.getpid()
    assert processes.running_pid(pid_file, marker="no-such-config-file.properties") is None  # pid reused


def test_spawned_child_killed_is_not_running_even_before_reaped(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    pid = processes.spawn(
        [sys.executable, "-c", "import time; time.sleep(60)", "marker-xyz"],
        log_path=tmp_path / "sleep.log",
        pid_file=pid_file,
        cwd=tmp_path,
    )
    # right after fork the child's command line is still the parent's: wait for the exec
    assert processes.wait_for(lambda: processes.running_pid(pid_file, "marker-xyz") == pid, 5.0)
    os.kill(pid, signal.SIGKILL)
    assert processes.wait_for(lambda: processes.running_pid(pid_file, "marker-xyz") is None, 5.0)
    assert processes.terminate(pid_file, "marker-xyz", 1.0) is False
    assert not pid_file.exists()


def test_status_without_servers(tmp_path: Path) -> None:
    info = stack.status(_settings(tmp_path))
    assert set(info) == {"kafka", "clickhouse"}
    for entry in info.values():
        assert entry["running"] is False and entry["healthy"] is False and entry["pid"] is None
    assert info["kafka"]["log"] == str(tmp_path / "logs" / "kafka.log")
    stack.down(_settings(tmp_path))  # nothing to stop: no error


# --- real servers ---------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_up_crash_up_down(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    lines: list[str] = []
    stack.up(settings, progress=lines.append)
    try:
        info = stack.status(settings)
        assert info["kafka"]["healthy"] and info["kafka"]["running"], info
        assert info["clickhouse"]["healthy"] and info["clickhouse"]["running"], info
        assert info["kafka"]["endpoint"] == f"127.0.0.1:{settings.kafka_port}"
        first_kafka_pid = info["kafka"]["pid"]

        # A second up is only a health check.
        t0 = time.monotonic()
        stack.up(settings, progress=lines.append)
        assert time.monotonic() - t0 < 5.0
        assert stack.status(settings)["kafka"]["pid"] == first_kafka_pid

        # Crash Kafka: status sees it, up brings it back within seconds.
        KafkaServer(settings).kill()
        info = stack.status(settings)
        assert not info["kafka"]["running"] and not info["kafka"]["healthy"]
        assert info["clickhouse"]["healthy"]
        t0 = time.monotonic()
        stack.up(settings, progress=lines.append)
        assert time.monotonic() - t0 < 30.0
        info = stack.status(settings)
        assert info["kafka"]["healthy"] and info["kafka"]["pid"] != first_kafka_pid

        _kafka_round_trip(settings.bootstrap)

        ch = ClickHouseServer(settings)
        ch.restart(progress=lines.append)
        assert stack.status(settings)["clickhouse"]["healthy"]
    finally:
        stack.down(settings)
    info = stack.status(settings)
    assert not info["kafka"]["running"] and not info["clickhouse"]["running"]
    assert not processes.port_open("127.0.0.1", settings.kafka_port)
    assert not processes.port_open("127.0.0.1", settings.clickhouse_port)
    stack.down(settings)  # idempotent


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_external_servers_are_only_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = _settings(tmp_path / "local")
    stack.up(local, progress=lambda _line: None)
    try:
        external = _settings(
            tmp_path / "ext",
            kafka_bootstrap=local.bootstrap,
            clickhouse_url=f"clickhouse://default@127.0.0.1:{local.clickhouse_port}/default",
        )
        stack.up(external, progress=lambda _line: None)
        info = stack.status(external)
        assert info["kafka"]["external"] and info["kafka"]["healthy"] and info["kafka"]["pid"] is None
        assert info["clickhouse"]["external"] and info["clickhouse"]["healthy"]
        assert not (tmp_path / "ext" / "stack").exists()  # nothing was started for it

        monkeypatch.setattr(stack, "EXTERNAL_CHECK_TIMEOUT_S", 1.0)
        dead = external.replace(kafka_bootstrap=f"127.0.0.1:{free_port()}")
        with pytest.raises(StackError, match="KAFKA_BOOTSTRAP"):
            stack.up(dead, progress=lambda _line: None)
    finally:
        stack.down(local)


def _kafka_round_trip(bootstrap: str) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    topic = f"stack-test-{time.time_ns()}"
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(topic, b"hello").get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=20000)
    try:
        first = next(iter(consumer), None)
        assert first is not None and first.value == b"hello"
    finally:
        consumer.close()


class _ShortLivedServer(processes.LocalServer):
    """A 'server' that prints a line and exits with code 3: the start-up failure path."""

    name = "Shortlived"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.pid_file = home / "short.pid"
        self.log_path = home / "short.log"
        self.starts = 0

    @property
    def _marker(self) -> str:
        return "short-lived-marker"

    def logs(self) -> list[Path]:
        return [self.log_path]

    def answers(self) -> bool:
        return False

    def start(self, progress=print) -> None:
        self.starts += 1
        processes.spawn(
            [sys.executable, "-c", "import sys; print('cannot bind'); sys.exit(3)", self._marker],
            log_path=self.log_path,
            pid_file=self.pid_file,
            cwd=self.home,
        )


def test_a_server_that_dies_during_start_is_tried_twice_and_the_error_says_how_it_ended(tmp_path: Path) -> None:
    server = _ShortLivedServer(tmp_path)
    shown: list[str] = []
    with pytest.raises(processes.ExitedDuringStart) as failure:
        server.start_and_wait(shown.append, timeout=10.0)
    assert server.starts == 2
    assert "exit code 3" in str(failure.value)
    assert "cannot bind" in str(failure.value)
    assert any("start attempt 1 failed" in line for line in shown)


def test_a_just_spawned_child_counts_as_running_at_once(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    for _ in range(20):  # the /proc cmdline window after exec is short: try it often
        pid = processes.spawn(
            [sys.executable, "-c", "import time; time.sleep(30)", "marker-now"],
            log_path=tmp_path / "sleep.log",
            pid_file=pid_file,
            cwd=tmp_path,
        )
        assert processes.running_pid(pid_file, "marker-now") == pid
        assert processes.terminate(pid_file, "marker-now", 5.0)
