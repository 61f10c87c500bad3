"""ClickHouse columns and rows, derived from the record definitions.

The DDL itself is hand-written in ``schemas/migrations`` (a migration is a
decision, not a derivation); ``columns()`` is what those tables must hold,
and ``row()`` turns a record into the values an insert sends. Both follow the
same rules:

* a nested model is flattened (``location`` → ``location_lat`` …);
* an optional field is ``Nullable``; enums and literals are their ``String`` value;
* a personal field is stored masked, under ``<name>_masked``; phones typed into free text
  (``pii.FREE_TEXT``: titles, descriptions, an event's notes and reasons) are masked in place;
* datetimes are ``DateTime`` in UTC (the Debian 18.16 server has no DateTime64);
* a free-form dict is a JSON ``String``.

Only types both the 18.16 server and chdb know are produced.
"""

from __future__ import annotations

import json
import types
import typing
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Union
from uuid import UUID

from pydantic import BaseModel

from schemas.pii import (
    FREE_TEXT,
    MASKERS,
    mask_free_text,
    mask_phones_in_text,
    personal_fields,
)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) for ``X | None`` and ``Annotated[X, …]``."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        inner, _ = _unwrap(args[0])
        return inner, optional
    return annotation, optional


def _non_negative(info: Any) -> bool:
    return any(getattr(m, "ge", None) is not None and m.ge >= 0 for m in getattr(info, "metadata", ()))


def _scalar_type(tp: Any, unsigned: bool = False) -> str:
    if (isinstance(tp, type) and issubclass(tp, Enum)) or typing.get_origin(tp) is typing.Literal:
        return "String"
    if tp is bool:
        return "UInt8"
    if tp is int:
        # Unsigned where the record says so: a version column must be UInt*.
        return "UInt64" if unsigned else "Int64"
    if tp is float:
        return "Float64"
    if tp is str:
        return "String"
    if tp is UUID:
        return "UUID"
    if tp is datetime or getattr(tp, "__name__", "") == "AwareDatetime":
        return "DateTime('UTC')"
    if typing.get_origin(tp) is dict or tp is dict:
        return "String"
    raise TypeError(f"no ClickHouse type for {tp!r}")


def columns(model: type[BaseModel]) -> list[tuple[str, str]]:
    """(column, ClickHouse type) for every field of ``model``, in order."""
    pii = personal_fields(model)
    out: list[tuple[str, str]] = []
    for name, info in model.model_fields.items():
        tp, optional = _unwrap(info.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for sub, sub_type in columns(tp):
                out.append((f"{name}_{sub}", f"Nullable({sub_type})" if optional else sub_type))
            continue
        if typing.get_origin(tp) is list:
            inner, _ = _unwrap(typing.get_args(tp)[0])
            out.append((name, f"Array({_scalar_type(inner)})"))
            continue
        ch = _scalar_type(tp, unsigned=_non_negative(info))
        if name in pii:
            out.append((f"{name}_masked", "String"))
        else:
            out.append((name, f"Nullable({ch})" if optional else ch))
    return out


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        # clickhouse-driver sends naive datetimes as they are: make them UTC.
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


class Table(typing.NamedTuple):
    """A ClickHouse table that holds one record type."""

    name: str
    model: type[BaseModel]
    extra: tuple[tuple[str, str], ...] = ()

    def columns(self) -> list[tuple[str, str]]:
        """The columns the table's migration must create, in order."""
        return columns(self.model) + list(self.extra)


def row(record: BaseModel, **extra: Any) -> dict[str, Any]:
    """The insert values of ``record``, personal fields masked; ``extra`` adds columns."""
    model = type(record)
    pii = personal_fields(model)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = getattr(record, name)
        tp, _ = _unwrap(info.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for sub in tp.model_fields:
                out[f"{name}_{sub}"] = None if value is None else _value(getattr(value, sub))
        elif name in pii:
            out[f"{name}_masked"] = MASKERS[pii[name]](value)
        elif name in FREE_TEXT and isinstance(value, str):
            out[name] = mask_phones_in_text(value)
        else:
            out[name] = _value(mask_free_text(value) if isinstance(value, dict) else value)
    out.update(extra)
    return out
