"""What the pages list: my reports, a department's inbox, the command centre's picture, the audit trail.

Lists come from ClickHouse (deduplicated reads: ``FINAL``), which trails the
workers by a sink batch (about a second); a single case is always read from
the workers (``GET /api/v1/cases/{id}``), and the live inbox from Kafka
(``/api/v1/alerts/stream``). Every value from a request reaches SQL as a
driver parameter, never as text. Phones in ClickHouse are masked already.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from fastapi import Depends, FastAPI, Query
from fastapi.responses import FileResponse

from accounts.policy import Permission, in_town_scope
from infra.clickhouse import ServerEngine
from infra.settings import Settings
from producers.api.auth import require
from producers.api.errors import ApiError, unavailable
from routing import load_taxonomy
from schemas.account import Account
from schemas.bounds import QueryTime
from schemas.case_sql import IS_OPEN, overdue
from schemas.vocabulary import Role

CASE_COLUMNS = (
    "case_id", "case_no", "title", "category", "subcategory", "severity", "state", "town", "grid_id",
    "lead_department", "co_handlers", "received_at", "dispatched_at", "sign_deadline", "resolve_deadline",
    "signed_at", "pending_request", "suspended_at", "escalations", "triage_reason", "reporter_id",
    "report_count", "reporter_count",
)  # fmt: skip


class ClickHouseReader:
    """One connection for the intake's list queries, used by one thread at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = settings.clickhouse_database
        self._engine: ServerEngine | None = None
        self._lock = threading.Lock()

    def _rows(self, sql: str, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        with self._lock:
            try:
                if self._engine is None:
                    self._engine = ServerEngine.from_settings(self.settings)
                return self._engine.execute(sql.replace("{db}", self.db), params)
            except Exception:
                self._engine = None  # reconnect next time
                raise

    async def dicts(self, sql: str, names: Sequence[str], **params: Any) -> list[dict[str, Any]]:
        """Rows as dicts; 503 when ClickHouse does not answer."""
        try:
            rows = await asyncio.to_thread(self._rows, sql, params)
        except Exception as exc:  # noqa: BLE001 - any driver error is "not now"
            raise unavailable(f"统计库暂不可用 ({type(exc).__name__})") from exc
        return [{n: _json(v) for n, v in zip(names, row)} for row in rows]


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc).isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if value.__class__.__name__ == "UUID":
        return str(value)
    return value


def _cases_sql(where: str, limit: int = 500) -> str:
    cols = ", ".join(f"toString({c})" if c == "case_id" else c for c in CASE_COLUMNS)
    return f"SELECT {cols} FROM {{db}}.cases FINAL WHERE {where} ORDER BY received_at DESC LIMIT {limit}"


def _town_scope(account: Account) -> tuple[str, dict[str, Any]]:
    """The SQL form of :func:`~accounts.policy.in_town_scope`."""
    if not in_town_scope(account.role, account.town, None):
        return " AND town = %(town)s", {"town": account.town}
    return "", {}


def account_events(accounts: Sequence[Account]) -> list[dict[str, Any]]:
    """Audit rows from the accounts topic: tokens made (by an admin, or by signing in) and revoked."""
    rows = []
    for a in accounts:
        rows.append({"at": a.created_at.isoformat(), "actor": a.user_id, "role": a.role.value,
                     "what": "sign_in" if a.session else "token_issued", "case_id": None, "detail": a.department or ""})
        if a.revoked_at is not None:
            rows.append({"at": a.revoked_at.isoformat(), "actor": a.user_id, "role": a.role.value,
                         "what": "sign_out" if a.session else "token_revoked", "case_id": None,
                         "detail": a.department or ""})  # fmt: skip
    return rows


def add_listing_routes(
    app: FastAPI, settings: Settings, registry_file: Path, accounts: Callable[[], Sequence[Account]] = lambda: []
) -> None:
    """Register the list endpoints on the intake ``app``."""
    reader = ClickHouseReader(settings)
    taxonomy = load_taxonomy()

    @app.get("/api/v1/taxonomy", summary="分类目录 Categories and subcategories, for the pickers")
    async def get_taxonomy(account: Account = Depends(require(Permission.GRIDS_READ))) -> list[dict[str, Any]]:
        return [
            {"code": c.code, "name": c.name,
             "subcategories": [{"code": s.code, "name": s.name, "severity": s.severity} for s in c.subcategories.values()]}
            for c in taxonomy.categories.values()
        ]  # fmt: skip

    @app.get("/api/v1/departments", summary="部门目录 Every department code and name, for the pickers")
    async def get_departments(account: Account = Depends(require(Permission.GRIDS_READ))) -> list[dict[str, Any]]:
        from district import load_registry

        return [{"code": d.code, "name": d.name} for d in load_registry().departments]

    @app.get("/api/v1/grids.geojson", summary="网格边界 The grids' polygons (WGS-84), for the map")
    async def get_grid_shapes(account: Account = Depends(require(Permission.GRIDS_READ))) -> FileResponse:
        return FileResponse(registry_file, media_type="application/geo+json")

    @app.get("/api/v1/my/reports", summary="我的上报 The caller's reports and what became of them")
    async def my_reports(
        account: Account = Depends(require(Permission.REPORT_READ_OWN, Permission.REPORT_READ_ANY)),
    ) -> list[dict[str, Any]]:
        names = ("report_id", "title", "received_at", "case_id", "case_no", "state", "lead_department",
                 "resolved_at")  # fmt: skip
        return await reader.dicts(
            "SELECT toString(r.report_id), r.title, r.received_at, toString(r.case_id), c.case_no, c.state, "
            "c.lead_department, c.resolved_at FROM (SELECT * FROM {db}.reports FINAL WHERE reporter_id = %(me)s) AS r "
            "LEFT JOIN (SELECT case_id, case_no, state, lead_department, resolved_at FROM {db}.cases FINAL) AS c "
            "USING case_id ORDER BY r.received_at DESC LIMIT 200",
            names,
            me=account.user_id,
        )

    @app.get("/api/v1/inbox", summary="部门待办 Open cases where my department leads or co-handles")
    async def inbox(account: Account = Depends(require(Permission.CASE_ACT))) -> list[dict[str, Any]]:
        if account.role not in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) or not account.department:
            raise ApiError(403, "forbidden", "部门待办只对部门账号开放")
        return await reader.dicts(
            _cases_sql(f"{IS_OPEN} AND (lead_department = %(d)s OR has(co_handlers, %(d)s))"),
            CASE_COLUMNS,
            d=account.department,
        )

    @app.get("/api/v1/centre/overview", summary="指挥中心 Intake, backlog, breaches, triage, requests, map")
    async def overview(account: Account = Depends(require(Permission.REPORT_READ_ANY))) -> dict[str, Any]:
        if account.role is not Role.COMMAND_CENTRE and account.role is not Role.ADMIN:
            raise ApiError(403, "forbidden", "只对指挥中心开放")
        scope, params = _town_scope(account)
        now = datetime.now(timezone.utc)
        since = now - timedelta(minutes=60)
        per_minute = await reader.dicts(
            "SELECT toStartOfMinute(received_at) AS m, count() FROM {db}.cases FINAL "
            f"WHERE received_at >= %(since)s{scope} GROUP BY m ORDER BY m",
            ("minute", "reports"), since=since.replace(tzinfo=None), **params,
        )  # fmt: skip
        backlog = await reader.dicts(
            f"SELECT lead_department, count() AS n FROM {{db}}.cases FINAL WHERE {IS_OPEN}{scope} "
            "GROUP BY lead_department ORDER BY n DESC",
            ("department", "open"), **params,
        )  # fmt: skip
        breaches = await reader.dicts(
            _cases_sql(
                f"{overdue('%(now)s')}{scope}"
            ),
            CASE_COLUMNS, now=now.replace(tzinfo=None), **params,
        )  # fmt: skip
        triage = await reader.dicts(_cases_sql(f"state = 'triage'{scope}"), CASE_COLUMNS, **params)
        requests = await reader.dicts(_cases_sql(f"isNotNull(pending_request){scope}"), CASE_COLUMNS, **params)
        by_grid = await reader.dicts(
            f"SELECT grid_id, count() FROM {{db}}.cases FINAL WHERE {IS_OPEN} AND isNotNull(grid_id)"
            f"{scope} GROUP BY grid_id",
            ("grid_id", "open"), **params,
        )  # fmt: skip
        return {"per_minute": per_minute, "backlog": backlog, "breaches": breaches, "triage": triage,
                "requests": requests, "open_by_grid": by_grid, "as_of": now.isoformat()}  # fmt: skip

    @app.get("/api/v1/webhooks/deliveries", summary="推送记录 Webhook delivery log (admins; a department its own)")
    async def deliveries(
        account: Account = Depends(require(Permission.CASE_READ)),
        department: str | None = Query(default=None, description="部门代码 (admins only; others see their own)"),
        limit: int = Query(default=200, ge=1, le=2000),
    ) -> list[dict[str, Any]]:
        """Every attempt, newest first: outcome, HTTP status, error, next attempt."""
        if account.role is not Role.ADMIN:
            if account.role not in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) or not account.department:
                raise ApiError(403, "forbidden", "推送记录只对系统管理员和本部门开放")
            department = account.department
        names = ("alert_id", "department", "url", "attempt", "outcome", "status", "error", "at", "next_attempt_at")
        where = "WHERE department = %(d)s" if department else ""
        return await reader.dicts(
            f"SELECT {', '.join(names)} FROM {{db}}.webhook_deliveries FINAL {where} ORDER BY at DESC, attempt DESC "
            f"LIMIT {limit}",
            names,
            **({"d": department} if department else {}),
        )

    @app.get("/api/v1/audit", summary="审计 Who did what, when (admins)")
    async def audit(
        account: Account = Depends(require(Permission.REPORT_READ_ANY)),
        actor: str | None = Query(default=None, description="账号"),
        since: QueryTime | None = Query(default=None, description="From (2000–2099; without an offset: UTC)"),
        until: QueryTime | None = Query(default=None, description="Until (2000–2099; without an offset: UTC)"),
        limit: int = Query(default=500, ge=1, le=5000),
    ) -> list[dict[str, Any]]:
        """Case events, report submissions, sign-ins and revocations, newest first; by one actor and a period."""
        if account.role is not Role.ADMIN:
            raise ApiError(403, "forbidden", "审计记录只对系统管理员开放")
        until = until or datetime.now(timezone.utc) + timedelta(days=1)
        since = since or until - timedelta(days=30)
        who = " AND actor = %(actor)s" if actor else ""
        params: dict[str, Any] = {"since": _naive(since), "until": _naive(until)}
        if actor:
            params["actor"] = actor
        found = await reader.dicts(
            "SELECT at, actor, role, what, toString(case_id), detail FROM ("
            "SELECT at, actor_id AS actor, actor_role AS role, type AS what, case_id, ifNull(department, '') AS detail "
            "FROM {db}.case_events FINAL "
            "UNION ALL SELECT received_at AS at, reporter_id AS actor, reporter_role AS role, 'report' AS what, "
            "case_id, toString(report_id) AS detail FROM {db}.reports FINAL"
            f") WHERE at >= %(since)s AND at < %(until)s{who} ORDER BY at DESC LIMIT {limit}",
            ("at", "actor", "role", "what", "case_id", "detail"),
            **params,
        )
        lo, hi = since.astimezone(timezone.utc), until.astimezone(timezone.utc)
        # In a thread: reading the accounts waits for the topic to catch up (seconds, if Kafka is slow),
        # and the event loop serves every other request meanwhile.
        for row in account_events(await asyncio.to_thread(accounts)):
            when = datetime.fromisoformat(row["at"])
            if lo <= when < hi and (not actor or row["actor"] == actor):
                found.append(row)
        found.sort(key=lambda r: r["at"], reverse=True)
        return found[:limit]


def _naive(when: datetime) -> datetime:
    """UTC without tzinfo, as clickhouse-driver sends DateTime('UTC') parameters."""
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo else when
