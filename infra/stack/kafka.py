"""A local single-node Apache Kafka broker (KRaft), fetched with Maven.

The jars of ``org.apache.kafka:kafka_2.13:<settings.kafka_version>`` (plus a
log4j2 binding) are copied once into ``<cache>/kafka/<version>/libs``; the
broker runs as ``java -cp '<libs>/*' kafka.Kafka server.properties`` with the
configuration, the formatted data folder and the pid file under
``settings.stack_dir/"kafka"`` and its output in ``settings.log_dir/"kafka.log"``.
It listens on 127.0.0.1 only: clients on ``kafka_port``, the controller on
``kafka_port + 1``. PLAINTEXT without authentication, unless
``settings.kafka_stack_scram``: then SASL/SCRAM users and ACLs, as in
docker-compose (:mod:`infra.stack.kafka_security`).
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from infra.kafka import client_config
from infra.settings import Settings
from infra.stack import kafka_security, processes
from infra.stack.processes import Progress, StackError

log = logging.getLogger(__name__)

HEAP_OPTS = ("-Xms128m", "-Xmx512m")


def kafka_healthy(bootstrap: str, timeout: float = 5.0, config: Mapping[str, Any] | None = None) -> bool:
    """Whether a Kafka broker at ``bootstrap`` answers a metadata request.

    ``config``: the client's security (:func:`infra.kafka.client_config`); none means PLAINTEXT.
    """
    try:
        from kafka import KafkaAdminClient  # kafka-python
        from kafka.errors import KafkaConfigurationError, KafkaError
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise StackError("kafka-python is not installed") from exc
    ms = int(timeout * 1000)
    try:
        admin = KafkaAdminClient(
            **{**(config or {}), "bootstrap_servers": bootstrap},
            client_id="gridflow-stack-health",
            request_timeout_ms=ms,
            bootstrap_timeout_ms=ms,
        )
    except KafkaConfigurationError:
        raise
    except (KafkaError, OSError) as exc:
        log.debug("kafka %s not reachable: %s", bootstrap, exc)
        return False
    try:
        admin.list_topics()
        # A consumer group needs its coordinator (the offsets topic); a fresh
        # broker answers metadata before that, and a Faust worker started then
        # has been seen to wait forever for its group.
        admin.describe_groups(["gridflow-health"])
        return True
    except (KafkaError, OSError) as exc:
        log.debug("kafka %s not ready: %s", bootstrap, exc)
        return False
    finally:
        try:
            admin.close()
        except Exception:  # noqa: BLE001
            pass


class KafkaServer(processes.LocalServer):
    """The local Kafka broker: install (Maven), start, stop, kill, health."""

    name = "Kafka"
    stop_timeout_s = 30.0

    def __init__(self, settings: Settings, scram_users: Mapping[str, str] | None = None) -> None:
        """``scram_users`` (name → password): SCRAM users besides the super user, made when the data is formatted."""
        self.settings = settings
        self.scram = settings.kafka_stack_scram
        self.scram_users = dict(scram_users or {})
        self.version = settings.kafka_version
        self.port = settings.kafka_port
        self.controller_port = settings.kafka_port + 1
        # Absolute: Maven runs in this folder and is given paths inside it.
        self.cache_dir = (processes.cache_root(settings) / "kafka" / self.version).resolve()
        self.libs_dir = self.cache_dir / "libs"
        self.dir = settings.stack_dir / "kafka"
        self.data_dir = self.dir / "data"
        self.properties = self.dir / "server.properties"
        self.log4j_config = self.dir / "log4j2.properties"
        self.pid_file = self.dir / "kafka.pid"
        self.log_path = settings.log_dir / "kafka.log"
        # Which SCRAM users the data folder was formatted with (none: formatted for PLAINTEXT).
        self.scram_marker = self.dir / "scram-users"

    # --- install -------------------------------------------------------------
    @property
    def _complete_marker(self) -> Path:
        return self.cache_dir / ".complete"

    def installed(self) -> bool:
        """Whether the jars of this version are in the cache."""
        return self._complete_marker.exists() and (self.libs_dir / f"kafka_2.13-{self.version}.jar").exists()

    def install(self, progress: Progress = print) -> None:
        """Fetch the broker's jars with Maven unless they are cached already."""
        if self.installed():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError("Maven (mvn) is needed to fetch Kafka: apt-get install -y maven")
        _check_java()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        pom = self.cache_dir / "pom.xml"
        pom.write_text(resources.files(__package__).joinpath("kafka-pom.xml").read_text())
        staging = self.cache_dir / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        progress(f"kafka {self.version}: fetching jars with Maven into {self.libs_dir}")
        counter = {"files": 0}

        def show(line: str) -> str | None:
            m = re.search(r"Downloaded from \S+: \S+/([^/\s]+\.(jar|pom))", line)
            if m:
                counter["files"] += 1
                if counter["files"] % 20 == 0:
                    return f"kafka {self.version}: downloaded {counter['files']} files ({m.group(1)})"
            if "[ERROR]" in line:
                return line
            return None

        started = time.monotonic()
        processes.stream_command(
            [
                mvn,
                "-B",
                "-f",
                str(pom),
                f"-Dkafka.version={self.version}",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            progress=progress,
            filter_line=show,
            cwd=self.cache_dir,
            what=f"fetching Kafka {self.version} with Maven",
        )
        if not (staging / f"kafka_2.13-{self.version}.jar").exists():
            raise StackError(f"Maven finished but {staging} has no kafka_2.13-{self.version}.jar")
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        staging.rename(self.libs_dir)
        shutil.rmtree(self.cache_dir / "target", ignore_errors=True)
        self._complete_marker.write_text(f"{time.time()}\n")
        jars = len(list(self.libs_dir.glob("*.jar")))
        progress(f"kafka {self.version}: {jars} jars ready in {time.monotonic() - started:.0f} s")

    # --- configuration -------------------------------------------------------
    def server_properties(self) -> str:
        """The broker's ``server.properties`` text."""
        s = self.settings
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "log.dirs": str(self.data_dir.resolve()),
            "num.partitions": str(s.kafka_partitions),
            "default.replication.factor": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After a crash the controller keeps the old broker registration until
            # its session times out (default 9 s); a shorter one restarts faster.
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "1000",
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        if self.scram:
            lines.update(kafka_security.server_properties(s, self.port, self.controller_port))
        body = "\n".join(f"{k}={v}" for k, v in lines.items())
        return f"# Written by infra.stack.kafka; rewritten on every start.\n{body}\n"

    def _write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte: in SCRAM mode the file holds the super user's password.
        self.properties.unlink(missing_ok=True)
        fd = os.open(self.properties, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.server_properties())
        self.log4j_config.write_text(resources.files(__package__).joinpath("kafka-log4j2.properties").read_text())

    def _java(self, *args: str, heap: tuple[str, ...] = ()) -> list[str]:
        return [
            _java_bin(),
            *heap,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_config.resolve()}",
            "-cp",
            f"{self.libs_dir.resolve()}/*",
            *args,
        ]

    def _wanted_users(self) -> set[str]:
        return {self.settings.kafka_username, *self.scram_users} if self.scram else set()

    def _check_formatted_users(self) -> None:
        """SCRAM users exist only if the data was formatted with them: say so instead of refusing every login."""
        had = set(self.scram_marker.read_text().split()) if self.scram_marker.exists() else set()
        missing = self._wanted_users() - had
        if missing:
            raise StackError(
                f"kafka: {self.data_dir} was formatted without the SCRAM user(s) {', '.join(sorted(missing))} "
                f"(users are made at format time): remove {self.dir} or use another GRIDFLOW_HOME"
            )

    def _format(self, progress: Progress) -> None:
        if (self.data_dir / "meta.properties").exists():
            self._check_formatted_users()
            return
        # Kafka's own `random-uuid` never starts with "-" (the storage tool would read it as an option)
        cluster_id = "g" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")[1:]
        progress(f"kafka: formatting {self.data_dir} (cluster {cluster_id}{', SCRAM users' if self.scram else ''})")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        scram = kafka_security.add_scram_args(self.settings, self.scram_users) if self.scram else []
        cmd = self._java(
            "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.properties.resolve()), "--ignore-formatted",
            *scram,
        )  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        with open(self.log_path, "a") as out:
            out.write(res.stdout + res.stderr)
        if res.returncode != 0:
            raise StackError(f"formatting Kafka's data folder failed (exit {res.returncode}); see {self.log_path}")
        self.scram_marker.write_text("\n".join(sorted(self._wanted_users())) + "\n")

    # --- lifecycle -----------------------------------------------------------
    @property
    def _marker(self) -> str:
        return str(self.properties.resolve())

    def start(self, progress: Progress = print) -> None:
        """Install if needed, write the config, format once, start the broker (no wait)."""
        if self.is_running():
            return
        if self.scram:
            kafka_security.check_settings(self.settings)
        elif self.settings.kafka_security_protocol.strip().upper() != "PLAINTEXT":
            raise StackError(
                "the local broker speaks PLAINTEXT unless GRIDFLOW_KAFKA_STACK_SCRAM is set; "
                f"GRIDFLOW_KAFKA_SECURITY_PROTOCOL is {self.settings.kafka_security_protocol}"
            )
        self.install(progress)
        self._claim_ports(
            [self.port, self.controller_port], "set GRIDFLOW_KAFKA_PORT, or KAFKA_BOOTSTRAP to use that broker"
        )
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._format(progress)
        progress(f"kafka {self.version}: starting on {self.endpoint} (log {self.log_path})")
        cmd = self._java("kafka.Kafka", str(self.properties.resolve()), heap=HEAP_OPTS)
        processes.spawn(cmd, log_path=self.log_path, pid_file=self.pid_file, cwd=self.dir)

    def healthy(self, timeout: float = 5.0) -> bool:
        """Whether the broker answers a metadata request on its endpoint (as the settings' user, in SCRAM mode)."""
        return kafka_healthy(self.endpoint, timeout, client_config(self.settings) if self.scram else None)

    def logs(self) -> list[Path]:
        return [self.log_path]

    def answers(self) -> bool:
        return processes.port_open("127.0.0.1", self.port) and self.healthy(timeout=3.0)


def _java_bin() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("Java 17+ is needed for Kafka 4: apt-get install -y openjdk-17-jre-headless")
    return java


def _check_java() -> None:
    res = subprocess.run([_java_bin(), "-version"], capture_output=True, text=True, timeout=30)
    m = re.search(r'version "(\d+)', res.stderr + res.stdout)
    if m and int(m.group(1)) < 17:
        raise StackError(f"Kafka 4 needs Java 17 or newer; found {m.group(0)}")
