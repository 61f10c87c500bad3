"""The entry point: a network's event, as pushed (JSON) or exported (a CSV row), → gridflow's unified report.

    >>> from producers.networks.adapt import adapt, load_maps
    >>> from schemas.vocabulary import SourceNetwork
    >>> adapted = adapt(SourceNetwork.URBAN, {
    ...     "TASK_NUM": "2611250042", "CELL_CODE": "CG-XL-0203", "CASE_TYPE": "部件",
    ...     "SUB_TYPE_CODE": "0103", "EVENT_DESC": "井盖缺失", "DISCOVER_TIME": "1795567200000"}, load_maps())
    >>> adapted.report.grid_id, adapted.report.category_hint.value, adapted.origin.subcategory_hint
    ('XL-02-03', 'URBAN', 'manhole_cover')

An event the adapter cannot read (no id, no time, a coordinate that is no
number, a text too short) is refused with :class:`AdapterError` naming the
network's own field. An event whose grid or category code is not in the
table is NOT refused: the report is made without that grid or category,
``origin.mapping_note`` says which code did not map, and the case waits in
manual triage — losing a citizen's report over a table's gap is worse.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from producers.networks import (
    comprehensive,
    emergency,
    environment,
    hotline12345,
    urban,
)
from producers.networks.errors import WHOLE_EVENT, AdapterError
from producers.networks.fields import Fields
from producers.networks.format import Format, NetworkEvent
from producers.networks.maps import CategoryCode, NetworkMap, NetworkMaps, load_maps
from schemas.report import NetworkOrigin, Report
from schemas.vocabulary import SourceNetwork

__all__ = ["FORMATS", "Adapted", "AdapterError", "NetworkMaps", "adapt", "load_maps", "report_id_for"]

FORMATS: Final[Mapping[SourceNetwork, Format]] = {
    f.network: f
    for f in (comprehensive.FORMAT, urban.FORMAT, emergency.FORMAT, environment.FORMAT, hotline12345.FORMAT)
}
# Fixed for ever: a report id derived with another namespace would make every
# resent event a new report (and a new case).
REPORT_ID_NAMESPACE: Final = uuid.UUID("6f1d3c9e-2b7a-5e40-9c1f-7a8b2d4e6f10")
_NOTE_CODE_CHARS: Final = 40

Model = TypeVar("Model", Report, NetworkOrigin)


@dataclass(frozen=True)
class Adapted:
    """A network's event as gridflow takes it: the unified report and what the network added."""

    report: Report  # report.source is the network; report.report_id is report_id_for(network, event id)
    origin: NetworkOrigin  # the network's event id, subcategory hint, mapping note and the payload as received


def report_id_for(network: SourceNetwork, event_id: str) -> uuid.UUID:
    """The report id of a network's event: the same event, pushed or exported, resent or not, is one report."""
    return uuid.uuid5(REPORT_ID_NAMESPACE, f"{network.value}:{event_id}")


def adapt(network: SourceNetwork, payload: Mapping[str, Any], maps: NetworkMaps) -> Adapted:
    """The unified report of one event in ``network``'s own format; AdapterError if it cannot be read."""
    fmt = FORMATS.get(network)
    if fmt is None:
        raise AdapterError(WHOLE_EVENT, f"{getattr(network, 'value', network)!r} 不是可接入的网格网络")
    event = fmt.read(Fields.of(payload))
    table = maps[network]
    grid_id, grid_note = _grid(fmt, table, event.grid_code)
    code, code_note = _category(fmt, table, event.category_code)
    report = _unified(fmt, lambda: _report(fmt, event, grid_id, code))
    origin = _unified(
        fmt,
        lambda: NetworkOrigin(
            event_id=event.event_id,
            subcategory_hint=code.subcategory if code else None,
            mapping_note="；".join(note for note in (grid_note, code_note) if note) or None,
            payload=dict(payload),
        ),
    )
    return Adapted(report=report, origin=origin)


def _report(fmt: Format, event: NetworkEvent, grid_id: str | None, code: CategoryCode | None) -> Report:
    return Report(
        report_id=report_id_for(fmt.network, event.event_id),
        source=fmt.network,
        grid_id=grid_id,
        location=event.point,
        reporter_phone=event.phone,
        category_hint=code.category if code else None,
        title=fmt.title_of(event),
        description=fmt.description_of(event),
        severity_hint=code.severity if code else None,
        occurred_at=event.occurred_at,
    )


def _grid(fmt: Format, table: NetworkMap, code: str | None) -> tuple[str | None, str | None]:
    if code is None or fmt.grid is None:
        return None, None
    grid_id = table.grids.get(code)
    return grid_id, None if grid_id else f"未知的网格编码 {fmt.grid}={_short(code)} ({fmt.name})"


def _category(fmt: Format, table: NetworkMap, code: str | None) -> tuple[CategoryCode | None, str | None]:
    if code is None:
        return None, None
    found = table.categories.get(code)
    return found, None if found else f"未知的类别编码 {fmt.category_field}={_short(code)} ({fmt.name})"


def _unified(fmt: Format, build: Callable[[], Model]) -> Model:
    """``build()``, its ValidationError turned into an AdapterError naming the network field that fed it."""
    try:
        return build()
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": str(exc)}
        unified = str(first["loc"][0]) if first["loc"] else ""
        raise AdapterError(fmt.blame(unified), f"无法转换为统一上报（{unified}）：{first['msg']}") from None


def _short(code: str) -> str:
    return code if len(code) <= _NOTE_CODE_CHARS else code[: _NOTE_CODE_CHARS - 3] + "..."
