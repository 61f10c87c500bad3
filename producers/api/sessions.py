"""Signing in (登录) and out: a password for a short-lived bearer token.

An account that an admin gave a password (``gridflow users add --password-stdin``)
signs in on the pages with its id and password and gets a session token,
valid ``GRIDFLOW_SESSION_HOURS``, written to the accounts topic like any token —
so revoking the account (``gridflow users revoke``) ends its sessions too,
on every intake within seconds. Signing out revokes just that token.

Against guessing: after ``GRIDFLOW_SIGNIN_MAX_FAILURES`` failures of one id
within ``GRIDFLOW_SIGNIN_WINDOW_S`` the id gets 429 with Retry-After, without
a hash; every other attempt costs one scrypt hash whether the id exists or
not (an unknown id is checked against a dummy), on the password pool's own
few threads. When that pool is full the answer is 503 with Retry-After, not
429: the server is saturated, and this client may not be the one who did it.

An ended sign-in stays on the topic ``GRIDFLOW_SESSION_AUDIT_DAYS`` for the
audit; the user's next sign-in or sign-out then writes its tombstone, so the
directory keeps at most one finished session per user beyond that period.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta, timezone

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

from accounts.directory import AccountDirectory, new_account, revoked
from accounts.password_policy import MAX_LENGTH
from accounts.password_pool import PasswordPool, PasswordPoolBusy
from accounts.policy import Permission
from accounts.signin_limiter import SignInLimiter
from accounts.writer import AccountsUnavailable, AccountWriter, Write
from infra.settings import Settings
from producers.api.auth import require
from producers.api.errors import ApiError, unavailable
from schemas.account import Account


class SignIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=64, description="账号")
    password: str = Field(min_length=1, max_length=MAX_LENGTH, description="密码")


class Session(BaseModel):
    """登录成功: the token to send as ``Authorization: Bearer …`` and who it is."""

    token: str
    expires_at: datetime
    user_id: str
    role: str
    department: str | None = None
    town: str | None = None


def _too_many(retry_after: int) -> ApiError:
    minutes = math.ceil(retry_after / 60)
    return ApiError(
        429, "too_many_attempts", f"登录失败次数过多，请 {minutes} 分钟后再试 (too many failed sign-ins)",
        headers={"Retry-After": str(retry_after)}, field="user_id", retry_after=retry_after,
    )  # fmt: skip


def add_session_routes(app: FastAPI, settings: Settings, directory: AccountDirectory) -> None:
    """Register sign-in, sign-out and "who am I" on the intake ``app``."""
    limiter = SignInLimiter(settings.signin_max_failures, settings.signin_window_s, settings.signin_tracked_ids)
    pool = PasswordPool(settings.signin_hash_threads, settings.signin_hash_queue)
    writer = AccountWriter(settings)  # one producer for every sign-in and sign-out, short blocking

    def ended(user_id: str) -> list[Write]:
        """Tombstones of the user's sign-ins that ended longer ago than the audit keeps them."""
        cutoff = datetime.now(timezone.utc) - timedelta(days=settings.session_audit_days)
        return [(a.token_sha256, None) for a in directory.finished_sessions(user_id, cutoff)]

    async def write(records: list[Write]) -> None:
        try:
            await asyncio.to_thread(writer.write, records)
        except AccountsUnavailable:
            raise unavailable("暂时无法登录或退出，请稍后重试") from None

    @app.post(
        "/api/v1/sessions", status_code=201, response_model=Session, responses={401: {}, 429: {}},
        summary="登录 Sign in",
    )  # fmt: skip
    async def sign_in(body: SignIn) -> Session:
        """A session token for a right id and password; 401 (without saying which was wrong) otherwise.

        429 with Retry-After after too many failures of this id; 503 with
        Retry-After when the server is too busy checking passwords or Kafka is down.
        """
        if not directory.ready:
            raise unavailable("账号目录正在加载")
        wait = limiter.begin(body.user_id)
        if wait is not None:
            raise _too_many(wait)
        login = directory.credential(body.user_id)
        try:
            ok = await pool.verify(body.password, login.password_hash if login else None)
        except PasswordPoolBusy as busy:
            limiter.cancel(body.user_id)
            raise unavailable("登录的人太多，请稍后重试", busy.retry_after) from None
        except BaseException:  # the client went away: the hash ran all the same, so it counts
            limiter.end(body.user_id, False)
            raise
        ok = ok and login is not None
        limiter.end(body.user_id, ok)
        if not ok or login is None:
            raise ApiError(401, "unauthenticated", "账号或密码错误")
        expires = datetime.now(timezone.utc) + timedelta(hours=settings.session_hours)
        if login.expires_at is not None:
            expires = min(expires, login.expires_at)
        token, session = new_account(
            settings, login.user_id, login.role, login.department, login.town, expires, None, True, login.network
        )
        await write([(session.token_sha256, session), *ended(login.user_id)])
        return Session(token=token, expires_at=expires, user_id=login.user_id, role=login.role.value,
                       department=login.department, town=login.town)  # fmt: skip

    @app.get("/api/v1/me", response_model=Session, summary="当前账号 Who this token is")
    async def me(request: Request, account: Account = Depends(require(*Permission))) -> Session:
        """The token's account (the pages use it to show the right face)."""
        token = request.headers["authorization"].split(" ", 1)[1]
        return Session(token=token, expires_at=account.expires_at or datetime.max.replace(tzinfo=timezone.utc),
                       user_id=account.user_id, role=account.role.value, department=account.department,
                       town=account.town)  # fmt: skip

    @app.delete("/api/v1/sessions", status_code=204, summary="退出登录 Sign out (revoke this token)")
    async def sign_out(account: Account = Depends(require(*Permission))) -> None:
        """Revoke the token this request carries (a sign-in's record is kept for the audit, then tombstoned)."""
        records: list[Write] = [(account.token_sha256, revoked(account))]
        records += [r for r in ended(account.user_id) if r[0] != account.token_sha256]
        if account.session and settings.session_audit_days <= 0:
            records.append((account.token_sha256, None))
        await write(records)
