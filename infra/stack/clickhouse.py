"""A local ClickHouse server (Debian's ``clickhouse-server`` package, 18.16).

The project writes its own small config (root ``<yandex>``) to
``settings.stack_dir/"clickhouse"/"config.xml"``: native and HTTP ports from
the settings, 127.0.0.1 only, data under ``settings.stack_dir/"clickhouse"``,
logs in ``settings.log_dir`` (``clickhouse.log`` and ``clickhouse.err.log``;
the process's own stdout/stderr go to ``clickhouse.out.log``), and its own
``users.xml`` beside it: user ``default`` (no password, what gridflow writes
with) and user ``grafana``, read-only on gridflow's database — the
dashboards' user, as in docker-compose (``deploy/clickhouse-grafana-user.xml``).
18.16 has no SQL access management, so that user is made the way 18.16
knows: a ``readonly`` profile and ``allow_databases`` in ``users.xml``.
Running as root is fine with 18.16: the server creates its folders owned by
root and starts in well under a second.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen
from xml.sax.saxutils import escape

from infra.settings import Settings
from infra.stack import processes
from infra.stack.processes import Progress, StackError

log = logging.getLogger(__name__)

SERVER_BIN = Path("/usr/sbin/clickhouse-server")
#: the local server's read-only user (no password; 127.0.0.1 only, like ``default``)
READONLY_USER = "grafana"


def clickhouse_healthy(url: str, timeout: float = 5.0) -> bool:
    """Whether the ClickHouse server at native ``url`` answers ``SELECT 1``."""
    try:
        from clickhouse_driver import Client
        from clickhouse_driver.errors import Error as ClickHouseError
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise StackError("clickhouse-driver is not installed") from exc
    u = urlparse(url)
    client = Client(
        host=u.hostname or "127.0.0.1",
        port=u.port or 9000,
        user=u.username or "default",
        password=u.password or "",
        connect_timeout=timeout,
        send_receive_timeout=timeout,
        sync_request_timeout=timeout,
    )
    try:
        return client.execute("SELECT 1") == [(1,)]
    except (ClickHouseError, OSError, EOFError) as exc:
        log.debug("clickhouse %s not answering: %s", url, exc)
        return False
    finally:
        client.disconnect()


class ClickHouseServer(processes.LocalServer):
    """The local ClickHouse server: install (apt), start, stop, restart, kill, health."""

    name = "ClickHouse"
    stop_timeout_s = 20.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.clickhouse_port
        self.http_port = settings.clickhouse_http_port
        self.dir = settings.stack_dir / "clickhouse"
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "config.xml"
        self.users_path = self.dir / "users.xml"
        self.pid_file = self.dir / "clickhouse.pid"
        self.log_path = settings.log_dir / "clickhouse.log"
        self.err_log_path = settings.log_dir / "clickhouse.err.log"
        self.out_log_path = settings.log_dir / "clickhouse.out.log"

    # --- install -------------------------------------------------------------
    def installed(self) -> bool:
        """Whether the server binary is there."""
        return SERVER_BIN.exists()

    def install(self, progress: Progress = print) -> None:
        """``apt-get update`` and ``apt-get install`` the server and client unless installed."""
        if self.installed():
            return
        apt = shutil.which("apt-get")
        if apt is None:
            raise StackError(f"{SERVER_BIN} is missing and there is no apt-get to install clickhouse-server")
        env = {
            "DEBIAN_FRONTEND": "noninteractive",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C",
        }
        progress("clickhouse: apt-get update")
        processes.stream_command(
            [apt, "update"], progress=lambda line: progress(f"  {line}"), env=env, what="apt-get update"
        )
        progress("clickhouse: apt-get install -y clickhouse-server clickhouse-client")
        processes.stream_command(
            [apt, "install", "-y", "-o", "Dpkg::Use-Pty=0", "clickhouse-server", "clickhouse-client"],
            progress=lambda line: progress(f"  {line}"),
            env=env,
            what="apt-get install clickhouse-server",
        )
        if not self.installed():
            raise StackError(f"apt-get finished but {SERVER_BIN} is still missing")

    # --- configuration -------------------------------------------------------
    def config_xml(self) -> str:
        """The server's config file text."""

        def p(path: Path) -> str:
            return escape(str(path.resolve()))

        return f"""<?xml version="1.0"?>
<!-- Written by infra.stack.clickhouse; rewritten on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>{p(self.log_path)}</log>
        <errorlog>{p(self.err_log_path)}</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{self.port}</tcp_port>
    <http_port>{self.http_port}</http_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>{p(self.data_dir)}/</path>
    <tmp_path>{p(self.dir / "tmp")}/</tmp_path>
    <user_files_path>{p(self.dir / "user_files")}/</user_files_path>
    <format_schema_path>{p(self.dir / "format_schemas")}/</format_schema_path>
    <users_config>{p(self.users_path)}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
    <dictionaries_config>*_dictionary.xml</dictionaries_config>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
</yandex>
"""

    def users_xml(self) -> str:
        """The server's users file: ``default`` (read-write) and ``grafana`` (read-only, gridflow's database)."""
        database = escape(self.settings.clickhouse_database)
        return f"""<?xml version="1.0"?>
<!-- Written by infra.stack.clickhouse; rewritten on every start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <!-- 2: SELECT (and SHOW, DESCRIBE, EXISTS) only; settings may change, all but `readonly` itself, because
             Grafana's ClickHouse plugin sets max_execution_time on every query. No DDL either. -->
        <{READONLY_USER}_readonly>
            <readonly>2</readonly>
            <allow_ddl>0</allow_ddl>
            <max_memory_usage>2000000000</max_memory_usage>
        </{READONLY_USER}_readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <{READONLY_USER}>
            <password></password>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>{READONLY_USER}_readonly</profile>
            <quota>default</quota>
            <!-- gridflow's tables only (18.16 always lets a user read `system` too) -->
            <allow_databases><database>{database}</database></allow_databases>
        </{READONLY_USER}>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""

    def _write_config(self) -> None:
        for d in (self.dir, self.data_dir, self.dir / "tmp", self.dir / "user_files", self.dir / "format_schemas"):
            d.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        self.users_path.write_text(self.users_xml())
        self.config_path.write_text(self.config_xml())

    # --- lifecycle -----------------------------------------------------------
    @property
    def _marker(self) -> str:
        return str(self.config_path.resolve())

    @property
    def url(self) -> str:
        return f"clickhouse://default@127.0.0.1:{self.port}/default"

    @property
    def readonly_url(self) -> str:
        """The read-only user's URL (the dashboards' view of the data)."""
        return f"clickhouse://{READONLY_USER}@127.0.0.1:{self.port}/{self.settings.clickhouse_database}"

    def start(self, progress: Progress = print) -> None:
        """Install if needed, write the config and start the server (no wait)."""
        if self.is_running():
            return
        self.install(progress)
        self._claim_ports(
            [self.port, self.http_port],
            "set GRIDFLOW_CLICKHOUSE_PORT/GRIDFLOW_CLICKHOUSE_HTTP_PORT, or CLICKHOUSE_URL to use that server",
        )
        self._write_config()
        progress(f"clickhouse: starting on {self.endpoint} (log {self.log_path})")
        cmd = [str(SERVER_BIN), f"--config-file={self.config_path.resolve()}"]
        processes.spawn(cmd, log_path=self.out_log_path, pid_file=self.pid_file, cwd=self.dir)

    def healthy(self, timeout: float = 5.0) -> bool:
        """Whether the server answers ``SELECT 1`` on its native port."""
        return clickhouse_healthy(self.url, timeout)

    def _ping_http(self) -> bool:
        try:
            with urlopen(f"http://127.0.0.1:{self.http_port}/ping", timeout=2.0) as resp:
                return resp.status == 200
        except OSError:
            return False

    def logs(self) -> list[Path]:
        return [self.err_log_path, self.log_path, self.out_log_path]

    def answers(self) -> bool:
        # The HTTP ping first: the native driver logs a traceback per refused connection.
        return self._ping_http() and self.healthy(timeout=3.0)

    def restart(self, progress: Progress = print) -> None:
        """Stop, start and wait until healthy."""
        self.stop()
        self.start_and_wait(progress, 60.0)
