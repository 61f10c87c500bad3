"""docker-compose.yml, the Dockerfile and Grafana's provisioning agree.

No Docker engine runs where the tests run, so the stack is checked as data:
the compose file, the Dockerfile and the provisioning files are parsed and
cross-checked against each other and against :class:`infra.settings.Settings`.

Each check is a function that raises ``AssertionError``; ``test_*_holds``
runs it on the real files and ``test_check_catches`` runs it on a copy broken
on purpose, so none of the checks can pass whatever the files say.

Files the services mount from the checkout (the Caddyfile, the Kafka start and
ACL scripts, the ACL table, ClickHouse's user for Grafana) are part of the
stack and checked with it. Secrets have no defaults in the compose file, so the
file is read as ``docker compose`` would read it with ``TEST_ENV`` set.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

try:
    from infra.settings import Settings
except ImportError:  # running from a checkout that is not installed
    sys.path.insert(0, str(ROOT))
    from infra.settings import Settings
from infra.kafka_acls import parse_acl_table
from infra.stack import kafka_security
from schemas.topics import ACCOUNTS, ALERTS_PREFIX, ALL, REPORTS

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DATASOURCES_DIR = ROOT / "dashboards" / "provisioning" / "datasources"
DASHBOARD_PROVIDERS_DIR = ROOT / "dashboards" / "provisioning" / "dashboards"
DATASOURCE_UID = "gridflow-clickhouse"
CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource"
GRIDFLOW_SERVICES = {"intake", "worker", "migrate"}
VERSION = re.compile(r"\d+\.\d+")
#: what an operator's .env holds: every secret, each a different value (so a mix-up shows)
TEST_ENV = {
    "CLICKHOUSE_PASSWORD": "test-clickhouse-sink-0001",
    "CLICKHOUSE_GRAFANA_PASSWORD": "test-clickhouse-grafana-0002",
    "GRAFANA_ADMIN_PASSWORD": "test-grafana-admin-0003",
    "KAFKA_ADMIN_PASSWORD": "test-kafka-admin-0004",
    "KAFKA_INTAKE_PASSWORD": "test-kafka-intake-0005",
    "KAFKA_WORKER_PASSWORD": "test-kafka-worker-0006",
    "GRIDFLOW_TOKEN_SECRET": "test-token-secret-0007",
}
#: a variable or setting whose value is a secret
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE_KEY", re.IGNORECASE)
GRAFANA_SUB_PATH = "/grafana/"


# --- loading ------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    compose: dict[str, Any]
    dockerfile: str
    datasources: list[dict[str, Any]]
    dashboard_providers: list[dict[str, Any]]
    #: the compose file as written (before YAML and interpolation)
    compose_text: str = ""
    #: every file a service mounts from the checkout, by its path there ("deploy/Caddyfile")
    files: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.compose["services"]


def _load_yaml_dir(folder: Path, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get(key) or [])
    return items


def load_stack() -> Stack:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    files: dict[str, str] = {}
    for svc in compose["services"].values():
        for source, _target, _ro in mounts(svc):
            path = ROOT / source if source and source.startswith(".") else None
            if path is not None and path.is_file():
                files[_repo_path(source)] = path.read_text(encoding="utf-8")
    return Stack(
        compose=compose,
        dockerfile=DOCKERFILE.read_text(encoding="utf-8"),
        datasources=_load_yaml_dir(DATASOURCES_DIR, "datasources"),
        dashboard_providers=_load_yaml_dir(DASHBOARD_PROVIDERS_DIR, "providers"),
        compose_text=text,
        files=files,
    )


def _repo_path(source: str) -> str:
    return source.removeprefix("./").rstrip("/")


@pytest.fixture(scope="module")
def compose() -> Stack:
    return load_stack()


# --- helpers ------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: dict[str, str] | None = None) -> str:
    """Compose's variable interpolation with the variables of ``env`` (``TEST_ENV``) set: defaults apply to the rest."""
    env = TEST_ENV if env is None else env

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            raise AssertionError(f"${{{name}}} must be set: {argument}")
        return ""

    return _INTERPOLATION.sub(replace, str(value))


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: interpolate(value) for key, value in pairs}
    return {key: interpolate("" if value is None else value) for key, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def settings_default(env_name: str) -> str:
    for f in dataclasses.fields(Settings):
        if f.metadata["env"] == env_name:
            return str(f.default)
    raise KeyError(env_name)


def setting(service: dict[str, Any], env_name: str) -> str:
    """The value a gridflow service gets for a setting: its env, else the default."""
    return environment(service).get(env_name) or settings_default(env_name)


def container_ports(service: dict[str, Any]) -> list[int]:
    ports: list[int] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append(int(str(entry["target"]).split("/")[0]))
        else:
            ports.append(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def mounts(service: dict[str, Any]) -> list[tuple[str | None, str, bool]]:
    """(source or None for an anonymous volume, target, read-only) per volume."""
    result: list[tuple[str | None, str, bool]] = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            result.append((entry.get("source"), entry["target"], bool(entry.get("read_only"))))
            continue
        parts = str(entry).split(":")
        if len(parts) == 1:
            result.append((None, parts[0], False))
        else:
            options = parts[2].split(",") if len(parts) > 2 else []
            result.append((parts[0], parts[1], "ro" in options))
    return result


def tmpfs_targets(service: dict[str, Any]) -> list[str]:
    entries = service.get("tmpfs") or []
    entries = [entries] if isinstance(entries, str) else entries
    targets = [str(entry).split(":")[0] for entry in entries]
    targets += [m["target"] for m in service.get("volumes") or [] if isinstance(m, dict) and m.get("type") == "tmpfs"]
    return targets


def built_services(stack: Stack) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in stack.services.items() if "build" in svc}


def the_service(stack: Stack, predicate: Callable[[dict[str, Any]], bool], what: str) -> tuple[str, dict[str, Any]]:
    found = [(name, svc) for name, svc in stack.services.items() if predicate(svc)]
    assert len(found) == 1, f"expected exactly one {what} service, found {[name for name, _ in found]}"
    return found[0]


def kafka_service(stack: Stack) -> tuple[str, dict[str, Any]]:
    """The broker: the apache/kafka service that keeps data (the ACL service runs the same image)."""
    return the_service(
        stack,
        lambda s: str(s.get("image", "")).startswith("apache/kafka:")
        and any(target.rstrip("/") == "/var/lib/kafka/data" for _, target, _ in mounts(s)),
        "apache/kafka broker",
    )


def clickhouse_service(stack: Stack) -> tuple[str, dict[str, Any]]:
    return the_service(
        stack, lambda s: str(s.get("image", "")).startswith("clickhouse/clickhouse-server:"), "ClickHouse server"
    )


def grafana_service(stack: Stack) -> tuple[str, dict[str, Any]]:
    return the_service(stack, lambda s: str(s.get("image", "")).startswith("grafana/grafana:"), "Grafana")


def gridflow_service(stack: Stack, subcommand: str) -> tuple[str, dict[str, Any]]:
    return the_service(
        stack, lambda s: "build" in s and command(s)[:1] == [subcommand], f"`gridflow {subcommand}`"
    )


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """KAFKA_LISTENERS-style 'NAME://host:port,...' -> {NAME: (host, port)}."""
    result: dict[str, tuple[str, int]] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, address = item.split("://", 1)
        host, port = address.rsplit(":", 1)
        result[name] = (host, int(port))
    return result


def the_datasource(stack: Stack) -> dict[str, Any]:
    found = [ds for ds in stack.datasources if ds.get("uid") == DATASOURCE_UID]
    assert len(found) == 1, f"expected one provisioned datasource with uid {DATASOURCE_UID!r}, found {len(found)}"
    return found[0]


def is_pinned(image: str) -> bool:
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if digest.startswith("sha256:"):
        return True
    return bool(tag) and tag != "latest" and "latest" not in tag.split("-") and bool(VERSION.search(tag))


def raw_environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as written, before interpolation."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def mounted_file(stack: Stack, service: dict[str, Any], target: str) -> tuple[str, str]:
    """(path in the checkout, text) of the file ``service`` mounts at ``target``."""
    for source, mount_target, _ro in mounts(service):
        if mount_target == target and source and _repo_path(source) in stack.files:
            return _repo_path(source), stack.files[_repo_path(source)]
    raise AssertionError(f"nothing from the checkout is mounted at {target}")


def entrypoint_script(stack: Stack, service: dict[str, Any]) -> tuple[str, str]:
    """The checkout's script a service runs as its entrypoint (``bash /etc/.../x.sh``)."""
    entry = service.get("entrypoint") or []
    entry = entry.split() if isinstance(entry, str) else [str(part) for part in entry]
    scripts = [part for part in entry if part.endswith(".sh")]
    assert scripts, f"entrypoint {entry} runs no script"
    return mounted_file(stack, service, scripts[0])


_HEREDOC = r'{name}"?\s*<<\s*[\'"]?EOF[\'"]?\n(.*?)\nEOF\n'


def script_properties(script: str, file_name: str, env: dict[str, str]) -> dict[str, str]:
    """The ``key=value`` lines a script writes into ``file_name`` with ``cat > ... <<EOF``, ``${VAR}`` from ``env``."""
    found = re.search(_HEREDOC.format(name=re.escape(file_name)), script, re.DOTALL)
    assert found, f"the script writes no {file_name} (cat > …{file_name} <<EOF)"
    text = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), found.group(1))
    return dict(line.split("=", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def kafka_broker(stack: Stack) -> tuple[str, dict[str, Any], str, dict[str, str]]:
    """The Kafka service: (name, service, its start script's text, the broker's server.properties)."""
    name, kafka = kafka_service(stack)
    _, script = entrypoint_script(stack, kafka)
    return name, kafka, script, script_properties(script, "server.properties", environment(kafka))


def scram_users(script: str, env: dict[str, str]) -> dict[str, str]:
    """user → password of the ``--add-scram`` arguments in the broker's start script."""
    users: dict[str, str] = {}
    for match in re.finditer(r"--add-scram\s+\"SCRAM-SHA-512=\[name=([\w.-]+),password=\$\{(\w+)\}\]\"", script):
        users[match.group(1)] = env.get(match.group(2), "")
    return users


def acl_service(stack: Stack) -> tuple[str, dict[str, Any], str]:
    """The one-shot service that applies the ACL table: (name, service, the table's path in the checkout)."""
    found = []
    for name, svc in stack.services.items():
        try:
            path, _ = mounted_file(stack, svc, "/etc/gridflow/kafka-acls.txt")
        except AssertionError:
            continue
        found.append((name, svc, path))
    assert len(found) == 1, f"expected one service mounting the ACL table, found {[f[0] for f in found]}"
    return found[0]


def acl_rules(stack: Stack) -> list[Any]:
    """The ACL table's rules with the names the ACL service fills in."""
    _, svc, path = acl_service(stack)
    env = environment(svc)
    return parse_acl_table(stack.files[path], path, env.get("GRIDFLOW_TOPIC_PREFIX", ""), env.get("GRIDFLOW_WORKER_ID", ""))


def allowed(rules: list[Any], principal: str, operation: str, topic: str) -> bool:
    """Whether ``principal`` may do ``operation`` on ``topic`` under ``rules`` (Read and Write imply Describe)."""
    implied = {"Describe": {"Describe", "Read", "Write", "All"}}.get(operation, {operation, "All"})
    for rule in rules:
        if rule.principal != principal or rule.resource != "topic" or not implied & set(rule.operations):
            continue
        if topic == rule.name if rule.pattern == "literal" else topic.startswith(rule.name):
            return True
    return False


def clickhouse_users(stack: Stack) -> dict[str, tuple[ET.Element, ET.Element | None]]:
    """Users the ClickHouse service gets from files mounted into users.d: name → (<user>, its <profile> or None)."""
    _, clickhouse = clickhouse_service(stack)
    users: dict[str, tuple[ET.Element, ET.Element | None]] = {}
    for source, target, _ro in mounts(clickhouse):
        if source and target.startswith("/etc/clickhouse-server/users.d/") and _repo_path(source) in stack.files:
            root = ET.fromstring(stack.files[_repo_path(source)])
            users_node = root.find("users")
            for user in list(users_node) if users_node is not None else []:
                users[user.tag] = (user, root.find(f"profiles/{user.findtext('profile', 'default')}"))
    return users


# --- checks -------------------------------------------------------------------


def check_images_pinned(stack: Stack) -> None:
    for name, svc in stack.services.items():
        if "build" in svc:
            continue  # built here; its base image is checked in the Dockerfile
        image = svc.get("image")
        assert image, f"service {name} has neither image nor build"
        assert is_pinned(image), f"service {name}: image {image!r} is not pinned to a release"
    bases = re.findall(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", stack.dockerfile, re.MULTILINE | re.IGNORECASE)
    stages = set(re.findall(r"^\s*FROM\s+\S+.*\s+AS\s+(\S+)", stack.dockerfile, re.MULTILINE | re.IGNORECASE))
    assert bases, "the Dockerfile has no FROM"
    for base in bases:
        if base in stages:
            continue
        assert is_pinned(base), f"Dockerfile base image {base!r} is not pinned to a release"


def check_grafana_plugin_pinned(stack: Stack) -> None:
    name, grafana = grafana_service(stack)
    plugins = environment(grafana).get("GF_PLUGINS_PREINSTALL_SYNC", "")
    entries = {entry.split("@")[0].strip(): entry.strip() for entry in plugins.split(",") if entry.strip()}
    assert CLICKHOUSE_PLUGIN in entries, f"{name} does not preinstall {CLICKHOUSE_PLUGIN} (GF_PLUGINS_PREINSTALL_SYNC)"
    parts = entries[CLICKHOUSE_PLUGIN].split("@")
    assert len(parts) >= 2 and re.fullmatch(r"\d+\.\d+\.\d+", parts[1]), (
        f"{CLICKHOUSE_PLUGIN} is not pinned to a version: {entries[CLICKHOUSE_PLUGIN]!r}"
    )


def check_gridflow_services_built(stack: Stack) -> None:
    built = built_services(stack)
    assert GRIDFLOW_SERVICES <= set(built), f"not built from the Dockerfile: {sorted(GRIDFLOW_SERVICES - set(built))}"
    for name, svc in built.items():
        build = svc["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve(), f"{name} is not built from ./Dockerfile"
    for name in GRIDFLOW_SERVICES:
        assert command(stack.services[name])[:1] == [name], f"service {name} does not run `gridflow {name}`"


def check_gridflow_env_known(stack: Stack) -> None:
    known = Settings.env_names()
    for name, svc in built_services(stack).items():
        unknown = set(environment(svc)) - known
        assert not unknown, f"service {name} sets variables gridflow does not read: {sorted(unknown)}"
    dockerfile_env = set(re.findall(r"\b((?:GRIDFLOW|KAFKA|CLICKHOUSE)_[A-Z0-9_]+)=", stack.dockerfile))
    unknown = dockerfile_env - known
    assert not unknown, f"the Dockerfile sets variables gridflow does not read: {sorted(unknown)}"


def check_intake_published(stack: Stack) -> None:
    name, intake = gridflow_service(stack, "intake")
    port = int(setting(intake, "GRIDFLOW_INTAKE_PORT"))
    assert port in container_ports(intake), f"{name} listens on {port} but publishes {container_ports(intake)}"
    host = setting(intake, "GRIDFLOW_INTAKE_HOST")
    assert host in ("0.0.0.0", "::"), f"{name} listens on {host}, unreachable from outside its container"


def check_worker_scales(stack: Stack) -> None:
    name, worker = gridflow_service(stack, "worker")
    assert not worker.get("ports"), f"{name} publishes host ports, so it cannot scale: {worker['ports']}"
    assert "container_name" not in worker, f"{name} has a fixed container_name, so it cannot scale"
    assert "hostname" not in worker, f"{name} has a fixed hostname: every replica would claim the same one"
    env = environment(worker)
    assert not env.get("GRIDFLOW_WORKER_CANONICAL_HOST"), (
        f"{name} fixes GRIDFLOW_WORKER_CANONICAL_HOST: every replica would claim the same host"
    )
    host = setting(worker, "GRIDFLOW_WORKER_WEB_HOST")
    assert host in ("0.0.0.0", "::"), f"{name}'s web server binds {host}, unreachable from other containers"


def check_worker_home(stack: Stack) -> None:
    name, worker = gridflow_service(stack, "worker")
    home = environment(worker).get("GRIDFLOW_HOME")
    assert home and home.startswith("/"), f"{name} needs GRIDFLOW_HOME set to an absolute path"
    named = set(stack.compose.get("volumes") or {})
    per_replica = [target for source, target, ro in mounts(worker) if source is None and not ro] + tmpfs_targets(worker)
    assert home.rstrip("/") in {t.rstrip("/") for t in per_replica}, (
        f"{name}'s GRIDFLOW_HOME {home} is not on an anonymous volume or tmpfs of its own"
    )
    for source, target, _ in mounts(worker):
        assert source not in named, f"{name} mounts the named volume {source} at {target}: replicas would share it"


def check_worker_urls(stack: Stack) -> None:
    worker_name, worker = gridflow_service(stack, "worker")
    web_port = int(setting(worker, "GRIDFLOW_WORKER_WEB_PORT"))
    users = [(name, svc) for name, svc in built_services(stack).items() if "GRIDFLOW_WORKER_URLS" in environment(svc)]
    assert users, "no service sets GRIDFLOW_WORKER_URLS"
    for name, svc in users:
        urls = [u.strip() for u in environment(svc)["GRIDFLOW_WORKER_URLS"].split(",") if u.strip()]
        assert urls, f"{name} sets an empty GRIDFLOW_WORKER_URLS"
        for url in urls:
            parts = urlsplit(url)
            assert parts.scheme == "http", f"{name}: {url} is not an http URL"
            assert parts.hostname == worker_name, f"{name}: {url} does not name the {worker_name} service"
            assert parts.port == web_port, f"{name}: {url} is not the workers' web port {web_port}"


def check_kafka_bootstrap(stack: Stack) -> None:
    kafka_name, kafka, _, props = kafka_broker(stack)
    advertised = listeners(props.get("advertised.listeners", ""))
    bound = listeners(props.get("listeners", ""))
    internal = props.get("inter.broker.listener.name", "PLAINTEXT")
    assert internal in advertised, f"{kafka_name} advertises no {internal} listener"
    host, port = advertised[internal]
    assert host in (kafka_name, kafka.get("hostname")), f"{kafka_name} advertises {internal} as {host}, not itself"
    assert internal in bound and bound[internal][1] == port, f"{kafka_name} does not listen on its advertised {port}"
    controllers = set(props.get("controller.listener.names", "").split(","))
    assert internal not in controllers, f"{internal} is the controller listener, not a client one"
    expected = f"{host}:{port}"
    users = [(name, svc) for name, svc in built_services(stack).items() if "KAFKA_BOOTSTRAP" in environment(svc)]
    for needs in ("intake", "worker"):
        assert needs in dict(users), f"{needs} does not set KAFKA_BOOTSTRAP"
    for name, svc in users:
        servers = [s.strip() for s in environment(svc)["KAFKA_BOOTSTRAP"].split(",") if s.strip()]
        assert servers == [expected], f"{name}: KAFKA_BOOTSTRAP {servers} is not {kafka_name}'s listener {expected}"


def check_clickhouse_url(stack: Stack) -> None:
    ch_name, clickhouse = clickhouse_service(stack)
    ch_env = environment(clickhouse)
    database = ch_env.get("CLICKHOUSE_DB")
    assert database, f"{ch_name} creates no database (CLICKHOUSE_DB)"
    users = [(name, svc) for name, svc in built_services(stack).items() if "CLICKHOUSE_URL" in environment(svc)]
    for needs in ("migrate", "worker"):
        assert needs in dict(users), f"{needs} does not set CLICKHOUSE_URL"
    for name, svc in users:
        url = urlsplit(environment(svc)["CLICKHOUSE_URL"])
        assert url.scheme == "clickhouse", f"{name}: CLICKHOUSE_URL is not a clickhouse:// (native) URL"
        assert url.hostname == ch_name, f"{name}: CLICKHOUSE_URL names {url.hostname}, not the {ch_name} service"
        assert url.port == 9000, f"{name}: CLICKHOUSE_URL port {url.port} is not the native port 9000"
        assert url.path.strip("/") == database, f"{name}: CLICKHOUSE_URL database is not {database}"
        assert unquote(url.username or "") == ch_env.get("CLICKHOUSE_USER", "default"), (
            f"{name}: CLICKHOUSE_URL user is not the user {ch_name} creates"
        )
        assert unquote(url.password or "") == ch_env.get("CLICKHOUSE_PASSWORD", ""), (
            f"{name}: CLICKHOUSE_URL password differs from {ch_name}'s CLICKHOUSE_PASSWORD"
        )


def check_grafana_provisioning(stack: Stack) -> None:
    name, grafana = grafana_service(stack)
    by_source = {
        source.removeprefix("./").rstrip("/"): (target.rstrip("/"), ro) for source, target, ro in mounts(grafana) if source
    }
    assert by_source.get("dashboards/provisioning", ("",))[0] == "/etc/grafana/provisioning", (
        f"{name} does not mount ./dashboards/provisioning at /etc/grafana/provisioning"
    )
    json_mount = by_source.get("dashboards/json")
    assert json_mount and json_mount[1], f"{name} does not mount ./dashboards/json read-only"
    paths = [p.get("options", {}).get("path") for p in stack.dashboard_providers if p.get("type", "file") == "file"]
    assert json_mount[0] in paths, f"no dashboard provider reads {json_mount[0]}, where ./dashboards/json is mounted"
    assert (ROOT / "dashboards" / "json").is_dir(), "./dashboards/json is missing"


def check_grafana_datasource(stack: Stack) -> None:
    ds = the_datasource(stack)
    assert ds.get("type") == CLICKHOUSE_PLUGIN, f"datasource {DATASOURCE_UID} is not a {CLICKHOUSE_PLUGIN}"
    ch_name, clickhouse = clickhouse_service(stack)
    ch_env = environment(clickhouse)
    data = ds.get("jsonData") or {}
    database = ch_env.get("CLICKHOUSE_DB")
    assert data.get("host") == ch_name, f"datasource host {data.get('host')!r} is not the {ch_name} service"
    assert int(data.get("port", 0)) == 9000 and data.get("protocol") == "native", "datasource is not native on 9000"
    assert data.get("defaultDatabase") == database, "datasource default database is not gridflow's"
    user = data.get("username")
    assert user != ch_env.get("CLICKHOUSE_USER", "default"), f"datasource logs in as the sink's read-write user {user}"
    users = clickhouse_users(stack)
    assert user in users, f"datasource user {user!r} is not made by a file {ch_name} mounts into users.d"
    node, profile = users[user]
    assert profile is not None and profile.findtext("readonly") in ("1", "2"), f"ClickHouse user {user} is not read-only"
    assert node.findtext("access_management", "0").strip() == "0", f"ClickHouse user {user} may manage access"
    grants = [" ".join((q.text or "").split()) for q in node.findall("grants/query")]
    assert grants == [f"GRANT SELECT ON {database}.*"], f"ClickHouse user {user} is granted {grants}, not SELECT on {database}.*"
    password = str((ds.get("secureJsonData") or {}).get("password", ""))
    variable = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", password)
    assert variable, "the datasource password should come from Grafana's environment ($VARIABLE)"
    from_env = (node.find("password") if node.find("password") is not None else ET.Element("password")).get("from_env")
    assert from_env, f"ClickHouse user {user}'s password should come from {ch_name}'s environment (from_env)"
    _, grafana = grafana_service(stack)
    given = environment(grafana).get(variable.group(1))
    assert given and given == ch_env.get(from_env), (
        f"Grafana's {variable.group(1)} is not {ch_name}'s {from_env}, the password of {user}"
    )


def check_clickhouse_no_access_management(stack: Stack) -> None:
    ch_name, clickhouse = clickhouse_service(stack)
    flag = environment(clickhouse).get("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT", "0")
    assert flag == "0", f"{ch_name}'s user {environment(clickhouse).get('CLICKHOUSE_USER')} may create users and grants"


def check_secrets_required(stack: Stack) -> None:
    for match in _INTERPOLATION.finditer(stack.compose_text):
        name = match.group(1) or match.group(4)
        if name and SECRET_NAME.search(name):
            assert match.group(2) in (":?", "?"), f"{match.group(0)}: a secret has no default; write ${{{name}:?…}}"
    for service_name, svc in stack.services.items():
        for key, value in raw_environment(svc).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value.strip()), (
                    f"{service_name}: {key} should be a required variable (${{NAME:?…}}), not {value!r}"
                )


def check_grafana_behind_proxy(stack: Stack) -> None:
    name, grafana = grafana_service(stack)
    assert not grafana.get("ports"), f"{name} publishes {grafana['ports']}: it is reached through the proxy only"
    env = environment(grafana)
    root = urlsplit(env.get("GF_SERVER_ROOT_URL", ""))
    assert root.scheme == "https" and root.path == GRAFANA_SUB_PATH, (
        f"{name}'s GF_SERVER_ROOT_URL {env.get('GF_SERVER_ROOT_URL')!r} is not https://…{GRAFANA_SUB_PATH}"
    )
    assert env.get("GF_SERVER_SERVE_FROM_SUB_PATH") == "true", f"{name} does not serve from {GRAFANA_SUB_PATH}"
    assert env.get("GF_SECURITY_COOKIE_SECURE") == "true", f"{name}'s session cookie may travel without TLS"
    proxy_name, proxy = proxy_service(stack)
    _, caddyfile = mounted_file(stack, proxy, "/etc/caddy/Caddyfile")
    block = re.search(rf"\bhandle\s+{re.escape(GRAFANA_SUB_PATH)}\*\s*\{{([^}}]*)\}}", caddyfile)
    assert block and re.search(rf"reverse_proxy\s+{name}:3000\b", block.group(1)), (
        f"{proxy_name}'s Caddyfile does not pass {GRAFANA_SUB_PATH}* (prefix kept) to {name}:3000"
    )
    assert name in depends_on(proxy), f"{proxy_name} does not wait for {name}"


def check_kafka_sasl(stack: Stack) -> None:
    name, kafka, script, props = kafka_broker(stack)
    protocols = dict(item.split(":", 1) for item in props.get("listener.security.protocol.map", "").split(",") if item)
    for listener in listeners(props.get("listeners", "")):
        protocol = protocols.get(listener, listener)
        assert protocol.startswith("SASL_"), f"{name}: listener {listener} is {protocol}: anyone could connect"
    mechanisms = set(props.get("sasl.enabled.mechanisms", "").split(","))
    assert mechanisms and mechanisms <= {"SCRAM-SHA-512", "SCRAM-SHA-256"}, f"{name}'s clients log in with {mechanisms}"
    assert props.get("authorizer.class.name") == kafka_security.AUTHORIZER, f"{name} enforces no ACLs"
    assert props.get("allow.everyone.if.no.acl.found") == "false", f"{name} lets anyone do what no ACL names"
    supers = [u.strip() for u in props.get("super.users", "").split(";") if u.strip()]
    assert supers == ["User:admin"], f"{name}'s super users are {supers}, not admin alone"
    users = scram_users(script, environment(kafka))
    assert users.get("admin"), f"{name} makes no SCRAM user admin"
    logins: dict[str, str] = {}
    for service in ("intake", "worker"):
        svc_name, svc = gridflow_service(stack, service)
        assert setting(svc, "GRIDFLOW_KAFKA_SECURITY_PROTOCOL") == "SASL_PLAINTEXT", f"{svc_name} does not use SASL"
        assert setting(svc, "GRIDFLOW_KAFKA_SASL_MECHANISM") in mechanisms, f"{svc_name}'s SASL mechanism is not enabled"
        user = setting(svc, "GRIDFLOW_KAFKA_USERNAME")
        assert user in users and user != "admin", f"{svc_name} logs in as {user!r}, not a SCRAM user of its own"
        assert setting(svc, "GRIDFLOW_KAFKA_PASSWORD") == users[user], f"{svc_name}'s password is not {user}'s"
        logins[svc_name] = user
    assert len(set(logins.values())) == len(logins), f"services share a Kafka user: {logins}"


def check_kafka_like_local_stack(stack: Stack) -> None:
    """The broker's security lines are those of the local SCRAM broker the tests prove (infra.stack.kafka_security)."""
    name, _, _, props = kafka_broker(stack)
    local = kafka_security.server_properties(
        Settings(
            kafka_stack_scram=True, kafka_security_protocol="SASL_PLAINTEXT", kafka_username="admin",
            kafka_password="x" * 16, kafka_sasl_mechanism=props.get("sasl.enabled.mechanisms", ""),
        ),
        9092, 9093,
    )  # fmt: skip
    for key, value in local.items():
        if key in ("listeners", "advertised.listeners"):
            continue
        assert key in props, f"{name} lacks {key} (the local SCRAM broker has it)"
        if "jaas" in key:
            continue  # the same login modules, with other passwords
        if key == "listener.security.protocol.map":
            assert set(props[key].split(",")) == set(value.split(",")), f"{name}: {key} differs from the local broker's"
        else:
            assert props[key] == value, f"{name}: {key}={props[key]}, the local SCRAM broker has {value}"


def check_kafka_acl_service(stack: Stack) -> None:
    name, svc, _ = acl_service(stack)
    kafka_name, kafka, script, props = kafka_broker(stack)
    assert svc.get("image") == kafka.get("image"), f"{name} does not run {kafka_name}'s image (its kafka-acls.sh)"
    _, acl_script = entrypoint_script(stack, svc)
    assert "kafka-acls.sh" in acl_script and "--add" in acl_script, f"{name}'s script does not add ACLs"
    assert depends_on(svc).get(kafka_name) == "service_healthy", f"{name} does not wait for {kafka_name}"
    assert str(svc.get("restart", "no")) == "no", f"{name} is a one-shot service: restart must be no"
    env = environment(svc)
    assert env.get("KAFKA_ADMIN_PASSWORD") == scram_users(script, environment(kafka)).get("admin"), (
        f"{name} does not log in with the admin password {kafka_name} formats with"
    )
    host, port = listeners(props.get("advertised.listeners", ""))[props.get("inter.broker.listener.name", "")]
    assert env.get("KAFKA_BOOTSTRAP") == f"{host}:{port}", f"{name} does not reach {kafka_name} at {host}:{port}"
    for service in ("intake", "worker"):
        svc_name, gridflow = gridflow_service(stack, service)
        assert depends_on(gridflow).get(name) == "service_completed_successfully", f"{svc_name} starts before the ACLs"
        for variable in ("GRIDFLOW_TOPIC_PREFIX", "GRIDFLOW_WORKER_ID"):
            assert env.get(variable) == setting(gridflow, variable), (
                f"{name} fills the ACLs' {variable} with {env.get(variable)!r}, {svc_name} uses {setting(gridflow, variable)!r}"
            )
    users = scram_users(script, environment(kafka))
    for rule in acl_rules(stack):
        assert rule.principal in users, f"ACL line {rule.line} names {rule.principal}, who has no SCRAM user"


def check_kafka_acls_fit_the_code(stack: Stack) -> None:
    """Each service may do what gridflow's code does with Kafka; accounts and reports are the intake's alone."""
    rules = acl_rules(stack)
    _, svc, _ = acl_service(stack)
    prefix, worker_id = environment(svc).get("GRIDFLOW_TOPIC_PREFIX"), environment(svc).get("GRIDFLOW_WORKER_ID")
    intake = setting(gridflow_service(stack, "intake")[1], "GRIDFLOW_KAFKA_USERNAME")
    worker = setting(gridflow_service(stack, "worker")[1], "GRIDFLOW_KAFKA_USERNAME")
    topics = [f"{prefix}.{t.name}" for t in ALL] + [f"{prefix}.{ALERTS_PREFIX}CG"]
    principals = {rule.principal for rule in rules}
    for topic in topics:
        for user in (intake, worker):  # both run ensure_topics at start
            assert allowed(rules, user, "Describe", topic) and allowed(rules, user, "Create", topic), (
                f"{user} cannot describe and create {topic} (ensure_topics at start)"
            )
        assert any(allowed(rules, p, "Write", topic) for p in principals), f"no ACL lets anyone write {topic}"
    for spec in (ACCOUNTS, REPORTS):
        topic = f"{prefix}.{spec.name}"
        writers = {p for p in principals if allowed(rules, p, "Write", topic)}
        assert writers == {intake}, f"{topic} is writable by {sorted(writers)}: the intake's alone"
    worker_topics = ["reports", "case-openings", "case-commands", "cases", "case-events", "webhook-deliveries"]
    for name in worker_topics:
        assert allowed(rules, worker, "Read", f"{prefix}.{name}"), f"{worker} cannot read {prefix}.{name}"
    for name in ("case-replies", "case-events", "cases", "reports.rejected", "dead-letters", f"{ALERTS_PREFIX}CG"):
        assert allowed(rules, worker, "Write", f"{prefix}.{name}"), f"{worker} cannot write {prefix}.{name}"
    assert allowed(rules, worker, "Write", f"{worker_id}-cases-changelog"), f"{worker} cannot write its tables' changelogs"
    for group in (worker_id, f"{worker_id}-clickhouse-sink", f"{worker_id}-webhook-CG"):
        assert any(
            r.principal == worker and r.resource == "group" and "Read" in r.operations
            and (group == r.name if r.pattern == "literal" else group.startswith(r.name))
            for r in rules
        ), f"{worker} cannot join the consumer group {group}"  # fmt: skip
    for name in ("reports", "case-replies", "accounts", f"{ALERTS_PREFIX}CG"):
        assert allowed(rules, intake, "Read", f"{prefix}.{name}"), f"{intake} cannot follow {prefix}.{name}"


def check_depends_on(stack: Stack) -> None:
    services = stack.services
    for name, svc in services.items():
        for target, condition in depends_on(svc).items():
            assert target in services, f"{name} depends on {target}, which is not a service"
            assert target != name, f"{name} depends on itself"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target} healthy; it has no healthcheck"
            if condition == "service_completed_successfully":
                restart = str(services[target].get("restart", "no"))
                assert restart in ("no", "on-failure") or restart.startswith("on-failure:"), (
                    f"{name} waits for {target} to complete, but {target} restarts ({restart})"
                )
    for name in ("intake", "worker"):
        deps = depends_on(services[name])
        assert deps.get("migrate") == "service_completed_successfully", f"{name} does not wait for migrate"


def proxy_service(stack: Stack) -> tuple[str, dict[str, Any]]:
    proxies = {n: svc for n, svc in stack.services.items() if str(svc.get("image", "")).startswith("caddy:")}
    assert proxies, "no TLS reverse proxy (caddy) in front of the intake"
    return next(iter(proxies.items()))


def check_tls_proxy(stack: Stack) -> None:
    name, proxy = proxy_service(stack)
    assert 443 in container_ports(proxy), f"{name} does not publish 443"
    caddyfile, text = mounted_file(stack, proxy, "/etc/caddy/Caddyfile")
    _, intake = gridflow_service(stack, "intake")
    port = setting(intake, "GRIDFLOW_INTAKE_PORT")
    assert re.search(rf"reverse_proxy\s+intake:{port}\b", text), f"{caddyfile} does not proxy to intake:{port}"
    assert "intake" in depends_on(proxy), f"{name} does not wait for the intake"


CHECKS: dict[str, Callable[[Stack], None]] = {
    "images_pinned": check_images_pinned,
    "grafana_plugin_pinned": check_grafana_plugin_pinned,
    "gridflow_services_built": check_gridflow_services_built,
    "gridflow_env_known": check_gridflow_env_known,
    "intake_published": check_intake_published,
    "worker_scales": check_worker_scales,
    "worker_home": check_worker_home,
    "worker_urls": check_worker_urls,
    "kafka_bootstrap": check_kafka_bootstrap,
    "clickhouse_url": check_clickhouse_url,
    "grafana_provisioning": check_grafana_provisioning,
    "grafana_datasource": check_grafana_datasource,
    "depends_on": check_depends_on,
    "tls_proxy": check_tls_proxy,
    "secrets_required": check_secrets_required,
    "grafana_behind_proxy": check_grafana_behind_proxy,
    "clickhouse_no_access_management": check_clickhouse_no_access_management,
    "kafka_sasl": check_kafka_sasl,
    "kafka_like_local_stack": check_kafka_like_local_stack,
    "kafka_acl_service": check_kafka_acl_service,
    "kafka_acls_fit_the_code": check_kafka_acls_fit_the_code,
}


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_check_holds(compose: Stack, check: Callable[[Stack], None]) -> None:
    check(compose)


# --- each check fails on a stack broken on purpose ----------------------------


def _env(stack: Stack, service: str) -> dict[str, Any]:
    return stack.services[service].setdefault("environment", {})


def _set_image(service: str, image: str) -> Callable[[Stack], None]:
    return lambda s: s.services[service].__setitem__("image", image)


def _unpinned_base(s: Stack) -> None:
    s.dockerfile = re.sub(r"^FROM python:\S+", "FROM python", s.dockerfile, flags=re.MULTILINE)


def _unknown_env(s: Stack) -> None:
    _env(s, "worker")["GRIDFLOW_NO_SUCH_SETTING"] = "1"


def _dockerfile_unknown_env(s: Stack) -> None:
    s.dockerfile += "\nENV GRIDFLOW_NO_SUCH_SETTING=1\n"


def _intake_port_moved(s: Stack) -> None:
    _env(s, "intake")["GRIDFLOW_INTAKE_PORT"] = "9090"


def _intake_default_port_unpublished(s: Stack) -> None:
    _env(s, "intake").pop("GRIDFLOW_INTAKE_PORT", None)
    s.services["intake"]["ports"] = ["127.0.0.1:8081:9090"]


def _intake_loopback(s: Stack) -> None:
    _env(s, "intake").pop("GRIDFLOW_INTAKE_HOST", None)


def _worker_named_home(s: Stack) -> None:
    s.services["worker"]["volumes"] = ["intake-data:" + _env(s, "worker")["GRIDFLOW_HOME"]]


def _worker_home_elsewhere(s: Stack) -> None:
    _env(s, "worker")["GRIDFLOW_HOME"] = "/data/gridflow"


def _worker_urls_wrong_port(s: Stack) -> None:
    _env(s, "intake")["GRIDFLOW_WORKER_URLS"] = "http://worker:6067"


def _worker_urls_wrong_host(s: Stack) -> None:
    _env(s, "intake")["GRIDFLOW_WORKER_URLS"] = "http://127.0.0.1:6066"


def _edit_file(path: str, old: str, new: str) -> Callable[[Stack], None]:
    def edit(s: Stack) -> None:
        assert old in s.files[path], f"{path} no longer holds {old!r}: update this breakage"
        s.files[path] = s.files[path].replace(old, new)

    return edit


def _edit_compose_text(old: str, new: str) -> Callable[[Stack], None]:
    def edit(s: Stack) -> None:
        assert old in s.compose_text, f"the compose file no longer holds {old!r}: update this breakage"
        s.compose_text = s.compose_text.replace(old, new, 1)

    return edit


_KAFKA_START = "deploy/kafka-start.sh"
_ACL_TABLE = "deploy/kafka-acls.txt"
_GRAFANA_USER = "deploy/clickhouse-grafana-user.xml"
_CADDYFILE = "deploy/Caddyfile"

_kafka_advertises_elsewhere = _edit_file(
    _KAFKA_START, "advertised.listeners=SASL_PLAINTEXT://kafka:9092", "advertised.listeners=SASL_PLAINTEXT://kafka:19092"
)


def _bootstrap_controller_port(s: Stack) -> None:
    _env(s, "worker")["KAFKA_BOOTSTRAP"] = "kafka:9093"


def _clickhouse_http_port(s: Stack) -> None:
    url = _env(s, "worker")["CLICKHOUSE_URL"]
    _env(s, "worker")["CLICKHOUSE_URL"] = url.replace(":9000/", ":8123/")


def _clickhouse_other_db(s: Stack) -> None:
    url = _env(s, "migrate")["CLICKHOUSE_URL"]
    _env(s, "migrate")["CLICKHOUSE_URL"] = url.rsplit("/", 1)[0] + "/default"


def _clickhouse_other_password(s: Stack) -> None:
    ch = next(n for n, svc in s.services.items() if str(svc.get("image", "")).startswith("clickhouse/"))
    _env(s, ch)["CLICKHOUSE_PASSWORD"] = "another"


def _grafana_other_password(s: Stack) -> None:
    _env(s, "grafana")["CLICKHOUSE_GRAFANA_PASSWORD"] = "${CLICKHOUSE_PASSWORD:?}"


def _datasource_sink_user(s: Stack) -> None:
    for ds in s.datasources:
        ds["jsonData"]["username"] = "gridflow"


def _datasource_unknown_user(s: Stack) -> None:
    for ds in s.datasources:
        ds["jsonData"]["username"] = "reader"


def _secret_default(s: Stack) -> None:
    _edit_compose_text("${KAFKA_WORKER_PASSWORD:?", "${KAFKA_WORKER_PASSWORD:-")(s)


def _grafana_admin_literal(s: Stack) -> None:
    _env(s, "grafana")["GF_SECURITY_ADMIN_PASSWORD"] = "admin"


def _worker_password_literal(s: Stack) -> None:
    _env(s, "worker")["GRIDFLOW_KAFKA_PASSWORD"] = "worker-secret-123456"


def _grafana_published(s: Stack) -> None:
    s.services["grafana"]["ports"] = ["3000:3000"]


def _grafana_at_root(s: Stack) -> None:
    _env(s, "grafana")["GF_SERVER_ROOT_URL"] = "https://localhost/"


def _grafana_over_http(s: Stack) -> None:
    _env(s, "grafana")["GF_SERVER_ROOT_URL"] = "http://localhost/grafana/"


def _worker_as_intake(s: Stack) -> None:
    _env(s, "worker")["GRIDFLOW_KAFKA_USERNAME"] = "intake"
    _env(s, "worker")["GRIDFLOW_KAFKA_PASSWORD"] = "${KAFKA_INTAKE_PASSWORD:?}"


def _worker_as_admin(s: Stack) -> None:
    _env(s, "worker")["GRIDFLOW_KAFKA_USERNAME"] = "admin"
    _env(s, "worker")["GRIDFLOW_KAFKA_PASSWORD"] = "${KAFKA_ADMIN_PASSWORD:?}"


def _worker_wrong_password(s: Stack) -> None:
    _env(s, "worker")["GRIDFLOW_KAFKA_PASSWORD"] = "${KAFKA_INTAKE_PASSWORD:?}"


def _intake_plaintext(s: Stack) -> None:
    _env(s, "intake")["GRIDFLOW_KAFKA_SECURITY_PROTOCOL"] = "PLAINTEXT"


def _no_acl_service(s: Stack) -> None:
    s.services.pop("kafka-acls")
    for name in ("intake", "worker"):
        s.services[name]["depends_on"].pop("kafka-acls")
        s.services[name]["depends_on"]["kafka"] = {"condition": "service_healthy"}


def _intake_skips_acls(s: Stack) -> None:
    s.services["intake"]["depends_on"].pop("kafka-acls")


def _acls_other_prefix(s: Stack) -> None:
    _env(s, "kafka-acls")["GRIDFLOW_TOPIC_PREFIX"] = "gf"


def _acls_wrong_admin(s: Stack) -> None:
    _env(s, "kafka-acls")["KAFKA_ADMIN_PASSWORD"] = "${KAFKA_WORKER_PASSWORD:?}"


def _acl_for_unknown_user(s: Stack) -> None:
    s.files[_ACL_TABLE] += "webhooks  topic  literal  {prefix}.alerts.CG  Read\n"


def _worker_may_write_accounts(s: Stack) -> None:
    s.files[_ACL_TABLE] += "worker  topic  literal  {prefix}.accounts  Write\n"


def _intake_may_not_create(s: Stack) -> None:
    _edit_file(_ACL_TABLE, "intake  topic  prefixed  {prefix}.                         Describe,Create", "")(s)


def _grafana_no_provisioning(s: Stack) -> None:
    grafana = next(n for n, svc in s.services.items() if str(svc.get("image", "")).startswith("grafana/grafana:"))
    s.services[grafana]["volumes"] = [
        v for v in s.services[grafana]["volumes"] if not str(v).startswith("./dashboards/provisioning")
    ]


def _grafana_json_writable(s: Stack) -> None:
    grafana = next(n for n, svc in s.services.items() if str(svc.get("image", "")).startswith("grafana/grafana:"))
    s.services[grafana]["volumes"] = [
        v.removesuffix(":ro") if str(v).startswith("./dashboards/json") else v for v in s.services[grafana]["volumes"]
    ]


def _provider_elsewhere(s: Stack) -> None:
    for provider in s.dashboard_providers:
        provider["options"]["path"] = "/somewhere/else"


def _datasource_uid(s: Stack) -> None:
    for ds in s.datasources:
        ds["uid"] = "clickhouse"


def _datasource_http(s: Stack) -> None:
    for ds in s.datasources:
        ds["jsonData"]["port"] = 8123
        ds["jsonData"]["protocol"] = "http"


def _datasource_other_db(s: Stack) -> None:
    for ds in s.datasources:
        ds["jsonData"]["defaultDatabase"] = "default"


def _plugin_unpinned(s: Stack) -> None:
    grafana = next(n for n, svc in s.services.items() if str(svc.get("image", "")).startswith("grafana/grafana:"))
    _env(s, grafana)["GF_PLUGINS_PREINSTALL_SYNC"] = CLICKHOUSE_PLUGIN


def _dangling_dependency(s: Stack) -> None:
    s.services["intake"]["depends_on"]["zookeeper"] = {"condition": "service_started"}


def _healthy_without_healthcheck(s: Stack) -> None:
    s.services["intake"]["depends_on"]["worker"] = {"condition": "service_healthy"}


def _migrate_restarts(s: Stack) -> None:
    s.services["migrate"]["restart"] = "unless-stopped"


def _worker_skips_migrate(s: Stack) -> None:
    s.services["worker"]["depends_on"].pop("migrate")


BREAKAGES: list[tuple[str, Callable[[Stack], None], Callable[[Stack], None]]] = [
    ("kafka latest", _set_image("kafka", "apache/kafka:latest"), check_images_pinned),
    ("clickhouse untagged", _set_image("clickhouse", "clickhouse/clickhouse-server"), check_images_pinned),
    ("grafana named tag", _set_image("grafana", "grafana/grafana:main"), check_images_pinned),
    ("python base untagged", _unpinned_base, check_images_pinned),
    ("plugin unpinned", _plugin_unpinned, check_grafana_plugin_pinned),
    ("worker not built", lambda s: s.services["worker"].pop("build"), check_gridflow_services_built),
    ("migrate runs intake", lambda s: s.services["migrate"].__setitem__("command", ["intake"]), check_gridflow_services_built),
    ("unknown env", _unknown_env, check_gridflow_env_known),
    ("unknown env in Dockerfile", _dockerfile_unknown_env, check_gridflow_env_known),
    ("intake port moved", _intake_port_moved, check_intake_published),
    ("intake default port unpublished", _intake_default_port_unpublished, check_intake_published),
    ("intake on loopback", _intake_loopback, check_intake_published),
    ("worker publishes", lambda s: s.services["worker"].__setitem__("ports", ["6066:6066"]), check_worker_scales),
    ("worker named", lambda s: s.services["worker"].__setitem__("container_name", "worker"), check_worker_scales),
    ("worker hostname", lambda s: s.services["worker"].__setitem__("hostname", "worker"), check_worker_scales),
    ("worker canonical host", lambda s: _env(s, "worker").__setitem__("GRIDFLOW_WORKER_CANONICAL_HOST", "worker"), check_worker_scales),
    ("worker web on loopback", lambda s: _env(s, "worker").pop("GRIDFLOW_WORKER_WEB_HOST"), check_worker_scales),
    ("worker home on a named volume", _worker_named_home, check_worker_home),
    ("worker home off the volume", _worker_home_elsewhere, check_worker_home),
    ("worker urls wrong port", _worker_urls_wrong_port, check_worker_urls),
    ("worker urls wrong host", _worker_urls_wrong_host, check_worker_urls),
    ("kafka advertises another port", _kafka_advertises_elsewhere, check_kafka_bootstrap),
    ("bootstrap on controller port", _bootstrap_controller_port, check_kafka_bootstrap),
    ("clickhouse http port", _clickhouse_http_port, check_clickhouse_url),
    ("clickhouse other db", _clickhouse_other_db, check_clickhouse_url),
    ("clickhouse other password", _clickhouse_other_password, check_clickhouse_url),
    ("grafana without provisioning", _grafana_no_provisioning, check_grafana_provisioning),
    ("grafana json writable", _grafana_json_writable, check_grafana_provisioning),
    ("provider reads elsewhere", _provider_elsewhere, check_grafana_provisioning),
    ("datasource uid", _datasource_uid, check_grafana_datasource),
    ("datasource over http", _datasource_http, check_grafana_datasource),
    ("datasource other db", _datasource_other_db, check_grafana_datasource),
    ("datasource other password", _grafana_other_password, check_grafana_datasource),
    ("datasource as the sink's user", _datasource_sink_user, check_grafana_datasource),
    ("datasource user not made", _datasource_unknown_user, check_grafana_datasource),
    ("grafana user writable", _edit_file(_GRAFANA_USER, "<readonly>2</readonly>", "<readonly>0</readonly>"), check_grafana_datasource),
    ("grafana user manages access", _edit_file(_GRAFANA_USER, "<access_management>0<", "<access_management>1<"), check_grafana_datasource),
    ("grafana user granted all", _edit_file(_GRAFANA_USER, "GRANT SELECT ON gridflow.*", "GRANT ALL ON *.*"), check_grafana_datasource),
    ("sink manages access", lambda s: _env(s, "clickhouse").__setitem__("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT", "1"), check_clickhouse_no_access_management),
    ("secret with a default", _secret_default, check_secrets_required),
    ("grafana admin written in", _grafana_admin_literal, check_secrets_required),
    ("kafka password written in", _worker_password_literal, check_secrets_required),
    ("grafana published", _grafana_published, check_grafana_behind_proxy),
    ("grafana at the root", _grafana_at_root, check_grafana_behind_proxy),
    ("grafana over http", _grafana_over_http, check_grafana_behind_proxy),
    ("grafana not proxied", _edit_file(_CADDYFILE, "reverse_proxy grafana:3000", "reverse_proxy intake:8080"), check_grafana_behind_proxy),
    ("grafana prefix stripped", _edit_file(_CADDYFILE, "handle /grafana/*", "handle_path /grafana/*"), check_grafana_behind_proxy),
    ("kafka plaintext listener", _edit_file(_KAFKA_START, "SASL_PLAINTEXT:SASL_PLAINTEXT,", "SASL_PLAINTEXT:PLAINTEXT,"), check_kafka_sasl),
    ("kafka PLAIN for clients", _edit_file(_KAFKA_START, "sasl.enabled.mechanisms=SCRAM-SHA-512", "sasl.enabled.mechanisms=PLAIN"), check_kafka_sasl),
    ("kafka without authorizer", _edit_file(_KAFKA_START, "authorizer.class.name=", "#authorizer.class.name="), check_kafka_sasl),
    ("kafka allows by default", _edit_file(_KAFKA_START, "allow.everyone.if.no.acl.found=false", "allow.everyone.if.no.acl.found=true"), check_kafka_sasl),
    ("kafka anonymous super user", _edit_file(_KAFKA_START, "super.users=User:admin", "super.users=User:admin;User:ANONYMOUS"), check_kafka_sasl),
    ("worker logs in as intake", _worker_as_intake, check_kafka_sasl),
    ("worker logs in as admin", _worker_as_admin, check_kafka_sasl),
    ("worker's password is another's", _worker_wrong_password, check_kafka_sasl),
    ("intake without SASL", _intake_plaintext, check_kafka_sasl),
    ("controller on SCRAM", _edit_file(_KAFKA_START, "sasl.mechanism.controller.protocol=PLAIN", "sasl.mechanism.controller.protocol=SCRAM-SHA-512"), check_kafka_like_local_stack),
    ("no ACL service", _no_acl_service, check_kafka_acl_service),
    ("intake starts before the ACLs", _intake_skips_acls, check_kafka_acl_service),
    ("ACLs for another prefix", _acls_other_prefix, check_kafka_acl_service),
    ("ACL service's wrong admin password", _acls_wrong_admin, check_kafka_acl_service),
    ("ACL for a user without SCRAM", _acl_for_unknown_user, check_kafka_acl_service),
    ("worker may write accounts", _worker_may_write_accounts, check_kafka_acls_fit_the_code),
    ("intake may not create topics", _intake_may_not_create, check_kafka_acls_fit_the_code),
    ("worker may not write cases", _edit_file(_ACL_TABLE, "{prefix}.cases                    Read,Write", "{prefix}.cases                    Read"), check_kafka_acls_fit_the_code),
    ("worker outside its group", _edit_file(_ACL_TABLE, "group  prefixed  {worker_id}  ", "group  literal   {worker_id}  "), check_kafka_acls_fit_the_code),
    ("dangling dependency", _dangling_dependency, check_depends_on),
    ("healthy without healthcheck", _healthy_without_healthcheck, check_depends_on),
    ("migrate restarts", _migrate_restarts, check_depends_on),
    ("worker skips migrate", _worker_skips_migrate, check_depends_on),
    ("no proxy", lambda s: s.services.pop("proxy"), check_tls_proxy),
    ("proxy without 443", lambda s: s.services["proxy"].__setitem__("ports", ["80:80"]), check_tls_proxy),
    ("proxy unpinned", _set_image("proxy", "caddy:latest"), check_images_pinned),
]


@pytest.mark.parametrize(("breakage", "check"), [(b, c) for _, b, c in BREAKAGES], ids=[n for n, _, _ in BREAKAGES])
def test_check_catches(compose: Stack, breakage: Callable[[Stack], None], check: Callable[[Stack], None]) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    with pytest.raises(AssertionError):
        check(broken)


def test_every_check_has_a_breakage() -> None:
    caught = {check for _, _, check in BREAKAGES}
    assert set(CHECKS.values()) <= caught, [name for name, c in CHECKS.items() if c not in caught]


def test_interpolation_uses_defaults() -> None:
    assert interpolate("a${X:-b}c$$d${Y-e}") == "abc$de"
    assert interpolate("${CLICKHOUSE_PASSWORD:?required}") == TEST_ENV["CLICKHOUSE_PASSWORD"]
    with pytest.raises(AssertionError):
        interpolate("${X:?required}")
    with pytest.raises(AssertionError):
        interpolate("${CLICKHOUSE_PASSWORD:?required}", env={})
