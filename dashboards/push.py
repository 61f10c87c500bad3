"""Install the committed dashboards into an existing Grafana over its HTTP API (``gridflow dashboards push``).

For a district whose Grafana gridflow does not provision: the ClickHouse
datasource, the folder and every dashboard in ``dashboards/json`` are
created or updated through grafana-client, each only when what Grafana holds
differs from what gridflow wants, so a second push writes nothing.

The subtle part is that the two install paths must never meet. Grafana
refuses API saves of provisioned objects, and saving over them would be
undone by the next provisioning pass anyway, so :func:`plan` reads every
object first and refuses the whole push — before any write — when one of
them is provisioned (a dashboard whose ``meta.provisioned`` is true, a
datasource that is ``readOnly``).
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

from dashboards.exceptions import PushError
from dashboards.grafana_objects import Desired, desired_objects
from dashboards.provisioned import JSON_DIR

logger = logging.getLogger(__name__)

MESSAGE = "gridflow dashboards push"
TIMEOUT_S = 10.0
TWO_PATHS = (
    "gridflow installs dashboards either by provisioning (docker-compose) or by `dashboards push`, "
    "never both into the same Grafana"
)


class Kind(str, Enum):
    """The kinds of Grafana object a push manages, in the order it writes them."""

    DATASOURCE = "datasource"
    FOLDER = "folder"
    DASHBOARD = "dashboard"


class Action(str, Enum):
    """What a push did to an object (a dry run reports what it would do)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """What a push does (or, in a dry run, would do) to one object."""

    kind: Kind
    uid: str
    title: str
    action: Action
    #: the write that brings Grafana to the wanted state; it may carry the password, so it is never shown
    write: Callable[[Any], object] | None = field(default=None, repr=False, compare=False)


def push(
    url: str,
    token: str,
    clickhouse_url: str,
    database: str,
    *,
    json_dir: Path = JSON_DIR,
    dry_run: bool = False,
    send_password: bool = False,
) -> list[Change]:
    """Bring the Grafana at ``url`` to the committed objects; returns one change per object.

    ``send_password``: write the ClickHouse URL's password even when the
    datasource is otherwise unchanged (Grafana never returns it to compare).
    """
    try:
        from grafana_client import GrafanaApi
    except ImportError as exc:  # an optional extra: the services do not need it
        raise PushError("grafana-client is not installed: pip install 'gridflow[grafana]'") from exc

    wanted = desired_objects(clickhouse_url, database, json_dir)
    if send_password and not wanted.password:
        raise PushError("--send-password needs a password in the ClickHouse URL (clickhouse://user:password@host)")
    api = GrafanaApi.from_url(_with_trailing_slash(url), credential=token or None, timeout=TIMEOUT_S)
    shown = _redacted(url)
    changes = plan(api, wanted, send_password=send_password, shown_url=shown)
    if not dry_run:
        apply(api, changes, shown_url=shown)
    return changes


def plan(api: Any, wanted: Desired, *, send_password: bool = False, shown_url: str = "Grafana") -> list[Change]:
    """Read what Grafana holds and decide each object's change; writes nothing."""
    changes = [_plan_datasource(api, wanted, send_password, shown_url), _plan_folder(api, wanted, shown_url)]
    changes += [_plan_dashboard(api, board, wanted.folder["uid"], shown_url) for board in wanted.dashboards]
    return changes


def apply(api: Any, changes: list[Change], *, shown_url: str = "Grafana") -> None:
    """Run the writes of ``changes`` in order (datasource and folder before the dashboards that use them)."""
    for change in changes:
        if change.write is not None:
            with _talking_to(change.kind, change.uid, shown_url):
                change.write(api)
            logger.debug("%s %s %s", change.action.value, change.kind.value, change.uid)  # the report says it


def report(changes: list[Change], *, dry_run: bool = False) -> list[str]:
    """One line per object, then a count of each action (English + Chinese, like the other commands)."""
    verbs = {Action.CREATED: "would create", Action.UPDATED: "would update"} if dry_run else {}
    lines = [
        f"{verbs.get(c.action, c.action.value):12} {c.kind.value:10} {c.uid:26} {c.title}" for c in changes
    ]
    counts = ", ".join(f"{sum(c.action is a for c in changes)} {a.value}" for a in Action)
    lines.append(f"演练，未写入 dry run, nothing written: {counts}" if dry_run else f"推送完成 pushed: {counts}")
    return lines


# --- the three kinds of object -----------------------------------------------------------------


def _plan_datasource(api: Any, wanted: Desired, send_password: bool, shown_url: str) -> Change:
    ds = wanted.datasource
    uid, name = ds["uid"], ds["name"]
    secure = {"password": wanted.password} if wanted.password else {}
    with _talking_to(Kind.DATASOURCE, uid, shown_url):
        current = _get_or_none(lambda: api.datasource.get_datasource_by_uid(uid))
    if current is None:
        body = {**ds, "secureJsonData": secure} if secure else ds
        return Change(Kind.DATASOURCE, uid, name, Action.CREATED, lambda a: a.datasource.create_datasource(body))
    if current.get("readOnly"):
        raise PushError(f"datasource {uid} is provisioned (read-only) in {shown_url}: {TWO_PATHS}")
    # A stored password cannot be read back: it is rewritten when asked, when missing, or with another change.
    missing_password = bool(secure) and not (current.get("secureJsonFields") or {}).get("password")
    if _datasource_matches(current, ds) and not missing_password and not (send_password and secure):
        return Change(Kind.DATASOURCE, uid, name, Action.UNCHANGED)
    body = _datasource_update(current, ds, secure)
    return Change(Kind.DATASOURCE, uid, name, Action.UPDATED, lambda a: a.datasource.update_datasource_by_uid(uid, body))


def _datasource_update(current: dict[str, Any], wanted: dict[str, Any], secure: dict[str, str]) -> dict[str, Any]:
    """The PUT body: Grafana replaces the whole datasource, so what the district set there is sent back."""
    return {
        **wanted,
        "isDefault": current.get("isDefault", False),  # the district's default datasource stays theirs
        "jsonData": {**(current.get("jsonData") or {}), **wanted["jsonData"]},  # keep settings added in the UI
        **({"secureJsonData": secure} if secure else {}),  # secrets not sent are kept by Grafana
    }


def _datasource_matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Equal in the fields gridflow sets; other jsonData keys (set in the UI) do not count."""
    json_data = current.get("jsonData") or {}
    return all(current.get(k) == wanted[k] for k in ("name", "type", "access")) and all(
        json_data.get(k) == v for k, v in wanted["jsonData"].items()
    )


def _plan_folder(api: Any, wanted: Desired, shown_url: str) -> Change:
    uid, title = wanted.folder["uid"], wanted.folder["title"]
    with _talking_to(Kind.FOLDER, uid, shown_url):
        current = _get_or_none(lambda: api.folder.get_folder(uid))
    if current is None:
        return Change(Kind.FOLDER, uid, title, Action.CREATED, lambda a: a.folder.create_folder(title, uid=uid))
    if current.get("title") == title:
        return Change(Kind.FOLDER, uid, title, Action.UNCHANGED)
    return Change(
        Kind.FOLDER, uid, title, Action.UPDATED, lambda a: a.folder.update_folder(uid, title=title, overwrite=True)
    )


#: fields Grafana manages itself on a saved dashboard; they never make a dashboard differ
SERVER_MANAGED = frozenset({"id", "version"})


def _plan_dashboard(api: Any, board: dict[str, Any], folder_uid: str, shown_url: str) -> Change:
    uid, title = board["uid"], board.get("title", board["uid"])
    with _talking_to(Kind.DASHBOARD, uid, shown_url):
        current = _get_or_none(lambda: api.dashboard.get_dashboard(uid))
    meta = (current or {}).get("meta") or {}
    if meta.get("provisioned"):
        raise PushError(f"dashboard {uid} ({title}) is provisioned in {shown_url}: {TWO_PATHS}")
    body = {"dashboard": _without_server_fields(board), "folderUid": folder_uid, "overwrite": True, "message": MESSAGE}

    def save(a: Any) -> object:
        return a.dashboard.update_dashboard(body)  # POST /api/dashboards/db: creates or, with overwrite, updates

    if current is None:
        return Change(Kind.DASHBOARD, uid, title, Action.CREATED, save)
    same = _without_server_fields(current.get("dashboard") or {}) == body["dashboard"]
    if same and meta.get("folderUid") == folder_uid:
        return Change(Kind.DASHBOARD, uid, title, Action.UNCHANGED)
    return Change(Kind.DASHBOARD, uid, title, Action.UPDATED, save)


def _without_server_fields(board: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in board.items() if k not in SERVER_MANAGED}


# --- talking to Grafana --------------------------------------------------------------------------


def _get_or_none(read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """The object, or None when Grafana answers 404."""
    from grafana_client.client import GrafanaClientError

    try:
        return read()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


@contextmanager
def _talking_to(kind: Kind, uid: str, shown_url: str) -> Iterator[None]:
    """Turn what the client raises into a one-line :class:`PushError` that names the object."""
    from grafana_client.client import GrafanaException

    about = f"{kind.value} {uid}"
    try:
        yield
    except GrafanaException as exc:
        raise PushError(_explain(exc, about, shown_url)) from None
    except OSError as exc:  # niquests' connection errors are OSErrors; the client passes them through
        reason = _reason(str(exc), type(exc).__name__)
        raise PushError(f"cannot reach Grafana at {shown_url} ({reason}) for {about}") from None


def _reason(text: str, fallback: str) -> str:
    """The cause buried in a connection error's retry message ("Connection refused"), else ``fallback``."""
    found = re.search(r"\[Errno -?\d+\] ([^'\"]+)|(Failed to resolve '[^']+')|(timed out)", text)
    return next(group for group in found.groups() if group).strip() if found else fallback


def _explain(exc: Any, about: str, shown_url: str) -> str:
    status, message = exc.status_code, _server_message(exc)
    if status == 0:  # the client's code for a timeout or a failed connection
        return f"cannot reach Grafana at {shown_url} ({_reason(str(exc.message), type(exc).__name__)}) for {about}"
    if status == 401:
        return f"Grafana at {shown_url} refused the token (401 {message}): check --token / GRIDFLOW_GRAFANA_TOKEN"
    # Grafana's words for a provisioned object: 400 "Cannot save provisioned dashboard",
    # 403 "Cannot update read-only data source".
    if "provisioned" in message.lower() or "read-only" in message.lower():
        return f"{about} is provisioned in {shown_url} (Grafana: {message}): {TWO_PATHS}"
    if status == 403:
        return f"the token is not allowed to read or change {about} in {shown_url} (403 {message}): it needs the Admin role"
    return f"Grafana at {shown_url} answered {status} for {about}: {message}"


def _server_message(exc: Any) -> str:
    body = exc.response
    text = body.get("message") if isinstance(body, dict) else (body or exc.message)
    return " ".join(str(text).split())[:200]  # one line, however the server formats it


def _with_trailing_slash(url: str) -> str:
    """grafana-client joins a sub-path and ``api`` without a slash: ``/grafana`` must reach it as ``/grafana/``."""
    parts = urlsplit(url)
    return url if parts.path.endswith("/") or not parts.path else urlunsplit(parts._replace(path=parts.path + "/"))


def _redacted(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
