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


#: the networks that feed gridflow through an integrator: every one but gridflow's own phone form
INTEGRATED_NETWORKS: tuple[SourceNetwork, ...] = tuple(n for n in SourceNetwork if n is not SourceNetwork.MOBILE)


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


#: 在办: a case still being worked, not yet closed, rejected or merged
OPEN_STATES: frozenset[CaseState] = frozenset(
    {CaseState.ACCEPTED, CaseState.TRIAGE, CaseState.DISPATCHED, CaseState.SIGNED, CaseState.IN_PROGRESS, CaseState.RESOLVED}
)

#: 已办结: the department's work is done (resolved, and perhaps verified and closed)
RESOLVED_STATES: frozenset[CaseState] = frozenset({CaseState.RESOLVED, CaseState.CLOSED})
#: not work done: refused as invalid, or a duplicate of another case (the indicators leave them out)
NOT_WORK_STATES: frozenset[CaseState] = frozenset({CaseState.REJECTED, CaseState.MERGED})


class SlaClock(str, Enum):
    """The three SLA clocks (时限): dispatch from receipt, sign and resolve from dispatch."""

    DISPATCH = "dispatch"
    SIGN = "sign"
    RESOLVE = "resolve"


#: the states in which each clock runs (a suspension also stops the resolve clock)
CLOCK_RUNNING: dict[SlaClock, frozenset[CaseState]] = {
    SlaClock.DISPATCH: frozenset({CaseState.ACCEPTED, CaseState.TRIAGE}),
    SlaClock.SIGN: frozenset({CaseState.DISPATCHED}),
    SlaClock.RESOLVE: frozenset({CaseState.DISPATCHED, CaseState.SIGNED, CaseState.IN_PROGRESS}),
}
#: the states in which some clock runs
CLOCKED_STATES: frozenset[CaseState] = frozenset().union(*CLOCK_RUNNING.values())


class CaseEventType(str, Enum):
    """What happened to a case (案件事件)."""

    ACCEPTED = "accepted"  # 案卷建立
    DISPATCHED = "dispatched"  # 任务派遣
    TRIAGED = "triaged"  # 转人工分拨 (the command centre must place or classify it)
    RETURNED = "returned"  # 退回 (the lead says it is not theirs)
    SIGNED = "signed"  # 签收
    STARTED = "started"  # 开始处置
    RESOLVED = "resolved"  # 办结
    CLOSED = "closed"  # 核查结案
    REOPENED = "reopened"  # 返工 (verification failed)
    REJECTED = "rejected"  # 不予受理 (invalid report)
    MERGED = "merged"  # 合并 (duplicate of another case)
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请
    SUSPENSION_REQUESTED = "suspension_requested"  # 挂起申请
    APPROVED = "approved"  # 同意 (an extension or suspension)
    REFUSED = "refused"  # 不同意
    RESUMED = "resumed"  # 恢复办理 (end of a suspension)
    ESCALATED = "escalated"  # 督办 (automatic at a deadline, or by the command centre)
    NOTE = "note"  # 备注 (lead, co-handler or command centre)
    PART_DONE = "part_done"  # 协办完成 (a co-handler's part)
    RESOLVED_ON_SPOT = "resolved_on_spot"  # 自行处置 (the grid worker fixed it himself)
    LINKED = "linked"  # 又有人反映: another report of the same incident joined the case (一事多报)
    UNLINKED = "unlinked"  # a report split off the case (拆分)
    SPLIT = "split"  # 拆分: this report, wrongly merged, became a case of its own


class CaseAction(str, Enum):
    """What a person can ask of a case (POST /api/v1/cases/{id}/actions)."""

    SIGN = "sign"  # 签收
    START = "start"  # 开始处置
    RESOLVE = "resolve"  # 办结
    VERIFY = "verify"  # 核查通过, 结案
    REOPEN = "reopen"  # 核查不通过, 返工
    RETURN = "return"  # 退回
    REJECT = "reject"  # 不予受理
    MERGE = "merge"  # 合并到另一案件
    ASSIGN = "assign"  # 人工分拨 (from triage)
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    REQUEST_SUSPENSION = "request_suspension"  # 申请挂起/缓办
    APPROVE = "approve"  # 同意申请
    REFUSE = "refuse"  # 不同意申请
    RESUME = "resume"  # 恢复办理
    ESCALATE = "escalate"  # 督办
    NOTE = "note"  # 备注
    PART_DONE = "part_done"  # 协办完成
    SPLIT = "split"  # 拆分: a wrongly merged report becomes its own case (on the merged report's case)


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
PHOTO_ID = r"^[0-9a-f]{32}$"
