"""What each role may do (权限). One table, checked by every endpoint."""

from __future__ import annotations

from enum import Enum

from schemas.vocabulary import Role


class Permission(str, Enum):
    REPORT_CREATE = "report:create"  # 上报
    REPORT_READ_OWN = "report:read-own"  # 查看本人上报
    REPORT_READ_ANY = "report:read-any"  # 查看全部上报


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.GRID_WORKER: frozenset({Permission.REPORT_CREATE, Permission.REPORT_READ_OWN}),
    Role.INTEGRATOR: frozenset({Permission.REPORT_CREATE, Permission.REPORT_READ_OWN}),
    # The command centre also takes reports by phone (12345 operators).
    Role.COMMAND_CENTRE: frozenset({Permission.REPORT_CREATE, Permission.REPORT_READ_ANY}),
    Role.ADMIN: frozenset({Permission.REPORT_READ_ANY}),
    Role.DEPARTMENT_STAFF: frozenset(),
    Role.DEPARTMENT_HEAD: frozenset(),
    Role.SYSTEM: frozenset(),
}


def allowed(role: Role, permission: Permission) -> bool:
    """True when ``role`` holds ``permission``."""
    return permission in GRANTS.get(role, frozenset())
