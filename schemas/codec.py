"""Faust codec that carries a pydantic model on a topic or in a table.

With it the model *is* the Faust record: an agent receives the validated
model instance, and a malformed message fails loudly at the boundary
instead of deep inside an agent.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from faust.serializers.codecs import Codec
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class ModelCodec(Codec, Generic[M]):
    """JSON bytes ⇄ one pydantic model class."""

    def __init__(self, model: type[M], **kwargs: Any) -> None:
        self.model = model
        super().__init__(model=model, **kwargs)

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, BaseModel):
            return obj.model_dump_json().encode("utf-8")
        return self.model.model_validate(obj).model_dump_json().encode("utf-8")

    def _loads(self, s: bytes) -> M:
        return self.model.model_validate_json(s)
