"""docker-compose.yml, the Dockerfile and Grafana's provisioning agree.

No Docker engine runs where the tests run, so the stack is checked as data:
the compose file, the Dockerfile and the provisioning files are parsed and
cross-checked against each other and against :class:`infra.settings.Settings`.

Each check is a function that raises ``AssertionError``; ``test_*_holds``
runs it on the real files and ``test_check_catches`` runs it on a copy broken
on purpose, so none of the checks can pass whatever the files say.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

try:
    from infra.settings import Settings
except ImportError:  # running from a checkout that is not installed
    sys.path.insert(0, str(ROOT))
    from infra.settings import Settings

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DATASOURCES_DIR = ROOT / "dashboards" / "provisioning" / "datasources"
DASHBOARD_PROVIDERS_DIR = ROOT / "dashboards" / "provisioning" / "dashboards"
DATASOURCE_UID = "gridflow-clickhouse"
CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource"
GRIDFLOW_SERVICES = {"intake", "worker", "migrate"}
VERSION = re.compile(r"\d+\.\d+")


# --- loading ------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    compose: dict[str, Any]
    dockerfile: str
    datasources: list[dict[str, Any]]
    dashboard_providers: list[dict[str, Any]]

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.compose["services"]


def _load_yaml_dir(folder: Path, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get(key) or [])
    return items


def load_stack() -> Stack:
    return Stack(
        compose=yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")),
        dockerfile=DOCKERFILE.read_text(encoding="utf-8"),
        datasources=_load_yaml_dir(DATASOURCES_DIR, "datasources"),
        dashboard_providers=_load_yaml_dir(DASHBOARD_PROVIDERS_DIR, "providers"),
    )


@pytest.fixture(scope="module")
def compose() -> Stack:
    return load_stack()


# --- helpers ------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any) -> str:
    """Compose's variable interpolation, with no variable set: defaults apply."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3)
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
    return the_service(stack, lambda s: str(s.get("image", "")).startswith("apache/kafka:"), "apache/kafka")


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
    kafka_name, kafka = kafka_service(stack)
    env = environment(kafka)
    advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    bound = listeners(env["KAFKA_LISTENERS"])
    internal = env.get("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT")
    assert internal in advertised, f"{kafka_name} advertises no {internal} listener"
    host, port = advertised[internal]
    assert host in (kafka_name, kafka.get("hostname")), f"{kafka_name} advertises {internal} as {host}, not itself"
    assert internal in bound and bound[internal][1] == port, f"{kafka_name} does not listen on its advertised {port}"
    controllers = set(env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(","))
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
    assert data.get("host") == ch_name, f"datasource host {data.get('host')!r} is not the {ch_name} service"
    assert int(data.get("port", 0)) == 9000 and data.get("protocol") == "native", "datasource is not native on 9000"
    assert data.get("defaultDatabase") == ch_env.get("CLICKHOUSE_DB"), "datasource default database is not gridflow's"
    assert data.get("username") == ch_env.get("CLICKHOUSE_USER", "default"), "datasource user is not ClickHouse's"
    password = str((ds.get("secureJsonData") or {}).get("password", ""))
    variable = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", password)
    assert variable, "the datasource password should come from Grafana's environment ($VARIABLE)"
    _, grafana = grafana_service(stack)
    assert environment(grafana).get(variable.group(1)) == ch_env.get("CLICKHOUSE_PASSWORD"), (
        f"Grafana's {variable.group(1)} is not ClickHouse's CLICKHOUSE_PASSWORD"
    )


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


def check_tls_proxy(stack: Stack) -> None:
    proxies = {n: svc for n, svc in stack.services.items() if str(svc.get("image", "")).startswith("caddy:")}
    assert proxies, "no TLS reverse proxy (caddy) in front of the intake"
    name, proxy = next(iter(proxies.items()))
    assert 443 in container_ports(proxy), f"{name} does not publish 443"
    sources = {target: source for source, target, _ in mounts(proxy)}
    caddyfile = sources.get("/etc/caddy/Caddyfile")
    assert caddyfile, f"{name} does not mount a Caddyfile"
    text = (ROOT / caddyfile).read_text()
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


def _kafka_advertises_elsewhere(s: Stack) -> None:
    kafka = next(n for n, svc in s.services.items() if str(svc.get("image", "")).startswith("apache/kafka:"))
    _env(s, kafka)["KAFKA_ADVERTISED_LISTENERS"] = "PLAINTEXT://kafka:19092"


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
    ("datasource other password", _clickhouse_other_password, check_grafana_datasource),
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
    with pytest.raises(AssertionError):
        interpolate("${X:?required}")
