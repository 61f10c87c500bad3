"""Dead letters (死信): what could not be used, kept with its bytes and the reason.

:class:`RejectedEvent` is a network's event that could not be read (an
import's bad line, a push); :class:`DeadLetter` is a Kafka record a
consumer could not use.
"""

from __future__ import annotations

import base64
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


class DeadLetter(BaseModel):
    """A Kafka record a consumer could not use (死信), kept whole with the reason, on ``dead-letters``.

    Keyed by :attr:`id`: the topic is compacted, and a re-drive writes the
    record again with ``redriven_at`` set, so ``gridflow dlq`` lists what is
    still pending. Re-driving sends ``key``/``value`` back to the topic they
    came from; every consumer of that topic is idempotent, so the ones that
    had read it already change nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    consumer: str = Field(max_length=200, description="Who refused it: an agent's name, clickhouse-sink, webhook-<DEPT>")
    topic: str = Field(max_length=249, description="The logical topic it came from (without the deployment's prefix)")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key_base64: str | None = Field(default=None, description="Its key as read, base64 (None for no key)")
    value_base64: str | None = personal("payload", default=None, description="Its bytes as read, base64")
    reason: str = Field(max_length=2000, description="Why it was refused, naming the field where one is at fault")
    error: str = Field(max_length=200, description="The kind of failure: the exception's type, or a code")
    at: datetime = Field(description="When it was refused (UTC)")
    redriven_at: datetime | None = Field(default=None, description="When `gridflow dlq redrive` sent it back, if it did")

    @property
    def id(self) -> str:
        """``consumer:topic:partition:offset``: one dead letter per consumer and record."""
        return f"{self.consumer}:{self.topic}:{self.partition}:{self.offset}"

    @classmethod
    def of(
        cls, consumer: str, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
        reason: str, error: str, at: datetime,
    ) -> "DeadLetter":  # fmt: skip
        """The dead letter of one record (the texts cut to their bounds: a reason must never fail to be written)."""
        return cls(
            consumer=consumer[:200], topic=topic[:249], partition=partition, offset=offset,
            key_base64=None if key is None else base64.b64encode(key).decode(),
            value_base64=None if value is None else base64.b64encode(value).decode(),
            reason=reason[:2000], error=error[:200], at=at,
        )  # fmt: skip

    def key(self) -> bytes | None:
        """The original key's bytes."""
        return None if self.key_base64 is None else base64.b64decode(self.key_base64)

    def value(self) -> bytes | None:
        """The original value's bytes."""
        return None if self.value_base64 is None else base64.b64decode(self.value_base64)


def reason_of(exc: BaseException) -> str:
    """A dead letter's reason: a validation error's fields and messages, else the exception's text."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'value'}: {e.get('msg', '')}" for e in errors()]
            return "; ".join(parts) or str(exc)
        except Exception:  # not pydantic's: fall through to the text
            pass
    return f"{type(exc).__name__}: {exc}"
