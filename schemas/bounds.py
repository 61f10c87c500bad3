"""What a client may send, bounded once: free text and times (issue 12, hostile input at the edge).

* :data:`SafeText` — free text (titles, descriptions, notes, reasons,
  addresses) with no control character other than ``\\n``, ``\\r`` and
  ``\\t`` (a 12345 summary has line breaks), no bidi override or isolate
  (U+202A–U+202E, U+2066–U+2069: they make a clerk's screen show a text
  other than the one stored) and no lone surrogate (it cannot be written as
  UTF-8, so the record could not reach Kafka). Lengths stay with each field.
* :func:`check_reported_time` — a time the reporter's device gives: no
  earlier than 2000-01-01 in Beijing time and no later than
  :data:`FUTURE_SLACK` after the server's clock. Old incidents are real (a
  nightly import, a caller describing last week), so the past is open back
  to 2000; a phone with a reset clock (1970) or one set years ahead is not.
  Every accepted time is therefore inside ClickHouse's ``DateTime``
  (1970–2106).
* :data:`QueryTime` — a period's end a client asks for (the audit trail):
  2000–2099, so arithmetic on it and the ClickHouse parameter cannot overflow.

Network adapters call :func:`forbidden_character` themselves, so that their
error names the network's own field rather than the unified one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
#: the earliest time a report may say it happened: 2000-01-01 00:00 Beijing time
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=SHANGHAI)
#: a query period may not end later than this (ClickHouse DateTime ends in 2106)
LATEST_QUERY: Final = datetime(2100, 1, 1, tzinfo=UTC)
#: how far ahead of the server's clock a device's time may be (clocks drift; minutes, not days)
FUTURE_SLACK: Final = timedelta(minutes=10)

# C0 controls but \t \n \r, DEL and the C1 controls; bidi embeddings/overrides and isolates; surrogates.
_FORBIDDEN: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def forbidden_character(text: str) -> tuple[int, str] | None:
    """(1-based position, ``U+XXXX``) of the first character free text may not hold, or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return found.start() + 1, f"U+{ord(found.group()):04X}"


def forbidden_message(position: int, char: str) -> str:
    """The Chinese message for a refused character (shared by the schema and the network adapters)."""
    return f"含有不允许的字符 {char}（第 {position} 个字符；控制字符和文字方向控制符不能使用）"


def _check_text(value: str) -> str:
    found = forbidden_character(value)
    if found is not None:
        position, char = found
        raise PydanticCustomError(
            "forbidden_character", forbidden_message(position, char), {"position": position, "character": char}
        )
    return value


#: free text as a person typed it; give lengths on the field (``Field(max_length=…)``)
SafeText = Annotated[str, AfterValidator(_check_text)]


def time_error(message: str) -> PydanticCustomError:
    """A time outside its bounds, as a validation error."""
    return PydanticCustomError("time_out_of_range", message)


def check_reported_time(when: datetime, now: datetime) -> None:
    """Raise unless ``when`` (aware) lies between 2000-01-01 (Beijing) and ``now`` + FUTURE_SLACK."""
    if when < EARLIEST:
        raise time_error("时间早于 2000-01-01，请检查设备时钟")
    if when > now + FUTURE_SLACK:
        minutes = int(FUTURE_SLACK.total_seconds() // 60)
        raise time_error(f"时间晚于服务器时间 {minutes} 分钟以上，请检查设备时钟")


def _check_query_time(value: datetime) -> datetime:
    # A naive time in a query is UTC, as the ClickHouse columns are.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST_QUERY:
        raise time_error("时间应在 2000 年至 2099 年之间")
    return aware


#: a period boundary a client asks for; always aware
QueryTime = Annotated[datetime, AfterValidator(_check_query_time)]
