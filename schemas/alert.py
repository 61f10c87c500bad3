"""The department alert (派遣通知): what a department's topic and console receive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocabulary import CASE_NUMBER, DEPARTMENT_CODE, GRID_ID, Category, Severity


class DepartmentAlert(BaseModel):
    """A case dispatched to a department, lead or co-handler. Never carries a full phone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str = Field(description="`<case_id>:<seq>:<department>`, so a re-sent alert is recognised")
    kind: str = Field(
        default="dispatch", description="dispatch (派遣), escalation (督办) or update (又有人反映: one more report)"
    )
    escalation: str | None = Field(default=None, description="For an escalation: clock:level, e.g. sign:1")
    case_id: UUID
    case_no: str = Field(pattern=CASE_NUMBER)
    department: str = Field(pattern=DEPARTMENT_CODE, description="Who is alerted")
    lead: bool = Field(description="True for the lead department (主办), False for a co-handler (协办)")
    category: Category | None = None
    severity: Severity | None = None
    title: str
    description: str
    town: str | None = None
    grid_id: Annotated[str, Field(pattern=GRID_ID)] | None = None
    reporter_phone_masked: str = Field(pattern=r"^[0-9*]*$", description="e.g. 138****1234")
    dispatched_at: datetime
    subcategory: str | None = None
    sign_deadline: datetime | None = Field(default=None, description="签收时限 of the lead (None for triage)")
    resolve_deadline: datetime | None = Field(default=None, description="办结时限 of the lead")
    triage_reason: str | None = Field(default=None, description="For the command centre: why it needs a person")
    report_count: int = Field(default=1, ge=1, description="Reports of this incident so far (又有 N 人反映)")
