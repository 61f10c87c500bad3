"""The former networks, simulated: a unified grid, category and time written as one network's own event.

:func:`payload_for` is the inverse of :func:`producers.networks.adapt.adapt`
for the demo and the integration tests::

    adapt(network, payload_for(network, grid_id="XL-02-03", category="URBAN", ...), maps)

gives back the same grid, category (and subcategory, when the network has a
code for it) and time, to the precision of the network's time format (环保's
``2026/11/25 08:40`` keeps no seconds). The grid and category codes are the
table's, reversed; a point is written in the network's datum (GCJ-02 for
城管 and 12345, converted from the WGS-84 given).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from district import gcj02_to_wgs84, wgs84_to_gcj02
from producers.networks.adapt import FORMATS, report_id_for
from producers.networks.format import Format, NetworkEvent, derive_title
from producers.networks.maps import CategoryCode, NetworkMap, NetworkMaps
from producers.simulate.texts import SimulatedReport
from schemas.report import Point
from schemas.vocabulary import Category, Datum, SourceNetwork

#: how a network's people put what the reporter said (a 12345 call-taker writes "来电人反映：…")
_LEAD_INS: dict[SourceNetwork, str] = {SourceNetwork.HOTLINE: "来电人反映："}


def payload_for(
    network: SourceNetwork,
    *,
    event_id: str,
    grid_id: str | None,
    lat: float | None,
    lon: float | None,
    category: str,
    subcategory: str | None,
    text: str,
    occurred_at: datetime,
    phone: str | None,
    maps: NetworkMaps,
) -> dict[str, Any]:
    """One event in ``network``'s own format (JSON-typed values); ``lat``/``lon`` are WGS-84, ``occurred_at`` aware.

    A category the network has no code for is sent without one (the
    classifier will decide); a grid missing from its table is a ValueError:
    every network's table covers the whole district.
    """
    fmt = FORMATS[network]
    table = maps[network]
    code = category_code_for(table, Category(category), subcategory)
    lead_in = _LEAD_INS.get(network, "")
    event = NetworkEvent(
        event_id=event_id,
        occurred_at=occurred_at,
        text=text if text.startswith(lead_in) else lead_in + text,
        title=derive_title(text) if fmt.title else None,
        grid_code=grid_code_for(table, grid_id) if grid_id and fmt.grid else None,
        category_code=code.code if code else None,
        category_name=code.name if code else None,
        point=_point(fmt, lat, lon),
        phone=phone if fmt.phone else None,
    )
    return fmt.write(event)


def grid_code_for(table: NetworkMap, grid_id: str) -> str:
    """The network's code for a unified grid: the first in the table; ValueError if it has none."""
    for code, mapped in table.grids.items():
        if mapped == grid_id:
            return code
    raise ValueError(f"{table.file} has no code for grid {grid_id}")


def category_code_for(table: NetworkMap, category: Category, subcategory: str | None) -> CategoryCode | None:
    """The first code of the table for this category and subcategory, else for the category alone, else None."""
    same_category = [c for c in table.categories.values() if c.category is category]
    exact = [c for c in same_category if subcategory is not None and c.subcategory == subcategory]
    loose = [c for c in same_category if c.subcategory is None]
    return (exact or loose or [None])[0]


def _point(fmt: Format, lat: float | None, lon: float | None) -> Point | None:
    if fmt.place is None or lat is None or lon is None:
        return None
    if fmt.place.datum is Datum.GCJ02:
        lat, lon = wgs84_to_gcj02(lat, lon)
    return Point(lat=lat, lon=lon, datum=fmt.place.datum)


#: about one network event in this many carries a category code its table lacks (as real feeds do)
UNKNOWN_CODE_EVERY = 40
#: how each network writes its event ids (a prefix, then digits of the report's own id)
_ID_PREFIX: dict[SourceNetwork, str] = {
    SourceNetwork.COMPREHENSIVE: "ZZ", SourceNetwork.URBAN: "", SourceNetwork.EMERGENCY: "YJ",
    SourceNetwork.ENVIRONMENT: "HB", SourceNetwork.HOTLINE: "GD",
}  # fmt: skip


def as_network_event(report: SimulatedReport, maps: NetworkMaps) -> tuple[SimulatedReport, dict[str, Any]]:
    """A simulated unified report as its network's own event: the report (its id now the event's) and the payload."""
    body = report.body
    network = report.source
    event_id = _ID_PREFIX[network] + str(uuid.UUID(str(body["report_id"])).int)[:14]
    lat = lon = None
    if body.get("location"):
        point = body["location"]
        lat, lon = float(point["lat"]), float(point["lon"])
        if point.get("datum") == Datum.GCJ02.value:
            lat, lon = gcj02_to_wgs84(lat, lon)
    text = body["description"] if body["description"].startswith(body["title"]) else f"{body['title']}。{body['description']}"
    payload = payload_for(
        network, event_id=event_id, grid_id=body.get("grid_id") or (report.grid_id if lat is None else None),
        lat=lat, lon=lon, category=report.category.value, subcategory=None, text=text,
        occurred_at=datetime.fromisoformat(body["occurred_at"]), phone=body.get("reporter_phone"), maps=maps,
    )  # fmt: skip
    if int(event_id[-6:]) % UNKNOWN_CODE_EVERY == 0:
        # Now and then a code the network's table does not know (a new 事件 type, a renumbered grid):
        # the event still comes in, and waits for manual triage.
        payload[FORMATS[network].category[-1]] = "9999"
    as_event = replace(report, body={**body, "report_id": str(report_id_for(network, event_id))})
    return as_event, payload


def export_csv(events: list[dict[str, Any]], extra_lines: Sequence[str] = ()) -> str:
    """Events as a network's nightly export writes them: a header of its field names, a row each (empty = none)."""
    header = list(dict.fromkeys(k for event in events for k in event))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for event in events:
        writer.writerow(["" if event.get(k) is None else event[k] for k in header])
    return out.getvalue() + "".join(line + "\n" for line in extra_lines)
