"""Names that cross a boundary (topics, API, ClickHouse), as enums.

A typo in one of these is a validation error, not a silent new value.
"""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    """严重程度: P1 紧急, P2 重要, P3 一般, P4 咨询."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Category(str, Enum):
    """The thirteen categories of DESIGN.md (类别)."""

    DISPUTE = "DISPUTE"  # 矛盾纠纷
    SECURITY = "SECURITY"  # 治安隐患
    SAFETY = "SAFETY"  # 安全生产
    ENVIRONMENT = "ENVIRONMENT"  # 生态环境
    URBAN = "URBAN"  # 城市管理
    FOOD_DRUG = "FOOD_DRUG"  # 食品药品
    TRAFFIC = "TRAFFIC"  # 交通安全
    HEALTH = "HEALTH"  # 公共卫生
    SPECIAL_GROUPS = "SPECIAL_GROUPS"  # 特殊人群
    PETITION = "PETITION"  # 信访诉求
    CYBER = "CYBER"  # 网络空间
    DISASTER = "DISASTER"  # 应急灾害
    LIVELIHOOD = "LIVELIHOOD"  # 民生服务


class SourceNetwork(str, Enum):
    """The networks merged into one pipeline (多网合一)."""

    MOBILE = "mobile"  # gridflow's own H5 form
    COMPREHENSIVE = "comprehensive"  # 综治网格
    URBAN = "urban"  # 城管网格
    EMERGENCY = "emergency"  # 应急网格
    ENVIRONMENT = "environment"  # 环保网格
    HOTLINE = "hotline12345"  # 12345 热线


class Datum(str, Enum):
    """Geodetic datum of a point (坐标系)."""

    WGS84 = "WGS-84"
    GCJ02 = "GCJ-02"


class CaseState(str, Enum):
    """案件状态."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"
    TRIAGE = "triage"


class CaseEventType(str, Enum):
    """What happened to a case (案件事件)."""

    ACCEPTED = "accepted"  # 案卷建立
    DISPATCHED = "dispatched"  # 任务派遣
    TRIAGED = "triaged"  # 转人工分拨 (the command centre must place or classify it)
    RETURNED = "returned"  # 退回 (the lead says it is not theirs)


class Role(str, Enum):
    """Account roles (DESIGN "Accounts")."""

    GRID_WORKER = "grid_worker"  # 网格员
    DEPARTMENT_STAFF = "department_staff"  # 职能部门工作人员
    DEPARTMENT_HEAD = "department_head"  # 部门负责人
    COMMAND_CENTRE = "command_centre"  # 指挥中心 (district, or a town's sub-centre)
    INTEGRATOR = "integrator"  # 接入方 (a source network's adapter)
    ADMIN = "admin"  # 系统管理员
    SYSTEM = "system"  # gridflow's own processors, never a token


DEPARTMENT_CODE = r"^[A-Z]+(-[A-Z]+)?$"
TOWN_CODE = r"^[A-Z]{2}$"
GRID_ID = r"^[A-Z]{2}-\d{2}-\d{2}$"
CASE_NUMBER = r"^[A-Z]{2}-\d{8}-\d{4,}$"
