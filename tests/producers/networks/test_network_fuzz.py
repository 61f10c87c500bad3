"""Hostile input: junk in any field, or instead of the event, only ever gives an Adapted or an AdapterError.

Seeded (no hypothesis): each network's valid samples, every field of the
format and a few strangers, replaced or joined by values of every JSON type
and some no JSON parser makes (NaN, bytes, huge ints, deep nesting).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from producers.networks.adapt import FORMATS, Adapted, AdapterError, adapt, load_maps
from schemas.vocabulary import SourceNetwork

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"
ROUNDS = 12


def _deep(depth: int) -> Any:
    value: Any = "底"
    for _ in range(depth):
        value = [value]
    return value


FIXED_JUNK: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2**70, 10**400, 1e308, -1e308, float("nan"), float("inf"), 0.0, -0.0,
    "", " ", "\x00", "\n", "a", "0", "-0", "1e999", "nan", "Infinity", "0x1A", "１２３", "108.3,22.7,1",
    "2026-11-25 08:40:00", "2026/11/25 08:40", "20261125084000", "1795567200000", "2026-11-25T08:40:00+08:00",
    "0001-01-01 00:00:00", "9999/12/31 23:59", "99991231235959", "2026-11-25T08:40:00+25:00",
    "13812341234", "+86 138 1234 1234", "x" * 5000, "井" * 4001, "\ud800", "井盖\udfff缺失", "😀" * 70,
    [], [1, 2], {}, {"a": {"b": [None]}}, b"bytes", _deep(3000), {1: "int key"},
)  # fmt: skip


def _random_junk(rng: random.Random) -> Any:
    kind = rng.randrange(4)
    if kind == 0:
        alphabet = string.printable + "井盖缺失来电人反映，。：/-"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
    if kind == 1:
        return rng.uniform(-1e6, 1e6)
    if kind == 2:
        return rng.randrange(-(10**15), 10**15)
    return rng.choice(FIXED_JUNK)


def _samples(network: SourceNetwork) -> list[dict[str, Any]]:
    paths = sorted((EXAMPLES / network.value).glob("valid__*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _adapt_or_refuse(network: SourceNetwork, payload: Any, maps) -> None:  # type: ignore[no-untyped-def]
    try:
        result = adapt(network, payload, maps)
    except AdapterError as exc:
        assert isinstance(exc.field, str) and isinstance(exc.message, str) and exc.message
        assert len(exc.message) < 300, "a message quotes junk briefly"
        (exc.field + exc.message).encode("utf-8")  # the intake answers with both
        return
    assert isinstance(result, Adapted)
    # What the intake will write to Kafka: UTF-8 JSON of both.
    result.origin.model_dump_json().encode("utf-8")
    result.report.model_dump_json().encode("utf-8")


@pytest.fixture(scope="module")
def maps():  # type: ignore[no-untyped-def]
    return load_maps()


@pytest.mark.parametrize("network", list(FORMATS), ids=lambda n: n.value)
def test_junk_in_any_field_is_adapted_or_refused(network: SourceNetwork, maps) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(f"fuzz-{network.value}")
    fmt = FORMATS[network]
    for sample in _samples(network):
        fields = [*sample, "unknown_field", fmt.event_id]
        for field in fields:
            for value in FIXED_JUNK:
                _adapt_or_refuse(network, sample | {field: value}, maps)
            for _ in range(ROUNDS):
                _adapt_or_refuse(network, sample | {field: _random_junk(rng)}, maps)
            _adapt_or_refuse(network, {k: v for k, v in sample.items() if k != field}, maps)


@pytest.mark.parametrize("network", list(FORMATS), ids=lambda n: n.value)
def test_several_junk_fields_at_once(network: SourceNetwork, maps) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(f"many-{network.value}")
    for sample in _samples(network):
        for _ in range(200):
            junk = {k: _random_junk(rng) for k in rng.sample(list(sample), rng.randrange(1, len(sample)))}
            _adapt_or_refuse(network, sample | junk, maps)


@pytest.mark.parametrize(
    "payload",
    [
        None, [], "sjbh", 42, {1: "x"}, {"sjbh": b"x"}, {"sjbh": _deep(5000)}, {"\ud800": "x"}, {"k" * 10**6: "x"},
        {f"k{i}": "x" * 100 for i in range(1000)},
    ],
    ids=["none", "list", "text", "number", "int key", "bytes", "deep", "surrogate key", "huge key", "huge"],
)
def test_junk_instead_of_an_event_is_refused(payload: Any, maps) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterError) as caught:
        adapt(SourceNetwork.COMPREHENSIVE, payload, maps)
    assert len(caught.value.field) <= 64
    (caught.value.field + caught.value.message).encode("utf-8")


def test_a_network_without_a_format_is_refused(maps) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterError):
        adapt(SourceNetwork.MOBILE, {"x": 1}, maps)
