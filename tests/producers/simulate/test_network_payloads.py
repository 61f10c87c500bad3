"""producers.simulate.networks.payload_for, the simulator's inverse of the adapter: adapt(payload_for(...)) round-trips.

(It lives here rather than under tests/producers/simulate/ because it tests
the pair: a network's format written and read back.)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from district import gcj02_to_wgs84, load_registry
from producers.networks.adapt import FORMATS, adapt, load_maps
from producers.networks.maps import NetworkMaps
from producers.simulate.networks import category_code_for, payload_for
from schemas.vocabulary import Category, Datum, SourceNetwork

WHEN = datetime(2026, 11, 25, 8, 40, 17, tzinfo=timezone(timedelta(hours=8)))
TEXT = "石门村村口两盏路灯坏了三天，晚上看不清路。"


@pytest.fixture(scope="module")
def maps() -> NetworkMaps:
    return load_maps()


@pytest.mark.parametrize("network", list(FORMATS), ids=lambda n: n.value)
def test_every_grid_and_category_code_round_trips(network: SourceNetwork, maps: NetworkMaps) -> None:
    fmt, table = FORMATS[network], maps[network]
    grids = load_registry().grids
    pairs = sorted({(c.category, c.subcategory) for c in table.categories.values()}, key=str)
    for n in range(max(len(grids), len(pairs))):  # every grid and every (category, subcategory) at least once
        grid, (category, subcategory) = grids[n % len(grids)], pairs[n % len(pairs)]
        lat, lon = grid.centroid
        when = WHEN + timedelta(hours=n, seconds=n)
        payload = payload_for(
            network,
            event_id=f"SIM-{n:04d}",
            grid_id=grid.grid_id,
            lat=lat,
            lon=lon,
            category=category.value,
            subcategory=subcategory,
            text=TEXT,
            occurred_at=when,
            phone="13812341234",
            maps=maps,
        )
        adapted = adapt(network, payload, maps)
        report = adapted.report
        assert (report.grid_id, report.category_hint, adapted.origin.subcategory_hint) == (
            grid.grid_id,
            category,
            subcategory,
        )
        assert timedelta(0) <= when - report.occurred_at < fmt.clock.resolution
        assert adapted.origin.event_id == f"SIM-{n:04d}" and adapted.origin.mapping_note is None
        assert report.reporter_phone == ("13812341234" if fmt.phone else None)
        assert report.location is not None and fmt.place is not None
        assert report.location.datum is fmt.place.datum
        back = report.location.lat, report.location.lon
        if report.location.datum is Datum.GCJ02:
            back = gcj02_to_wgs84(*back)
        assert back == pytest.approx((lat, lon), abs=2e-6)


def test_the_payload_is_in_the_networks_own_words(maps: NetworkMaps) -> None:
    common = dict(event_id="GD1", lat=None, lon=None, text=TEXT, occurred_at=WHEN, phone=None, maps=maps)
    call = payload_for(SourceNetwork.HOTLINE, grid_id=None, category="URBAN", subcategory="street_light", **common)
    assert call["summary"].startswith("来电人反映：") and call["call_time"] == "20261125084017"
    assert (call["appeal_type"], call["appeal_type_name"]) == ("0302", "城乡建设/市政设施/路灯")
    assert call["area_path"] is None and call["gcj_lat"] is None
    case = payload_for(SourceNetwork.URBAN, grid_id="XL-02-03", category="URBAN", subcategory="manhole_cover", **common)
    assert (case["CASE_TYPE"], case["SUB_TYPE_CODE"], case["CELL_CODE"]) == ("部件", "0101", "CG-XL-0203")
    assert isinstance(case["DISCOVER_TIME"], int) and "SUB_TYPE_NAME" in case


def test_a_category_without_its_subcategory_falls_back_to_the_category_code(maps: NetworkMaps) -> None:
    table = maps[SourceNetwork.COMPREHENSIVE]
    code = category_code_for(table, Category.URBAN, "street_light")
    assert code is not None and (code.code, code.subcategory) == ("QT01", None)
    assert category_code_for(maps[SourceNetwork.EMERGENCY], Category.DISPUTE, "wages") is None


def test_a_category_the_network_has_no_code_for_is_sent_without_one(maps: NetworkMaps) -> None:
    payload = payload_for(
        SourceNetwork.EMERGENCY, event_id="YJ1", grid_id="XL-02-03", lat=None, lon=None, category="DISPUTE",
        subcategory="wages", text=TEXT, occurred_at=WHEN, phone=None, maps=maps,
    )  # fmt: skip
    adapted = adapt(SourceNetwork.EMERGENCY, payload, maps)
    assert adapted.report.category_hint is None and adapted.origin.mapping_note is None
    assert adapted.report.grid_id == "XL-02-03"


def test_a_grid_outside_the_table_is_a_value_error(maps: NetworkMaps) -> None:
    with pytest.raises(ValueError, match="no code for grid"):
        payload_for(
            SourceNetwork.URBAN, event_id="1", grid_id="XX-99-99", lat=None, lon=None, category="URBAN",
            subcategory=None, text=TEXT, occurred_at=WHEN, phone=None, maps=maps,
        )  # fmt: skip


def test_the_simulators_network_reports_become_their_networks_events(maps: NetworkMaps) -> None:
    """What the demo pushes: every simulated report of another network, in that network's own format."""
    from producers.simulate.networks import as_network_event
    from producers.simulate.texts import generate as simulate

    converted = 0
    for report in simulate(400, seed=5):
        if report.source is SourceNetwork.MOBILE:
            continue
        as_event, payload = as_network_event(report, maps)
        adapted = adapt(report.source, payload, maps)
        assert str(adapted.report.report_id) == as_event.report_id
        assert adapted.report.source is report.source
        assert adapted.report.occurred_at.replace(second=0) == datetime.fromisoformat(
            report.body["occurred_at"]
        ).replace(second=0, microsecond=0)
        if adapted.report.category_hint is not None:
            assert adapted.report.category_hint is report.category
        converted += 1
    assert converted >= 50
