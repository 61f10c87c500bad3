"""Bearer-token check: 401 without a valid token, 403 without the permission.

Async, so that checking a token never takes a thread: a malformed or forged
token is refused at once, and one that may be new waits on the directory's
one catch-up thread (``AccountDirectory.check_async``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accounts.directory import AccountDirectory
from accounts.policy import Permission, allowed
from producers.api.errors import ApiError, unavailable
from schemas.account import Account

_bearer = HTTPBearer(auto_error=False, description="gridflow token from `gridflow users add`")


def require(*permissions: Permission) -> Callable[..., Awaitable[Account]]:
    """A dependency that returns the caller's account if it holds any of ``permissions``."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Account:
        directory: AccountDirectory = request.app.state.directory
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthenticated", "需要登录令牌 (Authorization: Bearer …)", headers={"WWW-Authenticate": "Bearer"})
        if not directory.ready:
            raise unavailable("账号目录正在加载")
        account, why = await directory.check_async(credentials.credentials)
        if account is None:
            message = {"expired": "令牌已过期，请重新申请", "revoked": "令牌已吊销"}.get(why or "", "令牌无效")
            raise ApiError(401, "unauthenticated", message, reason=why, headers={"WWW-Authenticate": "Bearer"})
        if not any(allowed(account.role, p) for p in permissions):
            raise ApiError(403, "forbidden", f"角色 {account.role.value} 无权执行此操作", permission=permissions[0].value)
        return account

    return dependency
