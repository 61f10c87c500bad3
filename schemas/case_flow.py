"""Records that carry a report on its way to becoming a case (inside the processors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag

from schemas.bounds import SafeText
from schemas.report import AcceptedReport
from schemas.vocabulary import (
    CASE_NUMBER,
    DEPARTMENT_CODE,
    GRID_ID,
    PHOTO_ID,
    CaseAction,
    CaseState,
    Category,
    Role,
    Severity,
    SourceNetwork,
)


class Classification(BaseModel):
    """What the classifier made of a report's text (分类结果), decided once at acceptance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    subcategory: str | None = None
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0, description="Calibrated probability of the category")
    severity_source: str = Field(description="danger_words | model | default")
    danger_words: list[str] = Field(default_factory=list, description="Danger-word rules that made it P1")


#: CaseOpening.town when the report's place is not known yet: the district itself (XX区)
UNKNOWN_TOWN = "XX"


class CaseOpening(BaseModel):
    """A new report that needs a case number (立案编号) — or joins an open case (一事多报) — keyed by its town."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["opening"] = "opening"
    case_id: UUID
    town: str = Field(pattern=r"^[A-Z]{2}$", description="Town code, or XX when the place is not known")
    day: str = Field(pattern=r"^\d{8}$", description="Asia/Shanghai day of receipt, YYYYMMDD")
    grid_id: Annotated[str, Field(pattern=GRID_ID)] | None = None
    lat: float | None = None
    lon: float | None = None
    place_note: str | None = Field(default=None, description="Why the place is not known, if it is not")
    classification: Classification
    report: AcceptedReport


class CandidateGone(BaseModel):
    """A case left the open set (closed, rejected, merged): new reports no longer join it. Keyed by its town."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["gone"] = "gone"
    town: str = Field(pattern=r"^[A-Z]{2}$")
    case_id: UUID


def _opening_kind(value: Any) -> str:
    # Openings written before ``kind`` existed carry none: they are openings.
    return str(value.get("kind", "opening") if isinstance(value, dict) else getattr(value, "kind", "opening"))


class OpeningCommand(
    RootModel[
        Annotated[
            Union[Annotated[CaseOpening, Tag("opening")], Annotated[CandidateGone, Tag("gone")]],
            Discriminator(_opening_kind),
        ]
    ]
):
    """Anything on the case-openings topic: a report to number or merge, or a case no longer open."""


class MergeLink(BaseModel):
    """Which open case a report joins, and the evidence (shown to the clerk)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: UUID = Field(description="The case the report joins")
    evidence: dict[str, Any] = Field(description="rule, metres, minutes, text_similarity, summary")


class OpenCommand(BaseModel):
    """The command to open a numbered case, keyed by case id (立案) — already merged into another, if ``merge``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["open"] = "open"
    case_no: str = Field(pattern=CASE_NUMBER)
    opening: CaseOpening
    merge: MergeLink | None = Field(default=None, description="一事多报: the open case this report is one more of")


class LinkCommand(BaseModel):
    """Tell a case that one more report (or a merged case with its reports) is about its incident; keyed by case id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["link"] = "link"
    case_id: UUID = Field(description="The surviving case")
    report_case_id: UUID = Field(description="The case of the joining report (state merged)")
    report_id: UUID
    source: SourceNetwork
    reporter_id: str
    occurred_at: datetime
    reports: int = Field(default=1, ge=1, description="Reports it brings: 1, or a merged case's own count")
    reporters: int = Field(default=1, ge=0, description="Independent reporters it brings")
    evidence: dict[str, Any] = Field(default_factory=dict)
    at: datetime
    hops: int = Field(default=0, ge=0, description="Times it was passed on from a case merged meanwhile")


class UnlinkCommand(BaseModel):
    """Tell a case that a report split off it (拆分), keyed by case id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["unlink"] = "unlink"
    case_id: UUID
    report_case_id: UUID
    report_id: UUID
    reporter_id: str
    reports: int = Field(default=1, ge=1)
    at: datetime
    carried: bool = Field(
        default=False,
        description="The reports were counted here through report_case_id, merged into this case with them: "
        "fewer reports, and who reported them is not known here",
    )
    hops: int = Field(default=0, ge=0, description="Times it was passed on along a chain of merged cases")


class CaseActionRequest(BaseModel):
    """The body of ``POST /api/v1/cases/{case_id}/actions``: what the person asks, never who he is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: CaseAction = Field(description="sign, start, resolve, verify, reopen, return, … (办理动作)")
    action_id: UUID | None = Field(
        default=None, description="Optional idempotency key: a retry with the same id is applied once"
    )
    note: SafeText | None = Field(default=None, max_length=2000, description="备注 / 办理说明")
    reason: SafeText | None = Field(
        default=None, max_length=500, description="原因: required to return, reject, reopen, refuse or ask for time"
    )
    photos: list[Annotated[str, Field(pattern=PHOTO_ID)]] = Field(
        default_factory=list, max_length=9, description="照片编号"
    )
    hours: int | None = Field(default=None, ge=1, le=24 * 60, description="延期: extra hours on the case's clock")
    department: Annotated[str, Field(pattern=DEPARTMENT_CODE)] | None = Field(
        default=None, description="人工分拨: the lead department to assign"
    )
    category: Category | None = Field(default=None, description="人工分拨: the corrected category")
    subcategory: SafeText | None = Field(default=None, max_length=64)
    merge_into: UUID | None = Field(default=None, description="合并: the case this one duplicates")


class ActionCommand(CaseActionRequest):
    """An action on its way to the case agent, keyed by case id; the actor comes from the token."""

    kind: Literal["action"] = "action"
    action_id: UUID = Field(description="Idempotency key: the same action sent twice is applied once")
    case_id: UUID
    actor_id: str = Field(min_length=1, max_length=64)
    actor_role: Role
    actor_department: Annotated[str, Field(pattern=DEPARTMENT_CODE)] | None = None
    actor_town: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    at: datetime = Field(description="Server time the action was received")


class EscalationCheck(BaseModel):
    """A timer's nudge to the case agent: look at this case's deadlines now (督办检查)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["check"] = "check"
    case_id: UUID
    at: datetime = Field(description="The clock's time when the timer saw a deadline pass")


class ActionVerdict(BaseModel):
    """The case agent's answer to one action, on the replies topic, keyed by action id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_id: UUID
    case_id: UUID
    applied: bool
    code: str = Field(description="applied | forbidden | not_allowed | invalid | not_found")
    message: str = Field(description="In Chinese, for the person who acted")
    state: CaseState | None = None
    allowed: list[str] = Field(default_factory=list, description="Actions this person may take now")
    seq: int | None = None


class DetachCommand(BaseModel):
    """A merged report's case must stand alone after all: the case it joined had closed meanwhile. Keyed by case id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["detach"] = "detach"
    case_id: UUID = Field(description="The merged report's own case")
    reason: str = Field(max_length=500)
    at: datetime


class CaseCommand(
    RootModel[
        Annotated[
            Union[OpenCommand, ActionCommand, EscalationCheck, LinkCommand, UnlinkCommand, DetachCommand],
            Field(discriminator="kind"),
        ]
    ]
):
    """Anything on the case-commands topic: an open, an action, a deadline check, a report joining or leaving."""


class RejectedReport(BaseModel):
    """A report the processors refused, on the dead-letter topic with the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str
    reason: str = Field(description="Machine-readable reason, e.g. conflicting_body")
    detail: str = Field(description="What was wrong, naming the field")
    at: datetime
    fingerprint_sha256: str | None = None
