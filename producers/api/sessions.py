"""Signing in (登录) and out: a password for a short-lived bearer token.

An account that an admin gave a password (``gridflow users add --password-stdin``)
signs in on the pages with its id and password and gets a session token,
valid ``GRIDFLOW_SESSION_HOURS``, written to the accounts topic like any token —
so revoking the account (``gridflow users revoke``) ends its sessions too,
on every intake within seconds. Signing out revokes just that token.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

from accounts.directory import AccountDirectory, add_account, revoke_token
from accounts.policy import Permission
from accounts.tokens import verify_password
from infra.settings import Settings
from producers.api.auth import require
from producers.api.errors import ApiError
from schemas.account import Account


class SignIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=64, description="账号")
    password: str = Field(min_length=1, max_length=200, description="密码")


class Session(BaseModel):
    """登录成功: the token to send as ``Authorization: Bearer …`` and who it is."""

    token: str
    expires_at: datetime
    user_id: str
    role: str
    department: str | None = None
    town: str | None = None


def add_session_routes(app: FastAPI, settings: Settings, directory: AccountDirectory) -> None:
    """Register sign-in, sign-out and "who am I" on the intake ``app``."""

    @app.post("/api/v1/sessions", status_code=201, response_model=Session, responses={401: {}}, summary="登录 Sign in")
    async def sign_in(body: SignIn) -> Session:
        """A session token for a right id and password; 401 (without saying which was wrong) otherwise."""
        login = directory.credential(body.user_id)
        # scrypt is slow on purpose: off the event loop
        ok = login is not None and await asyncio.to_thread(verify_password, body.password, login.password_hash or "")
        if not ok or login is None:
            raise ApiError(401, "unauthenticated", "账号或密码错误")
        expires = datetime.now(timezone.utc) + timedelta(hours=settings.session_hours)
        if login.expires_at is not None:
            expires = min(expires, login.expires_at)
        token = await asyncio.to_thread(
            add_account, settings, login.user_id, login.role, login.department, login.town, expires, None, True
        )
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
        """Revoke the token this request carries."""
        await asyncio.to_thread(revoke_token, settings, account)
