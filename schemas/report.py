"""The report (上报事件): what a grid worker's form or a source network sends.

``Report`` is the wire body of ``POST /api/v1/reports``; ``AcceptedReport`` is
the same report as the intake writes it to Kafka, stamped with what only the
server may say (who reported, when it arrived, the body's fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.bounds import SafeText, check_reported_time
from schemas.pii import personal
from schemas.vocabulary import (
    GRID_ID,
    PHOTO_ID,
    Category,
    Datum,
    Role,
    Severity,
    SourceNetwork,
)

PHONE = r"^1[3-9]\d{9}$"


class Point(BaseModel):
    """A place given as coordinates, with the datum they are in (坐标)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A valid point outside the district is no error: its case waits in triage.
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="纬度 latitude, decimal degrees")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="经度 longitude, decimal degrees")
    datum: Datum = Field(description="坐标系: WGS-84 (GPS) or GCJ-02 (most Chinese map products)")


class Report(BaseModel):
    """A report as the client sends it. The reporter comes from the token, never from here."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    report_id: UUID = Field(description="Client-generated UUID; the idempotency key (重复提交不会重复立案)")
    source: SourceNetwork = Field(default=SourceNetwork.MOBILE, description="Network the report came through")
    grid_id: Annotated[str, Field(pattern=GRID_ID)] | None = Field(
        default=None, description="网格编号, e.g. XL-02-03; give it or `location`"
    )
    location: Point | None = Field(default=None, description="Where it happened, if no grid is given")
    reporter_phone: str | None = personal(
        "phone",
        default=None,
        pattern=PHONE,
        description="回访电话 call-back phone (personal information; masked downstream); often absent from networks",
    )
    category_hint: Category | None = Field(default=None, description="类别 as the reporter sees it")
    title: SafeText = Field(min_length=2, max_length=100, description="标题")
    description: SafeText = Field(min_length=2, max_length=4000, description="情况描述 (free Chinese text)")
    severity_hint: Severity | None = Field(default=None, description="紧急程度 as the reporter sees it")
    occurred_at: AwareDatetime = Field(
        description="发生时间 from the device, with its UTC offset: from 2000-01-01 (Beijing) to 10 minutes past the "
        "server's clock"
    )
    photo_ids: list[Annotated[str, Field(pattern=PHOTO_ID)]] = Field(
        default_factory=list, max_length=9, description="Ids of photos uploaded beforehand (at most 9)"
    )
    handled_on_spot: bool = Field(
        default=False, description="自行处置: the reporter already fixed it; the case is recorded and closed at once"
    )

    @model_validator(mode="after")
    def _has_a_place(self) -> "Report":
        # A grid worker always knows where he stands; a network's event may name
        # no place the registry knows (a 12345 caller's vague address): it waits in triage.
        if self.source is SourceNetwork.MOBILE and self.grid_id is None and self.location is None:
            # Raised against grid_id so the 422 names a field the form can highlight.
            error = PydanticCustomError("missing_place", "give grid_id or location (需提供网格编号或坐标)")
            raise ValidationError.from_exception_data(
                "Report", [InitErrorDetails(type=error, loc=("grid_id",), input=None)]
            )
        return self

    def _bounding_clock(self) -> datetime:
        """The time ``occurred_at`` may be at most FUTURE_SLACK ahead of: the server's clock now."""
        return datetime.now(UTC)

    @model_validator(mode="after")
    def _occurred_in_bounds(self) -> Report:
        try:
            check_reported_time(self.occurred_at, self._bounding_clock())
        except PydanticCustomError as error:
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=error, loc=("occurred_at",), input=str(self.occurred_at))]
            ) from None
        return self

    def fingerprint(self) -> str:
        """SHA-256 of the canonical body: equal for a byte-different but identical resubmission."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class NetworkOrigin(BaseModel):
    """What a source network's event adds to the unified report it became (多网合一)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: SafeText = Field(
        min_length=1, max_length=64, description="The network's own event id (its idempotency key)"
    )
    subcategory_hint: SafeText | None = Field(default=None, max_length=64)
    mapping_note: SafeText | None = Field(default=None, max_length=500)
    payload: dict[str, Any] = Field(description="The event as the network sent it")

    def stamps(self) -> dict[str, Any]:
        """The AcceptedReport fields this origin sets."""
        return dict(
            source_event_id=self.event_id,
            subcategory_hint=self.subcategory_hint,
            mapping_note=self.mapping_note,
            original_payload=self.payload,
        )


def fingerprint(report: Report, origin: NetworkOrigin | None = None) -> str:
    """The fingerprint a repeat is compared by: the body's, and for a network's event its payload too.

    So a network resending its event with any field changed — even one that
    maps to nothing in the unified report — is a conflict, not a repeat.
    """
    if origin is None:
        return report.fingerprint()
    canonical = json.dumps(
        {"report": report.model_dump(mode="json"), "payload": origin.payload}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AcceptedReport(Report):
    """A report the intake accepted and wrote to Kafka (acks=all)."""

    reporter_id: str = Field(min_length=1, max_length=64, description="Account id from the bearer token")
    reporter_role: Role = Field(description="Role of that account")
    received_at: datetime = Field(description="Server time of acceptance (UTC)")
    fingerprint_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="Report.fingerprint() of the body (with the network's payload, if any)"
    )
    # Added by migration 0008 (source networks): set by the intake from a network's own event, never by a body.
    source_event_id: SafeText | None = Field(default=None, max_length=64, description="The network's own event id")
    subcategory_hint: SafeText | None = Field(default=None, max_length=64, description="小类 as the network's code maps")
    mapping_note: SafeText | None = Field(
        default=None, max_length=500, description="Which of the network's codes did not map: the case waits in triage"
    )
    original_payload: dict[str, Any] | None = personal(
        "payload", default=None, description="The network's event as it came (names, phones): the command centre's only"
    )

    def _bounding_clock(self) -> datetime:
        # Downstream the bound is the receipt, not the reading worker's clock: a record the
        # intake accepted stays valid however late (or on whichever machine) it is read.
        received = self.received_at
        return received if received.tzinfo is not None else received.replace(tzinfo=UTC)

    @classmethod
    def stamp(
        cls,
        report: Report,
        *,
        reporter_id: str,
        reporter_role: Role,
        received_at: datetime,
        origin: NetworkOrigin | None = None,
    ) -> "AcceptedReport":
        """The report with the server's stamps added (and, for a network's event, where it came from)."""
        extra = origin.stamps() if origin is not None else {}
        return cls(
            **report.model_dump(),
            reporter_id=reporter_id,
            reporter_role=reporter_role,
            received_at=received_at,
            fingerprint_sha256=fingerprint(report, origin),
            **extra,
        )

    def body(self) -> Report:
        """The client's body without the server's stamps."""
        return Report(**self.model_dump(include=set(Report.model_fields)))
