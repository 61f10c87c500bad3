"""What each role may do (权限). One table, checked by every endpoint."""

from __future__ import annotations

from enum import Enum

from schemas.vocabulary import Role


class Permission(str, Enum):
    REPORT_CREATE = "report:create"  # 上报
    NETWORK_PUSH = "network:push"  # 网络事件推送 (an integrator, in its network's own format)
    REPORT_READ_OWN = "report:read-own"  # 查看本人上报
    REPORT_READ_ANY = "report:read-any"  # 查看全部上报
    GRIDS_READ = "grids:read"  # 网格目录
    CASE_ACT = "case:act"  # 办理案件 (what exactly: the lifecycle decides by the actor's standing)
    CASE_READ = "case:read"  # 查看案件 (which: by standing, or any for the centre and admins)


_EVERYONE = frozenset({Permission.GRIDS_READ})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.GRID_WORKER: _EVERYONE | {Permission.REPORT_CREATE, Permission.REPORT_READ_OWN, Permission.CASE_ACT, Permission.CASE_READ},
    Role.INTEGRATOR: _EVERYONE
    | {Permission.REPORT_CREATE, Permission.NETWORK_PUSH, Permission.REPORT_READ_OWN, Permission.CASE_ACT, Permission.CASE_READ},
    # The command centre also takes reports by phone (12345 operators).
    Role.COMMAND_CENTRE: _EVERYONE
    | {Permission.REPORT_CREATE, Permission.REPORT_READ_ANY, Permission.CASE_ACT, Permission.CASE_READ},
    Role.ADMIN: _EVERYONE | {Permission.REPORT_READ_ANY, Permission.CASE_READ},
    Role.DEPARTMENT_STAFF: _EVERYONE | {Permission.CASE_ACT, Permission.CASE_READ},
    Role.DEPARTMENT_HEAD: _EVERYONE | {Permission.CASE_ACT, Permission.CASE_READ},
    Role.SYSTEM: frozenset(),
}


def in_town_scope(role: Role, account_town: str | None, town: str | None) -> bool:
    """A town's sub-centre (command centre with a town) deals with its own town's cases only.

    Cases not yet placed (no town) are the district centre's, like every case
    of every town; other roles are not limited by town here.
    """
    return role is not Role.COMMAND_CENTRE or account_town is None or account_town == town


def allowed(role: Role, permission: Permission) -> bool:
    """True when ``role`` holds ``permission``."""
    return permission in GRANTS.get(role, frozenset())
