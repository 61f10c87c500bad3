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

from datetime import datetime
from typing import Any

from district import wgs84_to_gcj02
from producers.networks.adapt import FORMATS
from producers.networks.format import Format, NetworkEvent, derive_title
from producers.networks.maps import CategoryCode, NetworkMap, NetworkMaps
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
