"""The case event (案件事件): one step in a case's life, as the case agent records it.

``(case_id, seq)`` is the event's key: ``seq`` counts the case's events from 1
without gaps, so a re-delivered event is recognised and a ClickHouse read
deduplicates by it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocabulary import (
    CASE_NUMBER,
    DEPARTMENT_CODE,
    CaseEventType,
    CaseState,
    Role,
)


class CaseEvent(BaseModel):
    """A state change of one case, stamped by the server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: UUID = Field(description="Internal case id")
    case_no: str = Field(pattern=CASE_NUMBER, description="案件编号 read out over the phone, e.g. XL-20261125-0042")
    seq: int = Field(ge=1, description="1, 2, 3 … per case; the version of everything derived from the case")
    type: CaseEventType = Field(description="What happened")
    state: CaseState = Field(description="The case's state after this event")
    actor_id: str = Field(min_length=1, max_length=64, description="Account id of who did it (from the token)")
    actor_role: Role = Field(description="That account's role")
    at: datetime = Field(description="Server time (UTC)")
    department: Annotated[str, Field(pattern=DEPARTMENT_CODE)] | None = Field(
        default=None, description="Department the event concerns (the lead for a dispatch)"
    )
    payload: dict[str, Any] = Field(default_factory=dict, description="Event-specific details (JSON)")
