"""The case (案件): its current state, kept in the case agent's table.

The same record, with personal fields masked, is the per-case row in
ClickHouse (``cases``), versioned by ``seq`` so that a deduplicated read
(``FINAL`` or ``argMax(…, seq)``) counts every case once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.pii import personal
from schemas.vocabulary import (
    CASE_NUMBER,
    DEPARTMENT_CODE,
    GRID_ID,
    CaseState,
    Category,
    Severity,
    SourceNetwork,
)


class Case(BaseModel):
    """A case as it stands after its ``seq``-th event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: UUID
    case_no: str = Field(pattern=CASE_NUMBER)
    seq: int = Field(ge=1, description="Number of events so far; the row version")
    report_id: UUID = Field(description="The report that opened the case")
    source: SourceNetwork
    town: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="镇/街道 code, None until placed")
    grid_id: Annotated[str, Field(pattern=GRID_ID)] | None = None
    lat: float | None = Field(default=None, description="WGS-84 latitude, if a point was given")
    lon: float | None = Field(default=None, description="WGS-84 longitude, if a point was given")
    category: Category | None = None
    severity: Severity | None = None
    title: str
    description: str
    reporter_id: str
    reporter_phone: str | None = personal(
        "phone", default=None, description="回访电话; full only in the case state, masked elsewhere"
    )
    state: CaseState
    lead_department: Annotated[str, Field(pattern=DEPARTMENT_CODE)] | None = None
    received_at: datetime
    accepted_at: datetime
    dispatched_at: datetime | None = Field(default=None, description="First dispatch (the case's period)")
    updated_at: datetime
    # Added by migration 0004 (routing): appended, as ALTER TABLE ADD COLUMN appends.
    subcategory: str | None = None
    confidence: float | None = Field(default=None, description="The classifier's confidence in the category")
    co_handlers: list[str] = Field(default_factory=list, description="协办 departments")
    triage_reason: str | None = Field(default=None, description="Why the case waits at the command centre")
    returned_by: list[str] = Field(default_factory=list, description="Departments that returned it (退回), in order")
    sla_clock: str | None = Field(default=None, description="wall (P1/P2) or working (P3/P4)")
    last_dispatched_at: datetime | None = Field(default=None, description="Latest dispatch (sign clock start)")
    dispatch_deadline: datetime | None = None
    sign_deadline: datetime | None = None
    resolve_deadline: datetime | None = None
    # Added by migration 0005 (lifecycle).
    sla_dispatch_minutes: int | None = Field(default=None, ge=0, description="The SLA of this dispatch, on sla_clock")
    sla_sign_minutes: int | None = Field(default=None, ge=0)
    sla_resolve_minutes: int | None = Field(default=None, ge=0)
    signed_at: datetime | None = Field(default=None, description="Latest sign (签收)")
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = Field(default=None, description="Latest resolve (办结)")
    closed_at: datetime | None = None
    reopen_count: int = Field(default=0, ge=0, description="返工 count")
    extension_count: int = Field(default=0, ge=0, description="Approved extensions (延期)")
    pending_request: str | None = Field(default=None, description="extension | suspension awaiting the centre")
    pending_hours: int | None = Field(default=None, ge=0, description="Hours asked for by a pending extension")
    suspended_at: datetime | None = Field(default=None, description="Set while suspended (挂起)")
    escalations: list[str] = Field(default_factory=list, description="Raised automatic escalations, clock:level")
    merged_into: UUID | None = None
    on_the_spot: bool = Field(default=False, description="自行处置: closed by the reporter's own hand")
    co_done: list[str] = Field(default_factory=list, description="Co-handlers that marked their part done")
    # Response-time facts (DESIGN "Indicators"), set by processors.lifecycle.facts at every change.
    dispatch_seconds: int | None = Field(default=None, ge=0, description="Receipt → first dispatch")
    sign_seconds: int | None = Field(default=None, ge=0, description="Latest dispatch → sign")
    resolve_seconds: int | None = Field(default=None, ge=0, description="Latest dispatch → latest resolve")
    close_seconds: int | None = Field(default=None, ge=0, description="Receipt → close")
    sign_met: bool | None = Field(default=None, description="Signed by its sign deadline (None until signed)")
    resolve_met: bool | None = Field(default=None, description="Latest resolve by the current resolve deadline")
    return_count: int = Field(default=0, ge=0, description="退回 count")
    # Added by migration 0010 (source networks, 一事多报).
    report_count: int = Field(default=1, ge=1, description="Reports of this incident: its own and every one linked")
    reporter_count: int = Field(default=1, ge=1, description="Independent reporters among them (a signal)")
    merge_evidence: dict[str, Any] | None = Field(
        default=None, description="For a report merged into another case: why (rule, metres, minutes, text)"
    )
    source_event_id: str | None = Field(default=None, description="The network's own event id of its report")
    mapping_note: str | None = Field(default=None, description="A network's code that did not map (hence triage)")
    original_payload: dict[str, Any] | None = personal(
        "payload", default=None, description="The network's event as it came: for the command centre only"
    )
