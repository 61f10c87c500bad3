"""The open incidents a new report may be one more of (一事多报 candidates), kept per town and place.

The numbering agent owns a town's partition, so every report of a town
meets every open case of that town here. A case is filed under the
spatial cell of its first report's point and under its grid id; a report
looks in its own cell and the eight around it (and its grid), so every case
within merging distance is found without scanning the town. Entries are
dicts in a changelog-backed table, so merging works across workers and
restarts.

A case leaves when it is no longer open (:class:`~schemas.case_flow.CandidateGone`);
a transient event's case also leaves when no report of it came for a while
(by arrival, generously: a nightly import must still find last evening's
noise complaint).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from processors.lifecycle.decide import report_text
from routing.merge_rules import TRANSIENT, MergeRules
from routing.merging import Candidate, Incident, cell_of, neighbour_cells
from schemas.case_flow import UNKNOWN_TOWN, CaseOpening

#: a transient event's case is forgotten this long after its last report arrived (at least)
TRANSIENT_KEEP = timedelta(days=2)
#: the most cases one key holds: a flood of distinct reports in one cell cannot grow a value without bound
MAX_PER_KEY = 500

Table = MutableMapping[bytes, Any]


def incident_of(opening: CaseOpening) -> Incident | None:
    """The report as the merge sees it; None when it can never be merged (no town or place, or fixed on the spot)."""
    report = opening.report
    if report.handled_on_spot or opening.town == UNKNOWN_TOWN or (opening.lat is None and opening.grid_id is None):
        return None
    c = opening.classification
    return Incident(
        report_id=report.report_id,
        network=report.source.value,
        category=c.category.value,
        subcategory=c.subcategory,
        lat=opening.lat,
        lon=opening.lon,
        grid_id=opening.grid_id,
        occurred_at=report.occurred_at,
        text=report_text(report),
    )


def _home_keys(town: str, candidate: Candidate, rules: MergeRules) -> list[str]:
    """Where an open case is filed: under its category, its anchor's cell (the first point it got) and its grids."""
    keys = []
    anchor = candidate.anchor
    category = candidate.first.category
    if anchor.lat is not None and anchor.lon is not None:
        keys.append(f"{town}:{category}:cell:{cell_of(anchor.lat, anchor.lon, rules)}")
    for grid in dict.fromkeys(g for g in (candidate.first.grid_id, anchor.grid_id) if g):
        keys.append(f"{town}:{category}:grid:{grid}")
    return keys


def _search_keys(town: str, incident: Incident, rules: MergeRules) -> list[str]:
    """Where the cases a report may join are filed: the categories it may relate to, its cells around, its grid.

    Filing by category keeps a busy grid's list short: a street-light report
    never reads the grid's hundred open noise complaints.
    """
    keys = []
    for category in sorted(rules.related_categories(incident.category, incident.subcategory)):
        if incident.lat is not None and incident.lon is not None:
            keys += [f"{town}:{category}:cell:{cell}" for cell in neighbour_cells(incident.lat, incident.lon, rules)]
        if incident.grid_id:
            keys.append(f"{town}:{category}:grid:{incident.grid_id}")
    return keys


def _encode_incident(incident: Incident) -> dict[str, Any]:
    return {
        "report_id": str(incident.report_id), "network": incident.network, "category": incident.category,
        "subcategory": incident.subcategory, "lat": incident.lat, "lon": incident.lon, "grid_id": incident.grid_id,
        "occurred_at": incident.occurred_at.isoformat(), "text": incident.text,
    }  # fmt: skip


def _decode_incident(data: dict[str, Any]) -> Incident:
    return Incident(
        report_id=UUID(data["report_id"]), network=data["network"], category=data["category"],
        subcategory=data["subcategory"], lat=data["lat"], lon=data["lon"], grid_id=data["grid_id"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]), text=data["text"],
    )  # fmt: skip


def _encode(candidate: Candidate) -> dict[str, Any]:
    return {
        "case_id": str(candidate.case_id),
        "first": _encode_incident(candidate.first),
        "placed_by": _encode_incident(candidate.placed_by) if candidate.placed_by else None,
        "last_occurred_at": candidate.last_occurred_at.isoformat(),
        "reports": candidate.reports,
    }


#: decoded candidates by (case, version): a busy grid's cases are read for every report near them
_DECODED: dict[tuple[str, int, str], Candidate] = {}
_DECODED_MAX = 200_000


def _decoded(record: dict[str, Any]) -> Candidate:
    data = record["candidate"]
    version = (data["case_id"], int(data["reports"]), record["last_arrived_at"])
    found = _DECODED.get(version)
    if found is None:
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()  # a crude bound: it refills from the table as reports come
        found = _DECODED[version] = _decode(data)
    return found


def _decode(data: dict[str, Any]) -> Candidate:
    return Candidate(
        case_id=UUID(data["case_id"]),
        first=_decode_incident(data["first"]),
        last_occurred_at=datetime.fromisoformat(data["last_occurred_at"]),
        reports=int(data["reports"]),
        placed_by=_decode_incident(data["placed_by"]) if data.get("placed_by") else None,
    )


class CandidateStore:
    """Open cases by town and place, over a Faust table (or any dict, in tests).

    ``<town>:case:<id>`` holds the case as the merge remembers it (and where it
    is filed); ``<town>:<category>:cell:<cell>`` and ``<town>:<category>:grid:<grid>``
    list the ids of the cases filed there.
    """

    def __init__(self, table: Table, rules: MergeRules) -> None:
        self.table = table
        self.rules = rules

    def candidates(self, town: str, incident: Incident, now: datetime) -> list[Candidate]:
        """The open cases near ``incident`` (each once)."""
        found: dict[str, Candidate] = {}
        for key in _search_keys(town, incident, self.rules):
            for case_id in self.table.get(key.encode()) or []:
                record = self.table.get(f"{town}:case:{case_id}".encode())
                if case_id not in found and record is not None and not self._stale(record, now):
                    found[case_id] = _decoded(record)
        return list(found.values())

    def add(self, town: str, case_id: UUID, incident: Incident, now: datetime) -> None:
        """File the case ``case_id`` opened by ``incident``."""
        candidate = Candidate.opened(case_id, incident)
        kind = self.rules.kind(incident.category, incident.subcategory)
        self._file(town, candidate, kind, [], now)

    def joined(self, town: str, case_id: UUID, incident: Incident, now: datetime) -> None:
        """One more report of the case: its count, its latest time, perhaps the first point that places it."""
        record = self.table.get(f"{town}:case:{case_id}".encode())
        if record is None:
            return
        self._file(town, _decode(record["candidate"]).linked(incident), record["kind"], record["keys"], now)

    def forget(self, town: str, case_id: UUID) -> None:
        """The case is no longer open: no report joins it any more."""
        index = f"{town}:case:{case_id}".encode()
        record = self.table.get(index)
        for key in record["keys"] if record else []:
            self._unlist(key, str(case_id))
        if record is not None:
            del self.table[index]

    def _file(self, town: str, candidate: Candidate, kind: str, old_keys: list[str], now: datetime) -> None:
        keys = _home_keys(town, candidate, self.rules)
        case_id = str(candidate.case_id)
        for key in keys:
            if key not in old_keys:
                self._list(key, case_id, town, now)
        self.table[f"{town}:case:{case_id}".encode()] = {
            "candidate": _encode(candidate), "kind": kind, "keys": keys, "last_arrived_at": now.isoformat(),
        }  # fmt: skip

    def _list(self, key: str, case_id: str, town: str, now: datetime) -> None:
        # Drop the ids of cases gone stale (or forgotten) on the way, so a busy cell does not grow without bound.
        live = []
        for other in self.table.get(key.encode()) or []:
            index = f"{town}:case:{other}".encode()
            record = self.table.get(index)
            if record is not None and self._stale(record, now):
                self.forget(town, UUID(other))
            elif other != case_id and record is not None:
                live.append(other)
        self.table[key.encode()] = [*live, case_id][-MAX_PER_KEY:]

    def _unlist(self, key: str, case_id: str) -> None:
        self.table[key.encode()] = [c for c in self.table.get(key.encode()) or [] if c != case_id]

    def _stale(self, record: dict[str, Any], now: datetime) -> bool:
        if record.get("kind") != TRANSIENT:
            return False  # a persistent problem stays while its case is open
        window = max(TRANSIENT_KEEP, timedelta(minutes=4 * self.rules.transient_minutes))
        return now - datetime.fromisoformat(record["last_arrived_at"]) > window
