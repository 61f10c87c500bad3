"""A network's event format, declared: which of its fields carries what, and how it writes time and place.

Each network module (``comprehensive``, ``urban``…) is one :class:`Format`.
``Format.read`` turns the network's fields into a :class:`NetworkEvent` —
the same things every network says, its codes not yet mapped — and
``Format.write`` is the inverse, used by the simulator. Declaring the
formats instead of writing five readers keeps the rules (what is absent,
how a title is made, which field a fault is blamed on) in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from producers.networks.errors import AdapterError
from producers.networks.fields import Fields
from producers.networks.points import Place
from producers.networks.times import TimeFormat
from schemas.report import PHONE, Point
from schemas.vocabulary import SourceNetwork

# The unified Report's limits (schemas.report.Report.title, .description): checked here
# first so that the error names the network's field, not the unified one.
TITLE_MAX: Final = 100
TEXT_MAX: Final = 4000
ADDRESS_MAX: Final = 200
DERIVED_TITLE_MAX: Final = 20
#: joins the parts of a code read from several fields (城管: 部件 or 事件, then the type code)
CODE_JOIN: Final = "/"

_LEAD_IN: Final = re.compile(r"^(来电人|来电|市民|群众|居民)?(来电)?(反映|称|诉求)[：:，,\s]*")
_CLAUSE_END: Final = re.compile(r"[。！？!?；;，,\n]")


@dataclass(frozen=True)
class NetworkEvent:
    """A network's event in neutral terms; codes are the network's own, unmapped."""

    event_id: str
    occurred_at: datetime
    text: str
    title: str | None = None
    grid_code: str | None = None
    category_code: str | None = None
    category_name: str | None = None  # the label the network writes beside its code (never read back)
    point: Point | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Format:
    """One network's fields. A field name of None means the network has no such field."""

    network: SourceNetwork
    name: str  # 综治网格: named in mapping notes
    event_id: str
    time: str
    clock: TimeFormat
    text: str
    title: str | None = None
    grid: str | None = None
    category: tuple[str, ...] = ()  # one field, or the fields whose values joined by CODE_JOIN make the code
    category_name: str | None = None
    place: Place | None = None
    phone: str | None = None
    address: str | None = None
    address_label: str = "地址"  # how the address is introduced when appended to the description
    constants: Mapping[str, Any] = field(default_factory=dict)  # fields the network always fills the same way

    @property
    def category_field(self) -> str:
        """The category code's field(s) as a mapping note names them: ``sjlx``, ``CASE_TYPE+SUB_TYPE_CODE``."""
        return "+".join(self.category)

    def read(self, fields: Fields) -> NetworkEvent:
        """The event these fields describe; AdapterError naming the first field that cannot be read."""
        event_id = fields.event_id(self.event_id)
        occurred_at = fields.time(self.time, self.clock)
        text = fields.text(self.text, max_chars=TEXT_MAX) or ""
        title = fields.text(self.title, max_chars=TITLE_MAX, required=False) if self.title else None
        address = fields.text(self.address, max_chars=ADDRESS_MAX, required=False) if self.address else None
        return NetworkEvent(
            event_id=event_id,
            occurred_at=occurred_at,
            text=text,
            title=title,
            grid_code=fields.code(self.grid) if self.grid else None,
            category_code=self._category_code(fields),
            point=self.place.read(fields) if self.place else None,
            phone=mobile_or_none(fields.raw(self.phone)) if self.phone else None,
            address=address,
        )

    def title_of(self, event: NetworkEvent) -> str:
        """The network's title, or a short one made from the text."""
        return event.title or derive_title(event.text)

    def description_of(self, event: NetworkEvent) -> str:
        """The text, with the address appended when the network gives one."""
        if not event.address:
            return event.text
        description = f"{event.text}（{self.address_label}：{event.address}）"
        if len(description) > TEXT_MAX:
            raise AdapterError(self.text, f"内容加上地址超过 {TEXT_MAX} 字")
        return description

    def blame(self, unified_field: str) -> str:
        """The network field that fed ``unified_field`` of the Report (the event id for anything else)."""
        fed_by = {
            "occurred_at": self.time,
            "description": self.text,
            "title": self.title or self.text,
            "grid_id": self.grid,
            "location": self.place.blame if self.place else None,
            "reporter_phone": self.phone,
            "category_hint": self.category[-1] if self.category else None,
            "severity_hint": self.category[-1] if self.category else None,
        }
        return fed_by.get(unified_field) or self.event_id

    def write(self, event: NetworkEvent) -> dict[str, Any]:
        """The event as this network sends it (JSON-typed values; None where it has nothing)."""
        out: dict[str, Any] = dict(self.constants)
        out[self.event_id] = event.event_id
        out[self.time] = self.clock.render(event.occurred_at)
        out[self.text] = event.text
        optional = {
            self.title: event.title,
            self.grid: event.grid_code,
            self.category_name: event.category_name,
            self.phone: event.phone,
            self.address: event.address,
        }
        out.update({name: value for name, value in optional.items() if name is not None})
        parts = event.category_code.split(CODE_JOIN, len(self.category) - 1) if event.category_code else []
        out.update({name: parts[i] if i < len(parts) else None for i, name in enumerate(self.category)})
        if self.place is not None:
            point = event.point
            out.update(self.place.write(point.lat, point.lon) if point else dict.fromkeys(self.place.names))
        return out

    def _category_code(self, fields: Fields) -> str | None:
        parts = [fields.code(name) for name in self.category]
        if all(part is None for part in parts):
            return None
        return CODE_JOIN.join(part or "" for part in parts)


def mobile_or_none(value: object) -> str | None:
    """A mainland mobile number (``13812341234``; spaces, dashes and +86 tolerated), or None.

    Anything else — a landline, a masked number, junk — is no call-back
    phone: the report is still made, without one.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12:
        value = str(value)
    if not isinstance(value, str) or len(value) > 20:
        return None
    digits = re.sub(r"[\s-]", "", value)
    digits = re.sub(r"^(\+?86)(?=1\d{10}$)", "", digits, flags=re.ASCII)
    return digits if re.fullmatch(PHONE, digits, re.ASCII) else None


def derive_title(text: str) -> str:
    """A short title from a text: its first clause without a hotline lead-in (来电人反映：), at most 20 characters."""
    body = _LEAD_IN.sub("", text).strip()
    if len(body) < 2:
        body = text
    first = _CLAUSE_END.split(body, 1)[0].strip()
    if len(first) < 2:
        first = body
    return first if len(first) <= DERIVED_TITLE_MAX else first[: DERIVED_TITLE_MAX - 1] + "…"
