"""The district simulator: its reports (valid, varied, placed, seeded) and its driver's counting and retries.

Pure unit tests: the driver talks to an ``httpx.MockTransport`` that plays the intake.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from district import gcj02_to_wgs84, load_registry
from infra.settings import Settings
from producers.simulate import ReportGenerator, generate, run_simulation
from producers.simulate.driver import Simulation, Tokens
from producers.simulate.scenarios import SCENARIOS
from schemas.report import Report
from schemas.vocabulary import Category, Severity, SourceNetwork

NOW = datetime(2026, 11, 25, 2, 30, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def reports() -> list:
    return generate(2000, seed=20261125, clock=fixed_clock)


# -- the generator ------------------------------------------------------------------------


def test_every_report_validates_against_the_wire_schema(reports: list) -> None:
    for r in reports:
        report = Report.model_validate(r.body)
        assert str(report.report_id) == r.report_id
        assert json.loads(json.dumps(r.body, ensure_ascii=False)) == r.body  # JSON-ready as is


def test_all_thirteen_categories_appear_with_realistic_shares(reports: list) -> None:
    counts = Counter(r.category for r in reports)
    assert set(counts) == set(Category)
    top_two = {c for c, _ in counts.most_common(2)}
    assert top_two == {Category.URBAN, Category.DISPUTE}
    p1 = sum(r.severity is Severity.P1 for r in reports) / len(reports)
    assert 0.015 <= p1 <= 0.05


def test_every_subcategory_of_the_taxonomy_is_a_scenario() -> None:
    subs = {s.sub for s in SCENARIOS}
    assert len(subs) == len(SCENARIOS)
    for category in Category:
        assert sum(s.category is category for s in SCENARIOS) >= 3 or category is Category.FOOD_DRUG
    # spot-check DESIGN.md's examples
    for sub in ("urban.manhole", "urban.waterlogging", "dispute.wages", "dispute.property", "safety.ebike",
                "environment.sand_mining", "special.left_behind", "petition.collective", "cyber.rumour",
                "disaster.landslide", "livelihood.schooling", "security.fundraising", "health.wildlife"):
        assert sub in subs


def test_places_grid_or_point_inside_its_grid(reports: list) -> None:
    registry = load_registry()
    points = [r for r in reports if "location" in r.body]
    assert 0.2 <= len(points) / len(reports) <= 0.4
    datums = Counter(r.body["location"]["datum"] for r in points)
    assert datums["WGS-84"] > 0 and datums["GCJ-02"] > 0
    for r in reports:
        grid = registry.grid(r.grid_id)
        assert grid is not None and grid.town_code == r.town
        if "location" not in r.body:
            assert r.body["grid_id"] == r.grid_id
            continue
        assert "grid_id" not in r.body
        loc = r.body["location"]
        lat, lon = loc["lat"], loc["lon"]
        if loc["datum"] == "GCJ-02":
            lat, lon = gcj02_to_wgs84(lat, lon)
        assert grid.contains(lat, lon), (r.grid_id, loc)
        assert registry.locate(loc["lat"], loc["lon"], loc["datum"]) == grid


def test_same_seed_same_reports_other_seed_other_reports() -> None:
    a = [r.body for r in generate(200, seed=5, clock=fixed_clock)]
    b = [r.body for r in generate(200, seed=5, clock=fixed_clock)]
    c = [r.body for r in generate(200, seed=6, clock=fixed_clock)]
    assert a == b
    assert a != c
    assert len({r["report_id"] for r in a + c}) == 400


def test_texts_are_varied(reports: list) -> None:
    first = reports[:1000]
    descriptions = {r.body["description"] for r in first}
    assert len(descriptions) >= 900
    titles = {r.body["title"] for r in first}
    assert len(titles) >= 300
    assert Counter(r.style for r in reports).keys() >= {"formal", "colloquial", "terse", "hotline"}
    lengths = [len(r.body["description"]) for r in reports]
    assert min(lengths) >= 5 and max(lengths) < 400
    for r in reports:
        assert re.search(r"[\u4e00-\u9fff]", r.body["description"]), r.body
        assert "{" not in r.body["description"] and "{" not in r.body["title"]  # every slot filled


def test_hints_phones_times_photos_sources(reports: list) -> None:
    n = len(reports)
    hints = [r.body.get("category_hint") for r in reports]
    right = sum(h == r.category.value for h, r in zip(hints, reports))
    missing = sum(h is None for h in hints)
    assert right / n >= 0.7
    assert 0.05 <= missing / n <= 0.25
    assert 0.15 <= sum("severity_hint" in r.body for r in reports) / n <= 0.5
    for r in reports:
        assert re.fullmatch(r"1[3-9]\d{9}", r.body["reporter_phone"])
        at = datetime.fromisoformat(r.body["occurred_at"])
        assert at.utcoffset() == timedelta(hours=8)
        assert timedelta(minutes=1) <= NOW - at <= timedelta(hours=24)
        assert 0 <= len(r.photos) <= 3 and r.body["photo_ids"] == []  # the driver uploads, then cites
        assert all(p.startswith(b"\xff\xd8\xff") and len(p) > 100 for p in r.photos)
    sources = Counter(r.source for r in reports)
    assert sources[SourceNetwork.MOBILE] / n >= 0.7
    assert len(sources) >= 4


def test_mobile_only_generator() -> None:
    assert {r.source for r in ReportGenerator(1, networks=False, clock=fixed_clock).take(300)} == {SourceNetwork.MOBILE}


# -- the driver ----------------------------------------------------------------------------


class FakeIntake:
    """Plays POST /api/v1/reports: 202 for a new id, the same 202 for the same body, 409 for another body."""

    def __init__(self, *, unavailable_first: int = 0, delay_s: float = 0.0) -> None:
        self.seen: dict[str, tuple[str, str]] = {}  # id -> (body, received_at)
        self.requests: list[dict] = []
        self.photos: list[bytes] = []
        self.tokens: list[str] = []
        self.unavailable_left = unavailable_first
        self.delay_s = delay_s
        self.lock = threading.Lock()

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if self.delay_s:
            import asyncio

            await asyncio.sleep(self.delay_s)
        if request.url.path == "/api/v1/photos":
            with self.lock:
                self.photos.append(request.content)
            photo_id = hashlib.sha256(request.content).hexdigest()[:32]
            return httpx.Response(201, json={"photo_id": photo_id, "content_type": "image/jpeg"})
        body = json.loads(request.content)
        with self.lock:
            self.requests.append(body)
            self.tokens.append(request.headers["Authorization"])
            if self.unavailable_left > 0:
                self.unavailable_left -= 1
                return httpx.Response(503, headers={"Retry-After": "0"}, json={"error": "unavailable"})
            try:
                Report.model_validate(body)
            except Exception:
                return httpx.Response(422, json={"error": "invalid_report"})
            rid = body["report_id"]
            canonical = json.dumps(body, sort_keys=True)
            if rid in self.seen:
                if self.seen[rid][0] != canonical:
                    return httpx.Response(409, json={"error": "conflict"})
                received_at = self.seen[rid][1]
            else:
                received_at = datetime.now(timezone.utc).isoformat()
                self.seen[rid] = (canonical, received_at)
        return httpx.Response(202, json={"report_id": rid, "status": "received", "received_at": received_at})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def _simulation(intake: FakeIntake, **kwargs) -> Simulation:
    params = dict(
        url="http://intake.test",
        tokens=Tokens(by_town={}, single="tok"),
        rate=50.0,
        duration=0.4,
        generator=ReportGenerator(3, clock=fixed_clock),
        transport=intake.transport(),
        repeat_share=0.0,
        repeat_delay_s=(0.0, 0.01),
    )
    params.update(kwargs)
    return Simulation(**params)


def test_driver_paces_and_counts_accepted() -> None:
    intake = FakeIntake()
    stats = _simulation(intake, rate=100.0, duration=0.5).run()
    assert stats["reports"] == 50
    assert stats["sent"] == stats["accepted"] == 50 == len(intake.seen)
    assert stats["repeats"] == stats["conflicts"] == stats["invalid"] == stats["unavailable"] == stats["errors"] == 0
    assert stats["in_flight"] == 0
    assert 0.4 <= stats["elapsed"] < 3
    assert stats["rate"] == pytest.approx(100, rel=0.25)
    assert intake.tokens[0] == "Bearer tok"
    # photos uploaded first, each report citing the ids the intake answered
    cited = [pid for body in intake.requests for pid in body["photo_ids"]]
    assert cited and set(cited) == {hashlib.sha256(p).hexdigest()[:32] for p in intake.photos}


def test_slow_answers_do_not_lower_the_rate() -> None:
    intake = FakeIntake(delay_s=0.3)  # each answer takes longer than 10 report intervals
    stats = _simulation(intake, rate=40.0, duration=0.5, concurrency=32).run()
    assert stats["reports"] == 20
    assert stats["accepted"] == 20
    assert stats["rate"] == pytest.approx(40, rel=0.25)
    # ... but the 202s take longer than the sending: the accepted rate says so.
    assert stats["accepted_rate"] == pytest.approx(stats["accepted"] / stats["elapsed"], rel=0.01)
    assert stats["accepted_rate"] < stats["rate"]


def test_repeat_gets_the_same_202_and_counts_as_repeat() -> None:
    intake = FakeIntake()
    stats = _simulation(intake, rate=20.0, duration=0.25, repeat_share=1.0).run()
    assert stats["reports"] == 5
    assert stats["sent"] == 10
    assert stats["accepted"] == 5  # distinct report ids
    assert stats["repeats"] == 5
    assert stats["repeat_mismatches"] == 0
    assert stats["conflicts"] == 0


def test_503_is_retried_with_the_same_report_id() -> None:
    intake = FakeIntake(unavailable_first=2)
    stats = _simulation(intake, rate=10.0, duration=0.1).run()  # a single report
    assert stats["reports"] == 1
    assert stats["unavailable"] == 2
    assert stats["retries"] == 2
    assert stats["sent"] == 3
    assert stats["accepted"] == 1
    assert len({b["report_id"] for b in intake.requests}) == 1
    assert intake.requests[0] == intake.requests[-1]


def test_retries_are_bounded() -> None:
    intake = FakeIntake(unavailable_first=100)
    stats = _simulation(intake, rate=10.0, duration=0.1, max_retries=3).run()
    assert stats["sent"] == 4
    assert stats["unavailable"] == 4
    assert stats["gave_up"] == 1
    assert stats["accepted"] == 0


def test_conflict_invalid_and_transport_errors_are_counted() -> None:
    calls = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/photos":  # uploads are not what this test counts
            return httpx.Response(201, json={"photo_id": hashlib.sha256(request.content).hexdigest()[:32]})
        calls["n"] += 1
        n = calls["n"]
        if n == 1:
            return httpx.Response(409, json={"error": "conflict"})
        if n == 2:
            return httpx.Response(422, json={"error": "invalid_report"})
        if n == 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(202, json={"report_id": json.loads(request.content)["report_id"],
                                         "status": "received", "received_at": "2026-11-25T02:30:00Z"})

    sim = _simulation(FakeIntake(), rate=30.0, duration=0.1, transport=httpx.MockTransport(handler), max_retries=2)
    stats = sim.run()
    assert stats["reports"] == 3
    assert stats["conflicts"] == 1
    assert stats["invalid"] == 1
    assert stats["errors"] == 1
    assert stats["accepted"] == 1
    assert stats["sent"] == 4


def test_stop_event_ends_an_endless_run_and_progress_is_reported() -> None:
    intake = FakeIntake()
    stop = threading.Event()
    seen: list[dict] = []

    def progress(snap: dict) -> None:
        seen.append(snap)
        if len(seen) >= 2:
            stop.set()

    t0 = time.monotonic()
    stats = _simulation(intake, rate=20.0, duration=0, stop=stop, on_progress=progress).run()
    assert time.monotonic() - t0 < 5
    assert len(seen) >= 2
    assert seen[0]["reports"] >= 10
    assert stats["accepted"] == stats["reports"] >= 30


def test_run_simulation_creates_one_account_per_town_and_one_integrator_per_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[tuple] = []

    def fake_add_account(settings, user_id, role, department=None, town=None, network=None):
        created.append((user_id, role.value, town or (network.value if network else None)))
        return f"token-{user_id}"

    monkeypatch.setattr("producers.simulate.driver.add_account", fake_add_account)
    intake = FakeIntake()
    stats = run_simulation(Settings(), rate=200.0, duration=0.5, seed=1, transport=intake.transport())
    assert sorted(created) == sorted(
        [(f"sim-wgy-{t}-01", "grid_worker", t) for t in ("DH", "XL", "NJ", "BC")]
        + [(f"sim-{n}-01", "integrator", n) for n in ("comprehensive", "urban", "emergency", "environment", "hotline12345")]
    )
    assert stats["accepted"] == len(intake.seen) == stats["reports"] == 100
    used = Counter(intake.tokens)
    assert any(token.startswith("Bearer token-sim-") and "wgy" not in token for token in used)
    # a mobile report goes out under its town's grid worker
    for body, auth in zip(intake.requests, intake.tokens):
        if body["source"] == "mobile" and "grid_id" in body:
            assert auth == f"Bearer token-sim-wgy-{body['grid_id'][:2]}-01"
        if body["source"] != "mobile":  # under its own network's integrator
            assert auth == f"Bearer token-sim-{body['source']}-01"


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        _simulation(FakeIntake(), rate=0)
