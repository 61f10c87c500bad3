"""Property tests (hypothesis) of the five network adapters: any payload gives a valid report or an AdapterError.

Two kinds of property:

* **No crash on any input.** Whatever a network pushes — JSON values of every
  type in any field, huge or odd text (NUL, bidi overrides, lone surrogates),
  times out of range, NaN and 1e308, missing and extra keys, no object at
  all — ``adapt`` either returns a report that passes the report schema's own
  validation (re-validated here, so bounds added to ``schemas/report.py`` are
  picked up) and that the intake can stamp and write as JSON, or raises
  :class:`AdapterError` naming a field of the event. Never another exception.
* **Valid events round-trip.** Events generated from each network's declared
  fields and from its mapping table as the YAML file says it (read here with
  plain ``yaml``, not with the loader under test) adapt to a report whose
  report id, grid, category, subcategory, severity floor, time, point,
  phone, title and description are what the event said.
"""

from __future__ import annotations

import json
import operator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from producers.networks.adapt import (
    FORMATS,
    Adapted,
    AdapterError,
    adapt,
    load_maps,
    report_id_for,
)
from producers.networks.errors import WHOLE_EVENT, quote
from producers.networks.format import Format, derive_title
from producers.networks.times import EPOCH_MS, ISO_8601, SLASHED_MINUTES, LocalText
from schemas.report import AcceptedReport, NetworkOrigin, Report
from schemas.vocabulary import Category, Role, Severity, SourceNetwork

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "producers" / "networks" / "data"
EXAMPLES = REPO / "schemas" / "examples"
NETWORKS = list(FORMATS)
MAPS = load_maps()
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Valid events happen up to a day before the test runs: the schema may bound occurred_at by the server's clock.
LATEST_VALID = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)

BOUNDED = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def _table(network: SourceNetwork) -> dict[str, Any]:
    return yaml.safe_load((DATA / f"{network.value}.yaml").read_text(encoding="utf-8"))


TABLES = {n: _table(n) for n in NETWORKS}


def _fields_of(fmt: Format) -> list[str]:
    """Every field name a format declares."""
    names = [fmt.event_id, fmt.time, fmt.text, fmt.title, fmt.grid, *fmt.category, fmt.category_name, fmt.phone,
             fmt.address, *fmt.constants, *(fmt.place.names if fmt.place else ())]  # fmt: skip
    return [n for n in names if n]


def _samples(network: SourceNetwork) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((EXAMPLES / network.value).glob("valid__*.json"))]


SAMPLES = {n: _samples(n) for n in NETWORKS}


# --- strategies: junk ------------------------------------------------------------------------------

ODD_CHARS = [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b", "\u200b", "\u200e", "\u200f",
    "\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\ufeff",
    "\ud800", "\udbff", "\udfff", "\U0010ffff", "\ufffd", "\u3000", "\u0301", "\r", "\n", "\t", " ", "井", "😀",
    '"', "'", ",", "，", "/", "\\", "{", "}",
]  # fmt: skip
ANY_CHAR = st.characters(exclude_categories=())  # controls and lone surrogates included
odd_text = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.text(st.sampled_from([*ODD_CHARS, *"ab1井盖缺失"]), max_size=40),
    st.builds(operator.mul, st.sampled_from(["x", "井", "😀", " ", "\x00", "\u202e"]), st.integers(0, 70_000)),
)
numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, -1e308, 5e-324, -0.0, 2**63, 2**64, 10**20, 10**300, 10**400, -(10**400)]),
)
# Wall-clock times of any year, written as each network writes times (and as they never should be).
_naive = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
time_like = st.one_of(
    st.builds(lambda d, p: d.strftime(p), _naive, st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M",
                                                                   "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"])),
    st.builds(lambda d, z: d.isoformat() + z, _naive, st.sampled_from(["", "Z", "+08:00", "-12:00", "+14:00", "+23:59"])),
    st.integers(-(10**16), 10**17),
    st.integers(-(10**16), 10**17).map(str),
)  # fmt: skip
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text, time_like)


def _deep(depth: int, leaf: Any = "底") -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


json_values = st.one_of(
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(ANY_CHAR, max_size=6), inner, max_size=4),
        max_leaves=10,
    ),
    st.builds(_deep, st.integers(0, 1200)),
)


@st.composite
def mutated(draw: st.DrawFn, network: SourceNetwork) -> dict[str, Any]:
    """A network's valid event (a sample, or a generated one) with some fields set to junk, dropped or added."""
    fmt = FORMATS[network]
    payload = dict(draw(st.one_of(st.sampled_from(SAMPLES[network]), valid_events(network).map(lambda e: e[0]))))
    names = st.one_of(st.sampled_from([*_fields_of(fmt), *payload, "unknown", ""]), st.text(ANY_CHAR, max_size=70))
    for _ in range(draw(st.integers(1, 4))):
        name = draw(names)
        if draw(st.booleans()) and name in payload:
            del payload[name]
        else:
            payload[name] = draw(json_values)
    return payload


# --- strategies: valid events, from the network's declared fields and its YAML table ---------------

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_PLAIN = st.one_of(_CJK, st.sampled_from(list("abcXYZ0123456789，。、；：！？（）-/ ")))
_EDGE = st.one_of(_CJK, st.sampled_from(list("abcXYZ0123456789")))  # no blank at either end: nothing to strip


def _text(min_size: int, max_size: int, newlines: bool = False) -> st.SearchStrategy[str]:
    middle = st.text(st.one_of(_PLAIN, st.just("\n")) if newlines else _PLAIN, max_size=max_size - 2)
    return st.builds(lambda a, m, b: a + m + b, _EDGE, middle, _EDGE).filter(lambda t: min_size <= len(t) <= max_size)


def _render_time(fmt: Format, when: datetime, unpadded: bool) -> str | int:
    """``when`` (aware UTC) as the network writes it, written here and not by the clock under test."""
    local = when.astimezone(SHANGHAI)
    if fmt.clock is EPOCH_MS:
        return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if fmt.clock is ISO_8601:
        return local.replace(microsecond=0).isoformat()
    if fmt.clock is SLASHED_MINUTES and unpadded:
        return f"{local.year}/{local.month}/{local.day} {local.hour}:{local.minute:02d}"
    assert isinstance(fmt.clock, LocalText)
    return local.strftime(fmt.clock.pattern)


def _kept(fmt: Format, when: datetime) -> datetime:
    """``when`` to the resolution of the network's time format."""
    if fmt.clock is EPOCH_MS:
        return when.replace(microsecond=when.microsecond // 1000 * 1000)
    if fmt.clock is SLASHED_MINUTES:
        return when.replace(second=0, microsecond=0)
    return when.replace(microsecond=0)


@st.composite
def valid_events(draw: st.DrawFn, network: SourceNetwork) -> tuple[dict[str, Any], dict[str, Any]]:
    """(payload, what the report must say): one event in ``network``'s own format, possibly as an export row."""
    fmt, table = FORMATS[network], TABLES[network]
    grids, categories = table["grids"], table["categories"]
    payload: dict[str, Any] = dict(fmt.constants)
    expect: dict[str, Any] = {}

    event_id = draw(st.from_regex(r"[0-9A-Za-z][0-9A-Za-z_.:/-]{0,40}", fullmatch=True))
    payload[fmt.event_id] = event_id
    expect["event_id"] = event_id

    when = draw(st.datetimes(min_value=datetime(2000, 1, 2), max_value=LATEST_VALID, timezones=st.just(UTC)))
    payload[fmt.time] = _render_time(fmt, when, draw(st.booleans()))
    expect["occurred_at"] = _kept(fmt, when)

    text = draw(_text(2, 300, newlines=True))
    if network is SourceNetwork.HOTLINE and draw(st.booleans()):
        text = "来电人反映：" + text
    payload[fmt.text] = text
    title = draw(st.none() | _text(2, 100)) if fmt.title else None
    if title is not None:
        payload[fmt.title] = title
    expect["title"] = title or derive_title(text)
    address = draw(st.none() | _text(2, 200)) if fmt.address else None
    if address is not None:
        payload[fmt.address] = address
    expect["description"] = f"{text}（{fmt.address_label}：{address}）" if address else text

    notes = []
    grid_kind = draw(st.sampled_from(["known", "unknown", "none"]))
    expect["grid_id"] = None
    if grid_kind == "known":
        code = draw(st.sampled_from(sorted(grids)))
        payload[fmt.grid] = code
        expect["grid_id"] = grids[code]
    elif grid_kind == "unknown":
        code = draw(st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,15}", fullmatch=True).filter(lambda c: c not in grids))
        payload[fmt.grid] = code
        notes.append(code)

    category_kind = draw(st.sampled_from(["known", "known", "unknown", "none"]))
    expect.update(category_hint=None, severity_hint=None, subcategory_hint=None)
    if category_kind != "none":
        if category_kind == "known":
            code = draw(st.sampled_from(sorted(categories)))
            meaning = categories[code]
            expect.update(
                category_hint=Category(meaning["category"]),
                severity_hint=Severity(meaning["severity"]) if meaning.get("severity") else None,
                subcategory_hint=meaning.get("subcategory"),
            )
            if fmt.category_name:
                payload[fmt.category_name] = meaning["name"]
        else:
            code = "/".join(["X9"] * len(fmt.category)) + draw(st.from_regex(r"[0-9]{0,4}", fullmatch=True))
            notes.append(code)
        payload.update(zip(fmt.category, code.split("/", len(fmt.category) - 1)))
    expect["notes"] = notes

    expect["location"] = None
    if fmt.place is not None and draw(st.booleans()):
        lat = round(draw(st.floats(22.60, 22.85)), 6)
        lon = round(draw(st.floats(108.20, 108.50)), 6)
        names = fmt.place.names
        if len(names) == 2:
            payload.update({names[0]: lon, names[1]: lat})
        else:
            payload[names[0]] = f"{lon:.6f},{lat:.6f}"
        expect["location"] = (lat, lon, fmt.place.datum)

    expect["reporter_phone"] = None
    if fmt.phone:
        digits = "1" + draw(st.sampled_from("3456789")) + draw(st.from_regex(r"[0-9]{9}", fullmatch=True))
        phone = draw(
            st.sampled_from(
                [digits, f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                 int(digits), "0771-5521234", None]
            )
        )  # fmt: skip
        if phone is not None:
            payload[fmt.phone] = phone
            expect["reporter_phone"] = None if phone == "0771-5521234" else digits

    if draw(st.booleans()):
        # As the nightly export has it: every value a string, an absent one left out.
        payload = {k: str(v) for k, v in payload.items() if v is not None}
    return payload, expect


# --- the checks ------------------------------------------------------------------------------------


def _named(key: str) -> str:
    """A payload key as an AdapterError may name it (junk keys are quoted)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return quote(key)
    return key if len(key) <= 64 else quote(key)


def assert_valid(network: SourceNetwork, adapted: Adapted, payload: dict[str, Any]) -> None:
    """The report and origin pass their schemas' own validation and travel as the intake sends them."""
    report, origin = adapted.report, adapted.origin
    assert Report.model_validate(report.model_dump()) == report
    assert Report.model_validate_json(report.model_dump_json().encode("utf-8")) == report
    assert NetworkOrigin.model_validate_json(origin.model_dump_json().encode("utf-8")) == origin
    assert report.source is network
    assert report.report_id == report_id_for(network, origin.event_id)
    assert origin.payload == payload
    accepted = AcceptedReport.stamp(
        report, reporter_id=f"net-{network.value}", reporter_role=Role.INTEGRATOR,
        received_at=datetime.now(UTC), origin=origin,
    )  # fmt: skip
    assert AcceptedReport.model_validate_json(accepted.model_dump_json().encode("utf-8")) == accepted
    assert accepted.body() == report


def adapt_or_refuse(network: SourceNetwork, payload: Any) -> Adapted | AdapterError:
    """``adapt``'s answer, checked: a valid report, or an AdapterError naming one of the event's fields."""
    try:
        adapted = adapt(network, payload, MAPS)
    except AdapterError as exc:
        named = {WHOLE_EVENT, *_fields_of(FORMATS[network])}
        if isinstance(payload, dict):
            named |= {_named(k) if isinstance(k, str) else quote(k) for k in payload}
        assert exc.field in named, f"{exc.field!r} is no field of the event"
        assert exc.message and len(exc.message) < 300, "a message quotes junk briefly"
        (exc.field + exc.message).encode("utf-8")  # the 422 carries both
        return exc
    assert_valid(network, adapted, payload)
    return adapted


# --- no crash on any input -------------------------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@BOUNDED
@given(data=st.data())
def test_junk_in_any_field_gives_a_valid_report_or_an_adapter_error(
    network: SourceNetwork, data: st.DataObject
) -> None:
    adapt_or_refuse(network, data.draw(mutated(network)))


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@settings(BOUNDED, max_examples=40)
@given(data=st.data())
def test_any_object_of_any_keys_gives_a_valid_report_or_an_adapter_error(
    network: SourceNetwork, data: st.DataObject
) -> None:
    keys = st.one_of(st.sampled_from(_fields_of(FORMATS[network])), st.text(ANY_CHAR, max_size=10))
    adapt_or_refuse(network, data.draw(st.dictionaries(keys, json_values, max_size=12)))


@settings(BOUNDED, max_examples=60)
@given(network=st.sampled_from(NETWORKS), payload=json_values.filter(lambda v: not isinstance(v, dict)))
def test_anything_but_an_object_is_refused_as_a_whole(network: SourceNetwork, payload: Any) -> None:
    refused = adapt_or_refuse(network, payload)
    assert isinstance(refused, AdapterError) and refused.field == WHOLE_EVENT


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@settings(BOUNDED, max_examples=40)
@given(depth=st.integers(0, 1200))
@example(depth=300)  # was adapted, then the intake's JSON of the origin failed (pydantic stops at ~250 levels)
def test_a_deeply_nested_extra_field_is_refused_or_carried(network: SourceNetwork, depth: int) -> None:
    outcome = adapt_or_refuse(network, SAMPLES[network][0] | {"extra": _deep(depth)})
    if isinstance(outcome, AdapterError):
        assert outcome.field == "extra"


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@BOUNDED
@given(data=st.data(), naive=_naive, shape=st.sampled_from(["own", "iso", "millis"]))
def test_a_time_of_any_year_is_the_instant_it_names_or_refused_naming_the_time_field(
    network: SourceNetwork, data: st.DataObject, naive: datetime, shape: str
) -> None:
    fmt = FORMATS[network]
    value: Any
    if shape == "own" and isinstance(fmt.clock, LocalText):
        value = naive.strftime(fmt.clock.pattern)
    elif shape == "millis":
        value = (naive - datetime(1970, 1, 1)) // timedelta(milliseconds=1) - 8 * 3600 * 1000
    else:
        value = naive.isoformat(timespec="seconds") + "+08:00"
    readable = {EPOCH_MS: "millis", ISO_8601: "iso"}.get(fmt.clock, "own") == shape  # type: ignore[call-overload]
    payload = data.draw(valid_events(network).map(lambda e: e[0])) | {fmt.time: value}
    outcome = adapt_or_refuse(network, payload)
    if isinstance(outcome, AdapterError):
        assert outcome.field == fmt.time
        assert not (readable and datetime(2000, 1, 2) <= naive <= LATEST_VALID), "a valid time refused"
        return
    # The networks' years 2000–2099 are Beijing years: 2000-01-01 00:00 there is 1999-12-31 16:00 UTC.
    assert datetime(1999, 12, 31, 16, tzinfo=UTC) <= outcome.report.occurred_at < datetime(2100, 1, 1, tzinfo=UTC)
    if readable:  # (a time in another shape may still read as some other instant: 14 digits are a compact time)
        assert outcome.report.occurred_at == _kept(fmt, naive.replace(tzinfo=SHANGHAI).astimezone(UTC))


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@BOUNDED
@given(data=st.data(), text=odd_text)
@example(data=None, text="井盖缺失\x00有坑")
@example(data=None, text="路灯不亮\u202e")
def test_odd_text_is_kept_as_it_came_or_refused_naming_the_text_field(
    network: SourceNetwork, data: Any, text: str
) -> None:
    fmt = FORMATS[network]
    base = SAMPLES[network][0] if data is None else data.draw(valid_events(network).map(lambda e: e[0]))
    outcome = adapt_or_refuse(network, base | {fmt.text: text})
    if isinstance(outcome, AdapterError):
        assert outcome.field in {fmt.text, fmt.title}
    else:
        assert outcome.report.description.startswith(text.strip())


# --- valid events round-trip -----------------------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@settings(BOUNDED, max_examples=80)
@given(data=st.data())
def test_a_valid_event_adapts_to_the_report_its_table_says(network: SourceNetwork, data: st.DataObject) -> None:
    payload, expect = data.draw(valid_events(network))
    adapted = adapt_or_refuse(network, payload)
    assert isinstance(adapted, Adapted), f"a valid event refused: {adapted}"
    report, origin = adapted.report, adapted.origin
    assert origin.event_id == expect["event_id"]
    assert report.occurred_at == expect["occurred_at"]
    assert report.title == expect["title"]
    assert report.description == expect["description"]
    assert report.grid_id == expect["grid_id"]
    assert report.category_hint == expect["category_hint"]
    assert report.severity_hint == expect["severity_hint"]
    assert origin.subcategory_hint == expect["subcategory_hint"]
    assert report.reporter_phone == expect["reporter_phone"]
    if expect["location"] is None:
        assert report.location is None
    else:
        lat, lon, datum = expect["location"]
        assert report.location is not None and report.location.datum is datum
        assert report.location.lat == pytest.approx(lat, abs=1e-9) and report.location.lon == pytest.approx(
            lon, abs=1e-9
        )
    if expect["notes"]:
        assert origin.mapping_note is not None
        assert all(code in origin.mapping_note for code in expect["notes"])
    else:
        assert origin.mapping_note is None


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.value)
@settings(BOUNDED, max_examples=40)
@given(data=st.data())
def test_every_code_of_the_table_maps_as_the_yaml_says(network: SourceNetwork, data: st.DataObject) -> None:
    """Whichever code is drawn, the loaded table agrees with the file (category, subcategory, severity, grid)."""
    fmt, table = FORMATS[network], TABLES[network]
    code = data.draw(st.sampled_from(sorted(table["categories"])))
    meaning = table["categories"][code]
    loaded = MAPS[network].categories[code]
    assert loaded.category.value == meaning["category"] and loaded.subcategory == meaning.get("subcategory")
    assert (loaded.severity.value if loaded.severity else None) == meaning.get("severity")
    grid = data.draw(st.sampled_from(sorted(table["grids"])))
    assert MAPS[network].grids[grid] == table["grids"][grid]
    assert fmt.category and len(code.split("/")) == len(fmt.category)
