"""What gridflow wants a Grafana to hold: the ClickHouse datasource, the folder and the dashboards.

Read from the same files docker-compose provisions (``dashboards/provisioning``
and ``dashboards/json``), so the provisioned and the pushed Grafana get one
datasource uid, one folder and the same dashboards; only where ClickHouse
is differs, and that comes from a ClickHouse URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from dashboards.exceptions import PushError
from dashboards.provisioned import (
    DATASOURCE_FILE,
    DATASOURCE_UID,
    JSON_DIR,
    PROVIDER_FILE,
)

#: clickhouse-driver's default native ports, used when the URL names none
NATIVE_PORT, NATIVE_TLS_PORT = 9000, 9440


@dataclass(frozen=True)
class Desired:
    """The objects to install; ``password`` is kept apart so nothing that shows the datasource shows it."""

    datasource: dict[str, Any]
    password: str | None = field(repr=False)
    folder: dict[str, str]
    dashboards: list[dict[str, Any]]


def desired_objects(clickhouse_url: str, database: str, json_dir: Path = JSON_DIR) -> Desired:
    """Everything a push installs, with ClickHouse reached at ``clickhouse_url``.

    ``database`` is used when the URL has no path (gridflow's own URLs name
    the database in a separate setting).
    """
    connection, password = clickhouse_connection(clickhouse_url, database)
    boards = [in_database(b, connection["defaultDatabase"]) for b in dashboards(json_dir)]
    return Desired(datasource(connection), password, folder(), boards)


def datasource(connection: dict[str, Any]) -> dict[str, Any]:
    """The provisioned datasource's name, uid, type and jsonData, with ``connection`` in place of its host."""
    provisioned = yaml.safe_load(DATASOURCE_FILE.read_text(encoding="utf-8"))["datasources"]
    ds = next(d for d in provisioned if d["uid"] == DATASOURCE_UID)  # the uid every panel names
    return {
        "uid": ds["uid"],
        "name": ds["name"],
        "type": ds["type"],
        "access": "proxy",  # a backend plugin: Grafana's server queries ClickHouse
        "jsonData": {**ds["jsonData"], **connection},
    }


def folder() -> dict[str, str]:
    """The provisioned dashboards' folder: uid and title."""
    (provider,) = yaml.safe_load(PROVIDER_FILE.read_text(encoding="utf-8"))["providers"]  # gridflow's only one
    return {"uid": provider["folderUid"], "title": provider["folder"]}


def dashboards(json_dir: Path = JSON_DIR) -> list[dict[str, Any]]:
    """Every dashboard JSON file in ``json_dir``, in name order."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(json_dir.glob("*.json"))]


def in_database(board: dict[str, Any], database: str) -> dict[str, Any]:
    """``board`` reading gridflow's tables from ``database``: its hidden ``database`` constant set to it."""
    variables = []
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("name") == "database" and variable.get("type") == "constant":
            variable = {**variable, "query": database}
        variables.append(variable)
    return {**board, "templating": {**board.get("templating", {}), "list": variables}}


def clickhouse_connection(url: str, database: str) -> tuple[dict[str, Any], str | None]:
    """The datasource's connection fields and the password from a ``clickhouse://user:pass@host:port/db`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("clickhouse", "clickhouses") or not parts.hostname:
        raise PushError("the ClickHouse URL must look like clickhouse://user:password@host:9000/database")
    flag = (parse_qs(parts.query).get("secure") or ["false"])[0].lower()
    secure = parts.scheme == "clickhouses" or flag in ("1", "true", "yes")
    connection = {
        "host": parts.hostname,
        "port": parts.port or (NATIVE_TLS_PORT if secure else NATIVE_PORT),
        "secure": secure,
        "username": unquote(parts.username or "default"),
        "defaultDatabase": parts.path.strip("/") or database,
    }
    return connection, unquote(parts.password) if parts.password else None
