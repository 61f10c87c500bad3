"""The one settings object.

Every module receives a :class:`Settings`; only :meth:`Settings.from_env`
reads the environment. Each field names its environment variable in
``metadata["env"]`` and documents its default, so the README table, the
docker-compose check and ``gridflow settings`` all come from here.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


def _env(name: str, doc: str, default: Any, secret: bool = False) -> Any:
    # ``secret``: `gridflow settings` shows that it is set, never its value.
    return field(default=default, metadata={"env": name, "doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Typed, frozen configuration; build it with :meth:`from_env`."""

    # --- where things live -------------------------------------------------
    home: Path = _env("GRIDFLOW_HOME", "Folder for local state: stack data, logs, photos, caches.", Path(".gridflow"))
    cache_dir: str = _env(
        "GRIDFLOW_CACHE_DIR",
        "Folder for downloads kept across homes (Kafka jars). Empty: GRIDFLOW_HOME/cache.",
        "",
    )

    # --- Kafka ---------------------------------------------------------------
    kafka_bootstrap: str = _env(
        "KAFKA_BOOTSTRAP",
        "Kafka bootstrap servers. Empty: `gridflow stack up` starts a local broker and uses it.",
        "",
    )
    kafka_version: str = _env("GRIDFLOW_KAFKA_VERSION", "Apache Kafka release fetched from Maven Central.", "4.4.0")
    kafka_port: int = _env("GRIDFLOW_KAFKA_PORT", "Port of the local Kafka broker (the controller uses port+1).", 19092)
    kafka_partitions: int = _env("GRIDFLOW_KAFKA_PARTITIONS", "Partitions of each gridflow topic.", 4)
    kafka_replication: int = _env("GRIDFLOW_KAFKA_REPLICATION", "Replication factor of gridflow topics.", 1)
    topic_prefix: str = _env("GRIDFLOW_TOPIC_PREFIX", "Prefix of every topic name (tests use a unique one).", "gridflow")
    kafka_security_protocol: str = _env(
        "GRIDFLOW_KAFKA_SECURITY_PROTOCOL",
        "How every client reaches Kafka: PLAINTEXT, SASL_PLAINTEXT or SASL_SSL (SASL: GRIDFLOW_KAFKA_USERNAME and "
        "GRIDFLOW_KAFKA_PASSWORD, the principal the broker's ACLs name).",
        "PLAINTEXT",
    )
    kafka_sasl_mechanism: str = _env(
        "GRIDFLOW_KAFKA_SASL_MECHANISM", "SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 (or PLAIN, over SASL_SSL only).", "SCRAM-SHA-512"
    )
    kafka_username: str = _env("GRIDFLOW_KAFKA_USERNAME", "SASL user name of this service (intake, worker, admin).", "")
    kafka_password: str = _env("GRIDFLOW_KAFKA_PASSWORD", "SASL password of GRIDFLOW_KAFKA_USERNAME.", "", secret=True)
    kafka_ssl_cafile: str = _env(
        "GRIDFLOW_KAFKA_SSL_CAFILE", "PEM CA bundle that signed the broker's certificate (SASL_SSL). Empty: the system's.", ""
    )
    kafka_stack_scram: bool = _env(
        "GRIDFLOW_KAFKA_STACK_SCRAM",
        "The local broker (gridflow stack up) authenticates with SASL/SCRAM and enforces ACLs, with "
        "GRIDFLOW_KAFKA_USERNAME as its super user (set GRIDFLOW_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT). "
        "Off: PLAINTEXT on 127.0.0.1, no ACLs.",
        False,
    )

    # --- ClickHouse ------------------------------------------------------------
    clickhouse_url: str = _env(
        "CLICKHOUSE_URL",
        "ClickHouse server as a native URL (clickhouse://user:pass@host:9000); the database is GRIDFLOW_CLICKHOUSE_DATABASE. Empty: a local server is started.",
        "",
    )
    clickhouse_port: int = _env("GRIDFLOW_CLICKHOUSE_PORT", "Native port of the local ClickHouse server.", 19000)
    clickhouse_http_port: int = _env("GRIDFLOW_CLICKHOUSE_HTTP_PORT", "HTTP port of the local ClickHouse server.", 18123)
    clickhouse_database: str = _env("GRIDFLOW_CLICKHOUSE_DATABASE", "Database for gridflow's tables.", "gridflow")

    # --- intake (HTTP API) -----------------------------------------------------
    intake_host: str = _env("GRIDFLOW_INTAKE_HOST", "Address the intake listens on.", "127.0.0.1")
    intake_port: int = _env("GRIDFLOW_INTAKE_PORT", "Port the intake listens on.", 8080)
    intake_tls_cert: str = _env(
        "GRIDFLOW_INTAKE_TLS_CERT",
        "PEM certificate (chain) file: the intake then serves HTTPS, which phones need for geolocation and "
        "offline storage. Empty: plain HTTP (behind a TLS proxy, or on 127.0.0.1).",
        "",
    )
    intake_tls_key: str = _env("GRIDFLOW_INTAKE_TLS_KEY", "PEM private key of GRIDFLOW_INTAKE_TLS_CERT.", "")
    intake_keep_alive_s: float = _env(
        "GRIDFLOW_INTAKE_KEEP_ALIVE_S",
        "Seconds the intake keeps an idle HTTP connection open. Longer than any Retry-After it sends and than the "
        "proxy's own idle time (Caddy: 30 s), so a client or proxy never reuses a connection the intake is closing.",
        65.0,
    )
    intake_produce_timeout_s: float = _env(
        "GRIDFLOW_INTAKE_PRODUCE_TIMEOUT", "Seconds to wait for Kafka's ack before answering 503.", 5.0
    )
    session_hours: float = _env(
        "GRIDFLOW_SESSION_HOURS", "Hours a sign-in (the pages' password login) stays valid.", 12.0
    )
    session_audit_days: float = _env(
        "GRIDFLOW_SESSION_AUDIT_DAYS",
        "Days an ended sign-in (signed out, revoked, expired) stays on the accounts topic for the audit; the "
        "user's next sign-in then tombstones it. 0: tombstoned at sign-out.",
        30.0,
    )
    signin_max_failures: int = _env(
        "GRIDFLOW_SIGNIN_MAX_FAILURES",
        "Failed sign-ins of one account id within GRIDFLOW_SIGNIN_WINDOW_S after which it gets 429 (known or not).",
        10,
    )
    signin_window_s: float = _env(
        "GRIDFLOW_SIGNIN_WINDOW_S", "Seconds over which failed sign-ins of one id are counted.", 900.0
    )
    signin_tracked_ids: int = _env(
        "GRIDFLOW_SIGNIN_TRACKED_IDS",
        "Most account ids whose failed sign-ins the intake remembers (beyond: the least recent is forgotten).",
        10000,
    )
    signin_hash_threads: int = _env(
        "GRIDFLOW_SIGNIN_HASH_THREADS", "Threads that check sign-in passwords (scrypt, ~0.4 s and 128 MiB each).", 2
    )
    signin_hash_queue: int = _env(
        "GRIDFLOW_SIGNIN_HASH_QUEUE",
        "Sign-ins that may wait for a password-checking thread; beyond that a sign-in gets 503 with Retry-After.",
        16,
    )
    token_secret: str = _env(
        "GRIDFLOW_TOKEN_SECRET",
        "Key that signs new tokens (HMAC), so a forged token is refused at once instead of waiting for the "
        "accounts topic; the same on every intake, worker and admin machine. Empty: tokens are unsigned.",
        "",
        secret=True,
    )
    token_wait_s: float = _env(
        "GRIDFLOW_TOKEN_WAIT_S",
        "Seconds a token that may be new (well-shaped, signed if a secret is set) waits for the accounts topic.",
        2.0,
    )
    photo_max_bytes: int = _env(
        "GRIDFLOW_PHOTO_MAX_BYTES", "Largest photo the intake stores (413 above it).", 8 * 1024 * 1024
    )
    intake_body_max_bytes: int = _env(
        "GRIDFLOW_INTAKE_BODY_MAX_BYTES",
        "Largest JSON or form body the intake reads: 413 above it, before reading (photos: GRIDFLOW_PHOTO_MAX_BYTES).",
        1024 * 1024,
    )
    token_ttl_days: float = _env(
        "GRIDFLOW_TOKEN_TTL_DAYS", "Days a new token is valid (gridflow users add); 0: it never expires.", 180.0
    )
    intake_action_wait_s: float = _env(
        "GRIDFLOW_INTAKE_ACTION_WAIT_S",
        "Seconds an action request waits for the case agent's verdict before answering 202 pending.",
        5.0,
    )
    live_streams_per_account: int = _env(
        "GRIDFLOW_LIVE_STREAMS_PER_ACCOUNT", "Live alert streams one account may hold open at once (429 above).", 3
    )
    live_streams_max: int = _env(
        "GRIDFLOW_LIVE_STREAMS_MAX", "Live alert streams one intake holds open at once, all accounts (429 above).", 200
    )
    live_queue_alerts: int = _env(
        "GRIDFLOW_LIVE_QUEUE_ALERTS",
        "Alerts waiting for one live stream whose client reads too slowly; one more and the stream is closed "
        "(its final event says so; the page reconnects and replays). Keep it above 64 (alerts fanned out at once).",
        100,
    )
    live_send_timeout_s: float = _env(
        "GRIDFLOW_LIVE_SEND_TIMEOUT_S",
        "Seconds a live stream may wait for its client to take one write before the connection is dropped.",
        30.0,
    )
    intake_index_hours: float = _env(
        "GRIDFLOW_INTAKE_INDEX_HOURS",
        "Hours of the reports topic the intake keeps in memory to answer repeats and GETs before processing.",
        48.0,
    )
    intake_index_max: int = _env(
        "GRIDFLOW_INTAKE_INDEX_MAX",
        "Most reports the intake keeps in memory; past it the oldest already made cases are forgotten first.",
        500_000,
    )
    redrive_after_s: float = _env(
        "GRIDFLOW_REDRIVE_AFTER",
        "Seconds after which an accepted report without a case is sent through the processors again.",
        30.0,
    )
    redrive_interval_s: float = _env("GRIDFLOW_REDRIVE_INTERVAL", "Seconds between checks for stalled reports.", 10.0)
    worker_urls: str = _env(
        "GRIDFLOW_WORKER_URLS",
        "Comma-separated web URLs of Faust workers the intake reads case state from.",
        "http://127.0.0.1:6066",
    )

    # --- Faust workers ----------------------------------------------------------
    worker_web_host: str = _env("GRIDFLOW_WORKER_WEB_HOST", "Address a worker's web server binds.", "127.0.0.1")
    worker_web_port: int = _env("GRIDFLOW_WORKER_WEB_PORT", "Port of a worker's web server (table views).", 6066)
    worker_canonical_host: str = _env(
        "GRIDFLOW_WORKER_CANONICAL_HOST",
        "Host name other workers use to reach this one. Empty: the machine's host name.",
        "",
    )
    worker_id: str = _env("GRIDFLOW_WORKER_ID", "Faust application id (consumer group).", "gridflow")
    worker_session_timeout_s: float = _env(
        "GRIDFLOW_WORKER_SESSION_TIMEOUT",
        "Seconds before Kafka gives a silent worker's partitions to the others.",
        10.0,
    )
    classifier_min_confidence: float = _env(
        "GRIDFLOW_CLASSIFIER_MIN_CONFIDENCE",
        "Below this classifier confidence a case goes to manual triage at the command centre (ZZZX).",
        0.45,  # classifier.DEFAULT_MIN_CONFIDENCE, chosen by cross-validation (a test keeps them equal)
    )
    escalation_interval_s: float = _env(
        "GRIDFLOW_ESCALATION_INTERVAL_S", "How often each worker looks for SLA deadlines that have passed (督办).", 10.0
    )
    clock_offset_s: float = _env(
        "GRIDFLOW_CLOCK_OFFSET_S",
        "Seconds added to the processors' clock. 0 in production; drills and tests set it to jump past deadlines.",
        0.0,
    )
    webhooks_file: str = _env(
        "GRIDFLOW_WEBHOOKS_FILE",
        "YAML file of department webhooks (department → url, secret); empty: none. Keep it readable by gridflow only.",
        "",
    )
    routing_dir: str = _env(
        "GRIDFLOW_ROUTING_DIR",
        "Folder with the district's own taxonomy.yaml, sla.yaml, rules.yaml and calendar.yaml; a file missing "
        "there is taken from the shipped set. Empty: the shipped files (routing/data).",
        "",
    )
    networks_dir: str = _env(
        "GRIDFLOW_NETWORKS_DIR",
        "Folder with the district's own mapping tables of the source networks (<network>.yaml: grid and category "
        "codes → unified ones); a file missing there is taken from the shipped set (producers/networks/data).",
        "",
    )

    # --- ClickHouse sink ----------------------------------------------------------
    sink_batch_rows: int = _env("GRIDFLOW_SINK_BATCH_ROWS", "Most rows in one ClickHouse insert.", 5000)
    sink_batch_seconds: float = _env("GRIDFLOW_SINK_BATCH_SECONDS", "Longest wait before a partial batch is written.", 1.0)
    sink_backoff_max_s: float = _env("GRIDFLOW_SINK_BACKOFF_MAX", "Longest pause between insert retries.", 10.0)
    sink_row_tries: int = _env(
        "GRIDFLOW_SINK_ROW_TRIES",
        "Inserts of one row alone, with ClickHouse answering, before the row is dead-lettered.",
        3,
    )
    table_store: str = _env(
        "GRIDFLOW_TABLE_STORE",
        "Where a worker keeps its tables: rocksdb:// (on disk under GRIDFLOW_HOME, so a restart reads only the "
        "changelog written since) or memory:// (replayed whole at every start).",
        "rocksdb://",
    )
    table_cache_mb: float = _env(
        "GRIDFLOW_TABLE_CACHE_MB",
        "RocksDB block cache of each table partition, MiB (Faust's default, 2 GiB each, is for one big table).",
        8.0,
    )
    table_write_buffer_mb: float = _env(
        "GRIDFLOW_TABLE_WRITE_BUFFER_MB", "RocksDB memtable of each table partition, MiB (two of them at most).", 4.0
    )
    kafka_backoff_max_s: float = _env(
        "GRIDFLOW_KAFKA_BACKOFF_MAX", "Longest pause of an agent or consumer retrying while Kafka is unreachable.", 10.0
    )

    # --- Grafana of a district (gridflow dashboards push) --------------------------
    grafana_url: str = _env(
        "GRIDFLOW_GRAFANA_URL",
        "An existing Grafana that `gridflow dashboards push` installs the dashboards into (never the "
        "docker-compose one, which provisions them). Empty: push needs --url.",
        "",
    )
    grafana_token: str = _env(
        "GRIDFLOW_GRAFANA_TOKEN",
        "Service account token for GRIDFLOW_GRAFANA_URL, Admin role (creating a datasource needs it). "
        "Empty: --token, or user:password in the URL.",
        "",
        secret=True,
    )

    # --- logging --------------------------------------------------------------------
    log_level: str = _env("GRIDFLOW_LOG_LEVEL", "Python log level.", "INFO")

    # --- a child of the demo or a test ----------------------------------------------
    lifeline_fd: int = _env(
        "GRIDFLOW_LIFELINE_FD",
        "Set by the process that starts an intake or worker (gridflow demo, the tests), never by hand: an "
        "inherited pipe whose end of file means that process has died, and this one then stops. -1: none.",
        -1,
    )

    # ------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from ``environ`` (default: the process environment)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.type, raw)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def env_names(cls) -> set[str]:
        """Every environment variable the settings read."""
        return {f.metadata["env"] for f in dataclasses.fields(cls)}

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for a child process (the inverse of from_env)."""
        return {f.metadata["env"]: str(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    # --- derived values --------------------------------------------------------------
    @property
    def stack_dir(self) -> Path:
        return self.home / "stack"

    @property
    def intake_url(self) -> str:
        """Where the intake answers: https when it has a certificate."""
        scheme = "https" if self.intake_tls_cert else "http"
        return f"{scheme}://{self.intake_host}:{self.intake_port}"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def cache_path(self) -> Path:
        """Downloads and trained models kept across homes: ``cache_dir``, else ``home/cache``."""
        return Path(self.cache_dir) if self.cache_dir else self.home / "cache"

    @property
    def photo_dir(self) -> Path:
        return self.home / "photos"

    @property
    def uses_local_kafka(self) -> bool:
        return not self.kafka_bootstrap

    @property
    def uses_local_clickhouse(self) -> bool:
        return not self.clickhouse_url

    @property
    def bootstrap(self) -> str:
        """The Kafka bootstrap to connect to (the local broker when none is set)."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def clickhouse(self) -> str:
        """The ClickHouse URL to connect to (the local server when none is set)."""
        return self.clickhouse_url or f"clickhouse://default@127.0.0.1:{self.clickhouse_port}/{self.clickhouse_database}"

    @property
    def worker_url_list(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.worker_urls.split(",") if u.strip()]

    @property
    def canonical_host(self) -> str:
        return self.worker_canonical_host or socket.gethostname()

    def topic(self, name: str) -> str:
        """Full topic name for a logical topic name."""
        return f"{self.topic_prefix}.{name}"


def _coerce(type_name: Any, raw: str) -> Any:
    kind = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", str(type_name))
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "Path":
        return Path(raw)
    return raw
