"""A network's event that could not be read, kept with its bytes (死信): an import's bad line, with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.pii import personal
from schemas.vocabulary import SourceNetwork


class RejectedEvent(BaseModel):
    """One refused event, on ``network-events.rejected``; keyed by its network, file and line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: SourceNetwork
    via: Literal["import", "push"] = Field(description="How it came: a batch import or a push")
    file: str = Field(default="", max_length=255, description="The export file's name (import), else empty")
    line: int = Field(default=0, ge=0, description="Its line in the file (the first, for a multi-line CSV record)")
    field: str | None = Field(default=None, max_length=100, description="The network's field at fault, if one")
    reason: str = Field(max_length=2000, description="Why it was refused (Chinese, for the clerk who fixes it)")
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the original bytes (the row key)")
    original_base64: str = personal("payload", description="The bytes as received, base64 (names and phones)")
    at: datetime = Field(description="When it was refused (UTC)")
