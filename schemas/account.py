"""An account and its bearer token (账号), as kept on the accounts topic.

Only the SHA-256 of a token is ever stored; the token itself is printed once
by ``gridflow users add``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocabulary import DEPARTMENT_CODE, TOWN_CODE, Role, SourceNetwork


class Account(BaseModel):
    """Who a token belongs to and what it may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="账号")
    role: Role
    department: Annotated[str, Field(pattern=DEPARTMENT_CODE)] | None = Field(
        default=None, description="For department staff and heads: their department"
    )
    town: Annotated[str, Field(pattern=TOWN_CODE)] | None = Field(
        default=None, description="For a town's sub-centre or grid worker: the town; None = whole district"
    )
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    expires_at: datetime | None = Field(default=None, description="After this the token is refused (None: never)")
    revoked_at: datetime | None = Field(default=None, description="Set by `gridflow users revoke`")
    password_hash: str | None = Field(default=None, description="scrypt hash for the sign-in page (登录密码); never the password")
    session: bool = Field(default=False, description="A short-lived token made by signing in, not by an admin")
    network: SourceNetwork | None = Field(
        default=None, description="For an integrator: the one source network it speaks for (接入网络)"
    )

    def usable(self, now: datetime) -> str | None:
        """None if the token may be used at ``now``; else why not (``revoked`` or ``expired``)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return None
