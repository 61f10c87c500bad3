"""Records that carry a report on its way to becoming a case (inside the processors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.report import AcceptedReport
from schemas.vocabulary import CASE_NUMBER, GRID_ID


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
    report: AcceptedReport


class CaseOpen(BaseModel):
    """The command to open a numbered case, keyed by case id (立案)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_no: str = Field(pattern=CASE_NUMBER)
    opening: CaseOpening


class RejectedReport(BaseModel):
    """A report the processors refused, on the dead-letter topic with the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str
    reason: str = Field(description="Machine-readable reason, e.g. conflicting_body")
    detail: str = Field(description="What was wrong, naming the field")
    at: datetime
    fingerprint_sha256: str | None = None
