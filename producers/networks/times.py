"""The networks' time formats: each reads one kind of value into an aware UTC instant, and writes it back.

A time without an offset is Beijing time (Asia/Shanghai): that is what every
one of these systems shows its users and writes to its exports. Epoch
milliseconds are instants already. Whatever the format, a year outside
2000–2099 is refused — above all so that epoch *seconds* sent where
milliseconds belong (a 1970 date) are caught instead of filed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from producers.networks.errors import quote

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST: Final = datetime(2100, 1, 1, tzinfo=timezone.utc)
_MAX_CHARS: Final = 40  # longer than any time written in these formats
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]", re.ASCII)  # fromisoformat alone takes "20261125" too


class TimeFormat(Protocol):
    """How one network writes a time."""

    example: str  # shown in error messages: 应为 2026-11-25 08:40:00 这样的时间
    resolution: timedelta  # what the format keeps: a minute-format loses the seconds

    def parse(self, value: object) -> datetime:
        """The instant ``value`` names, in UTC; ValueError (Chinese message) if it names none."""
        ...

    def render(self, when: datetime) -> str | int:
        """``when`` (aware) as the network writes it."""
        ...


@dataclass(frozen=True)
class LocalText:
    """Beijing wall-clock time as text in one strftime pattern, e.g. ``2026-11-25 08:40:00``."""

    pattern: str
    shape: str  # regex (ASCII digits) the whole value must match: strptime alone accepts too much
    example: str
    resolution: timedelta

    def parse(self, value: object) -> datetime:
        """The instant, in UTC; a purely numeric format also takes a JSON number (20261125084000)."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not (isinstance(value, str) and len(value) <= _MAX_CHARS and re.fullmatch(self.shape, value.strip(), re.ASCII)):
            raise ValueError(f"应为 {self.example} 这样的时间（北京时间），收到 {quote(value)}")
        try:
            local = datetime.strptime(value.strip(), self.pattern)
        except ValueError:
            raise ValueError(f"不是有效的日期时间：{quote(value)}") from None
        return _checked(local.replace(tzinfo=SHANGHAI))

    def render(self, when: datetime) -> str:
        """``when`` as Beijing wall-clock text."""
        return when.astimezone(SHANGHAI).strftime(self.pattern)


@dataclass(frozen=True)
class EpochMillis:
    """Milliseconds since 1970-01-01 UTC, a JSON number or (in a CSV export) its digits."""

    example: str = "1795567200000"
    resolution: timedelta = timedelta(milliseconds=1)

    def parse(self, value: object) -> datetime:
        """The instant, in UTC."""
        millis: float
        if isinstance(value, bool):
            raise ValueError(f"应为毫秒时间戳（如 {self.example}），收到 {quote(value)}")
        if isinstance(value, (int, float)):
            millis = value
        elif isinstance(value, str) and re.fullmatch(r"\d{1,16}", value.strip(), re.ASCII):
            millis = int(value.strip())
        else:
            raise ValueError(f"应为毫秒时间戳（如 {self.example}），收到 {quote(value)}")
        # A plain range test: NaN and infinities fail it too, and a huge int needs no float conversion.
        if not (_ms(EARLIEST) <= millis < _ms(LATEST)):
            hint = "（看起来是秒而不是毫秒）" if 9e8 < millis < 5e9 else ""
            raise ValueError(f"毫秒时间戳 {quote(value)} 不在 2000–2099 年之间{hint}")
        return EARLIEST + timedelta(milliseconds=millis - _ms(EARLIEST))

    def render(self, when: datetime) -> int:
        """``when`` as whole milliseconds."""
        return round(when.timestamp() * 1000)


@dataclass(frozen=True)
class IsoText:
    """ISO 8601 text, ``2026-11-25T08:40:00+08:00``; without an offset it is Beijing time."""

    example: str = "2026-11-25T08:40:00+08:00"
    resolution: timedelta = timedelta(seconds=1)

    def parse(self, value: object) -> datetime:
        """The instant, in UTC."""
        if not isinstance(value, str) or len(value) > _MAX_CHARS or not _ISO_DATE.match(value.strip()):
            raise ValueError(f"应为 {self.example} 这样的 ISO 8601 时间，收到 {quote(value)}")
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"不是有效的 ISO 8601 时间：{quote(value)}") from None
        return _checked(when if when.tzinfo is not None else when.replace(tzinfo=SHANGHAI))

    def render(self, when: datetime) -> str:
        """``when`` in Beijing time with its +08:00 offset, to the second."""
        return when.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


LOCAL_SECONDS: Final = LocalText(
    "%Y-%m-%d %H:%M:%S", r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "2026-11-25 08:40:00", timedelta(seconds=1)
)
# Excel-made exports drop leading zeros (2026/1/5 8:40): the shape allows them.
SLASHED_MINUTES: Final = LocalText(
    "%Y/%m/%d %H:%M", r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", "2026/11/25 08:40", timedelta(minutes=1)
)
COMPACT_SECONDS: Final = LocalText("%Y%m%d%H%M%S", r"\d{14}", "20261125084000", timedelta(seconds=1))
EPOCH_MS: Final = EpochMillis()
ISO_8601: Final = IsoText()


def _checked(when: datetime) -> datetime:
    # The year is checked before converting: year 1 in +08:00 has no UTC (OverflowError).
    if not 2000 <= when.year <= 2099:
        raise ValueError(f"年份 {when.year} 不在 2000–2099 之间")
    return when.astimezone(timezone.utc)


def _ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)
