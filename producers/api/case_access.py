"""Who may read a case (查看案件): the one rule the case endpoint and the photo endpoint share."""

from __future__ import annotations

from typing import Any

from accounts.policy import in_town_scope
from schemas.account import Account
from schemas.vocabulary import Role


def can_read(account: Account, case: dict[str, Any]) -> bool:
    """Who may read a case: the centre (its town) and admins; its departments; its reporter."""
    if account.role is Role.ADMIN:
        return True
    if account.role is Role.COMMAND_CENTRE:
        return in_town_scope(account.role, account.town, case.get("town"))
    if account.role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and account.department:
        involved = {case.get("lead_department"), *case.get("co_handlers", []), *case.get("returned_by", [])}
        return account.department in involved
    return account.user_id == case.get("reporter_id")
