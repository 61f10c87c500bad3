"""The numbering agent's store of open incidents: found where the merge needs them, gone when they close.

The evaluation set of :mod:`tests.routing.test_merge_eval` is replayed here
through the store itself, per town as the pipeline partitions the reports,
so the wiring is held to the same precision and recall as the rules.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from merge_scoring import pairwise

from district import load_registry
from processors.lifecycle.incidents import TRANSIENT_KEEP, CandidateStore
from producers.simulate.incidents import generate
from routing.merge_rules import load_merge_rules
from routing.merging import Incident, find_match

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
RULES = load_merge_rules()


def _incident(lat: float | None, lon: float | None, grid: str | None = "XL-02-03", sub: str = "manhole_cover",
              at: datetime = NOW) -> Incident:  # fmt: skip
    return Incident(uuid.uuid4(), "mobile", "URBAN", sub, lat, lon, grid, at, "井盖缺失")


def test_a_case_is_found_from_the_cells_around_and_by_its_grid() -> None:
    store = CandidateStore({}, RULES)
    case = uuid.uuid4()
    store.add("XL", case, _incident(22.70, 108.30), NOW)
    assert [c.case_id for c in store.candidates("XL", _incident(22.7008, 108.3008, grid=None), NOW)] == [case]
    assert [c.case_id for c in store.candidates("XL", _incident(None, None), NOW)] == [case]  # same grid
    assert store.candidates("XL", _incident(22.75, 108.30, grid=None), NOW) == []  # 5 km away
    assert store.candidates("DH", _incident(22.70, 108.30), NOW) == []  # another town's partition


def test_a_joined_report_counts_and_a_first_point_files_the_case_by_it() -> None:
    store = CandidateStore({}, RULES)
    case = uuid.uuid4()
    store.add("XL", case, _incident(None, None), NOW)
    assert store.candidates("XL", _incident(22.70, 108.30, grid=None), NOW) == []  # no point yet, another grid
    store.joined("XL", case, _incident(22.70, 108.30, at=NOW + timedelta(hours=1)), NOW)
    found = store.candidates("XL", _incident(22.7005, 108.3005, grid=None), NOW)
    assert [(c.case_id, c.reports, c.last_occurred_at) for c in found] == [(case, 2, NOW + timedelta(hours=1))]
    assert found[0].anchor.lat == 22.70


def test_a_closed_case_takes_no_more_reports() -> None:
    store = CandidateStore({}, RULES)
    case = uuid.uuid4()
    store.add("XL", case, _incident(22.70, 108.30), NOW)
    store.forget("XL", case)
    assert store.candidates("XL", _incident(22.70, 108.30), NOW) == []
    assert not any(key.startswith(b"XL:case:") for key in store.table)


def test_a_transient_event_is_forgotten_after_a_while_and_a_persistent_one_is_not() -> None:
    store = CandidateStore({}, RULES)
    noise, cover = uuid.uuid4(), uuid.uuid4()
    store.add("XL", noise, _incident(22.70, 108.30, sub="noise"), NOW)
    store.add("XL", cover, _incident(22.70, 108.30), NOW)
    later = NOW + TRANSIENT_KEEP + timedelta(hours=1)
    assert {c.case_id for c in store.candidates("XL", _incident(22.70, 108.30), later)} == {cover}
    store.add("XL", uuid.uuid4(), _incident(22.70, 108.30), later)  # filing another there drops the stale id
    cell_lists = [v for k, v in store.table.items() if b":cell:" in k]
    assert all(str(noise) not in ids for ids in cell_lists)


@pytest.mark.parametrize("seed", [1])
def test_the_evaluation_set_through_the_store_per_town(seed: int) -> None:
    """Every report as the numbering agent sees it: its town's store, the open cases there, the rules."""
    registry = load_registry()
    reports = generate(seed, 1000)
    store = CandidateStore({}, RULES)
    assigned: dict[uuid.UUID, uuid.UUID] = {}
    closing: list[tuple[datetime, str, uuid.UUID]] = []
    for generated in reports:
        for entry in [c for c in closing if c[0] <= generated.received_at]:
            store.forget(entry[1], entry[2])
            closing.remove(entry)
        incident = generated.incident()
        grid = registry.grid(incident.grid_id) if incident.grid_id else None
        if grid is None and incident.lat is not None and incident.lon is not None:
            grid = registry.locate(incident.lat, incident.lon)
        case_id = uuid.uuid5(uuid.NAMESPACE_URL, f"case:{incident.report_id}")
        if grid is None:  # no town: never merged
            assigned[incident.report_id] = case_id
            continue
        town = grid.town_code
        match = find_match(incident, store.candidates(town, incident, generated.received_at), RULES)
        if match is not None:
            store.joined(town, match.case_id, incident, generated.received_at)
            assigned[incident.report_id] = match.case_id
        else:
            store.add(town, case_id, incident, generated.received_at)
            assigned[incident.report_id] = case_id
            if generated.case_closes_at is not None:
                closing.append((generated.case_closes_at, town, case_id))
    scores = pairwise(reports, assigned)
    print(f"seed {seed} through the store: {scores}")
    assert scores.precision >= 0.95 and scores.recall >= 0.95, scores


def test_filing_by_category_misses_no_case_the_rules_would_relate() -> None:
    """related_categories() must hold every category relation() accepts, or the store would hide a match."""
    from routing import load_taxonomy

    taxonomy = load_taxonomy()
    codes = [(c.code, None) for c in taxonomy.categories.values()] + [
        (c.code, sub) for c in taxonomy.categories.values() for sub in c.subcategories
    ]
    missed = []
    for a_cat, a_sub in codes:
        near = RULES.related_categories(a_cat, a_sub)
        a = Incident(uuid.uuid4(), "mobile", a_cat, a_sub, None, None, "XL-02-03", NOW, "")
        for b_cat, b_sub in codes:
            b = Incident(uuid.uuid4(), "mobile", b_cat, b_sub, None, None, "XL-02-03", NOW, "")
            if RULES.relation(a, b) is not None and b_cat not in near:
                missed.append((a_cat, a_sub, b_cat, b_sub))
    assert missed == []
    assert RULES.related_categories("URBAN", "road_damage") > {"URBAN"}  # the groups reach across categories
