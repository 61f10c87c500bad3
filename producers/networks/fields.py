"""One event's values by the network's own field names, read alike from a JSON push and a CSV row.

A push carries typed JSON values (``1795567200000``, ``108.31``); a nightly
export carries every value as a string (``"1795567200000"``, ``"108.31"``)
and writes an absent value as the empty string. :class:`Fields` hides the
difference: ``None``, ``""`` and blanks are absent, and numbers and codes
are accepted in either form. Every fault is an :class:`AdapterError` naming
the field, whatever the value was (a nested object, a megabyte of text).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from producers.networks.errors import WHOLE_EVENT, AdapterError, quote
from producers.networks.times import TimeFormat
from schemas.bounds import forbidden_character, forbidden_message

#: the event as UTF-8 JSON may not be larger: it travels whole with the report (Kafka, ClickHouse)
MAX_EVENT_BYTES: Final = 64_000
#: lists and objects may nest no deeper in a value: the networks send flat events, and the records that
#: carry the payload on (AcceptedReport, Case…) add levels of their own, where pydantic stops at about 250
MAX_NESTING: Final = 16
_NUMBER: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
_EVENT_ID: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.:/-]{0,63}")


def as_number(value: object) -> float | None:
    """``value`` (a JSON number or its decimal text) as a finite float, or None if it is none."""
    if isinstance(value, str):
        text = value.strip()
        return float(text) if len(text) <= 32 and _NUMBER.fullmatch(text) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Compared before converting: float() of a 400-digit int raises OverflowError.
        return float(value) if abs(value) < 1e300 and math.isfinite(value) else None
    return None


class Fields:
    """Typed access to one event's fields; build it with :meth:`of`."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    @classmethod
    def of(cls, payload: object) -> "Fields":
        """The fields of ``payload``; AdapterError unless it is a JSON object of reasonable size and depth."""
        if not isinstance(payload, Mapping):
            raise AdapterError(WHOLE_EVENT, f"事件应为一个对象（JSON 对象或 CSV 的一行），收到 {quote(payload)}")
        sizes: dict[str, int] = {}
        for key, value in payload.items():
            if not isinstance(key, str):
                raise AdapterError(quote(key), "字段名应为文本")
            try:
                # The payload travels on as UTF-8 JSON: NaN (allow_nan=False) and a lone
                # surrogate ("\ud800", which json.loads accepts; encode() refuses) are not.
                text = json.dumps({key: value}, ensure_ascii=False, allow_nan=False)
                sizes[key] = len(text.encode("utf-8"))
            except (TypeError, ValueError, RecursionError):
                raise AdapterError(_name(key), f"不是有效的 JSON 值：{quote(value)}") from None
            if _nesting(value) > MAX_NESTING:
                raise AdapterError(_name(key), f"嵌套过深（列表或对象超过 {MAX_NESTING} 层）")
        if sum(sizes.values()) > MAX_EVENT_BYTES:
            biggest = max(sizes, key=sizes.__getitem__)
            raise AdapterError(_name(biggest), f"事件过大（超过 {MAX_EVENT_BYTES} 字节），最大的字段是 {_name(biggest)}")
        return cls(payload)

    def raw(self, name: str) -> Any:
        """The value of ``name``, or None when absent, null or blank."""
        value = self._values.get(name)
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def text(self, name: str, *, max_chars: int, required: bool = True, min_chars: int = 2) -> str | None:
        """``name`` as stripped text of ``min_chars``–``max_chars`` characters; None if absent and optional."""
        value = self.raw(name)
        if value is None:
            if required:
                raise AdapterError(name, "缺少必填内容")
            return None
        if not isinstance(value, str):
            raise AdapterError(name, f"应为文本，收到 {quote(value)}")
        value = value.strip()
        if len(value) < min_chars:
            raise AdapterError(name, f"内容过短（至少 {min_chars} 个字）：{quote(value)}")
        if len(value) > max_chars:
            raise AdapterError(name, f"内容过长（{len(value)} 字，最多 {max_chars} 字）")
        _refuse_forbidden(name, value)
        return value

    def event_id(self, name: str) -> str:
        """The network's event id: letters, digits and ``_.:/-``, at most 64; a JSON integer is taken as its digits."""
        value = self.raw(name)
        if value is None:
            raise AdapterError(name, "缺少事件编号")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not _EVENT_ID.fullmatch(value.strip()):
            raise AdapterError(name, f"事件编号应为 1–64 位字母、数字或 _.:/-，收到 {quote(value)}")
        return value.strip()

    def code(self, name: str) -> str | None:
        """A code to look up (grid, category): text or a JSON integer; None if absent.

        Any text is returned, however odd: it maps to nothing and is noted,
        so an odd code never loses the event. Only a value that is no code
        at all (an object, a list, true, a 60-digit number) is an error.
        """
        value = self.raw(name)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**20:
            return str(value)
        if value is None:
            return None
        if isinstance(value, str):
            # An odd code is noted in the report's mapping note: it must be text a note may hold.
            _refuse_forbidden(name, value)
            return value.strip()
        raise AdapterError(name, f"编码应为文本或整数，收到 {quote(value)}")

    def number(self, name: str) -> float | None:
        """A decimal number, typed or as text; None if absent. NaN and infinities are refused."""
        value = self.raw(name)
        if value is None:
            return None
        number = as_number(value)
        if number is None:
            raise AdapterError(name, f"应为数字，收到 {quote(value)}")
        return number

    def time(self, name: str, clock: TimeFormat) -> datetime:
        """``name`` read by the network's time format, as an aware UTC datetime."""
        value = self.raw(name)
        if value is None:
            raise AdapterError(name, f"缺少时间（应为 {clock.example} 这样的时间）")
        try:
            return clock.parse(value)
        except ValueError as exc:
            raise AdapterError(name, str(exc)) from None


def _nesting(value: object) -> int:
    """How many levels of lists and objects ``value`` has (0 for a scalar); counting stops past MAX_NESTING."""
    depth, level = 0, [value]
    while depth <= MAX_NESTING:
        containers = [v for v in level if isinstance(v, (list, dict))]
        if not containers:
            break
        depth += 1
        level = [item for v in containers for item in (v.values() if isinstance(v, dict) else v)]
    return depth


def _refuse_forbidden(name: str, value: str) -> None:
    """AdapterError naming ``name`` if ``value`` holds a character free text may not (schemas.bounds)."""
    found = forbidden_character(value)
    if found is not None:
        raise AdapterError(name, forbidden_message(*found))


def _name(key: str) -> str:
    """A field name as an error may carry it: itself, unless it is junk (megabytes, a lone surrogate)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return quote(key)
    return key if len(key) <= 64 else quote(key)
