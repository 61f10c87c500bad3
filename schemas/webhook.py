"""A webhook delivery (推送记录): one attempt to push a department's alert to its own system."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocabulary import DEPARTMENT_CODE


class WebhookDelivery(BaseModel):
    """One attempt, as the delivery log keeps it (keyed by ``alert_id``, versioned by ``attempt``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str = Field(description="The alert pushed (its id is also the X-Gridflow-Delivery header)")
    department: str = Field(pattern=DEPARTMENT_CODE)
    url: str
    attempt: int = Field(ge=1, description="1, 2, 3 …; the row version")
    outcome: str = Field(description="delivered | failed (will retry) | gave_up")
    status: int | None = Field(default=None, description="HTTP status the endpoint answered, if it answered")
    error: str | None = Field(default=None, description="Why the attempt failed, if it did")
    at: datetime
    next_attempt_at: datetime | None = None
