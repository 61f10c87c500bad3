"""Records that carry a report on its way to becoming a case (inside the processors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, RootModel

from schemas.report import AcceptedReport
from schemas.vocabulary import CASE_NUMBER, DEPARTMENT_CODE, GRID_ID, Category, Role, Severity


class Classification(BaseModel):
    """What the classifier made of a report's text (分类结果), decided once at acceptance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    subcategory: str | None = None
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0, description="Calibrated probability of the category")
    severity_source: str = Field(description="danger_words | model | default")
    danger_words: list[str] = Field(default_factory=list, description="Danger-word rules that made it P1")


class CaseOpening(BaseModel):
    """A new report that needs a case number (立案编号), keyed by its town."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: UUID
    town: str = Field(pattern=r"^[A-Z]{2}$", description="Town code, or XX when the place is not known")
    day: str = Field(pattern=r"^\d{8}$", description="Asia/Shanghai day of receipt, YYYYMMDD")
    grid_id: Annotated[str, Field(pattern=GRID_ID)] | None = None
    lat: float | None = None
    lon: float | None = None
    place_note: str | None = Field(default=None, description="Why the place is not known, if it is not")
    classification: Classification
    report: AcceptedReport


class CaseOpen(BaseModel):
    """The command to open a numbered case, keyed by case id (立案)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["open"] = "open"
    case_no: str = Field(pattern=CASE_NUMBER)
    opening: CaseOpening


class CaseAction(BaseModel):
    """A person's action on a case (签收, 退回 …), keyed by case id; the actor comes from a token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["action"] = "action"
    action_id: UUID = Field(description="Idempotency key: the same action sent twice is applied once")
    case_id: UUID
    action: Literal["return"] = Field(description="What to do (the lifecycle adds the others)")
    actor_id: str = Field(min_length=1, max_length=64)
    actor_role: Role
    actor_department: Annotated[str, Field(pattern=DEPARTMENT_CODE)] | None = None
    reason: str | None = Field(default=None, max_length=500, description="Why (required to return a case)")
    at: datetime = Field(description="Server time the action was received")


class CaseCommand(RootModel[Annotated[Union[CaseOpen, CaseAction], Field(discriminator="kind")]]):
    """Anything on the case-commands topic: an open or an action, told apart by ``kind``."""


class RejectedReport(BaseModel):
    """A report the processors refused, on the dead-letter topic with the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str
    reason: str = Field(description="Machine-readable reason, e.g. conflicting_body")
    detail: str = Field(description="What was wrong, naming the field")
    at: datetime
    fingerprint_sha256: str | None = None
