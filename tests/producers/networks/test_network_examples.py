"""Every network's sample events (schemas/examples/<network>/) through the adapter, against golden reports.

``valid__*.json`` must adapt, and give exactly the unified report and origin
kept in ``golden/<network>/<sample>.json``; ``invalid__<field>__*.json`` must
be refused with an AdapterError naming ``<field>``, the network's own field.
A valid sample written as a CSV row of a nightly export (every value a
string, absent = empty) must give the same report as the JSON push.

After a deliberate change of the adapter or a sample, rewrite the goldens
and read their diff before committing::

    PYTHONPATH=. python tests/producers/networks/test_network_examples.py
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from producers.networks.adapt import (
    FORMATS,
    Adapted,
    AdapterError,
    adapt,
    load_maps,
    report_id_for,
)
from schemas.report import AcceptedReport
from schemas.vocabulary import Role, SourceNetwork

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "schemas" / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
NETWORKS = tuple(FORMATS)
SAMPLES = sorted(p for n in NETWORKS for p in (EXAMPLES / n.value).glob("*.json"))
VALID = [p for p in SAMPLES if p.stem.startswith("valid__")]
INVALID = [p for p in SAMPLES if p.stem.startswith("invalid__")]


def _network(path: Path) -> SourceNetwork:
    return SourceNetwork(path.parent.name)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _golden_path(path: Path) -> Path:
    return GOLDEN / path.parent.name / path.name


def _as_golden(adapted: Adapted) -> dict[str, Any]:
    origin = adapted.origin.model_dump(mode="json", exclude={"payload"})
    return {"report": adapted.report.model_dump(mode="json"), "origin": origin}


def _csv_row(payload: dict[str, Any]) -> dict[str, str]:
    """The payload as a nightly export's row reads back: through a real CSV writer and reader."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(payload))
    writer.writeheader()
    writer.writerow({k: "" if v is None else v for k, v in payload.items()})
    return next(csv.DictReader(io.StringIO(buffer.getvalue())))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture(scope="module")
def maps():  # type: ignore[no-untyped-def]
    return load_maps()


def test_every_network_has_its_samples() -> None:
    for network in NETWORKS:
        stems = [p.stem for p in SAMPLES if _network(p) is network]
        assert sum(s.startswith("valid__") for s in stems) >= 3, network
        assert sum(s.startswith("invalid__") for s in stems) >= 3, network
        assert any("unknown" in s for s in stems if s.startswith("valid__")), f"{network}: no unknown-code sample"


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_valid_sample_gives_its_golden_report(path: Path, maps) -> None:  # type: ignore[no-untyped-def]
    network, payload = _network(path), _load(path)
    adapted = adapt(network, payload, maps)
    expected = json.loads(_golden_path(path).read_text(encoding="utf-8"))
    assert _as_golden(adapted) == expected
    assert adapted.origin.payload == payload, "the payload is kept as received"
    assert adapted.report.source is network
    assert adapted.report.report_id == report_id_for(network, adapted.origin.event_id)


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_a_csv_row_gives_the_same_report_as_the_json_push(path: Path, maps) -> None:  # type: ignore[no-untyped-def]
    network, payload = _network(path), _load(path)
    row = _csv_row(payload)
    assert all(isinstance(v, str) for v in row.values())
    assert adapt(network, row, maps).report == adapt(network, payload, maps).report


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_the_intake_can_stamp_the_adapted_report(path: Path, maps) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    adapted = adapt(_network(path), _load(path), maps)
    accepted = AcceptedReport.stamp(
        adapted.report,
        reporter_id="net-" + path.parent.name,
        reporter_role=Role.INTEGRATOR,
        received_at=datetime.now(timezone.utc),  # a report cannot be received before it happened
        origin=adapted.origin,
    )
    assert AcceptedReport.model_validate_json(accepted.model_dump_json()) == accepted
    assert accepted.source_event_id == adapted.origin.event_id


@pytest.mark.parametrize("path", INVALID, ids=_id)
def test_invalid_sample_names_the_networks_field(path: Path, maps) -> None:  # type: ignore[no-untyped-def]
    field = path.stem.split("__")[1]
    assert field in _fields_of(_network(path)), f"{field} is not a field of {path.parent.name}"
    with pytest.raises(AdapterError) as caught:
        adapt(_network(path), _load(path), maps)
    assert caught.value.field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message), "the message is in Chinese"


#: the invalid samples a CSV export could carry (a cell cannot hold an object or a list)
CSV_INVALID = [p for p in INVALID if not any(isinstance(v, (dict, list)) for v in _load(p).values())]


def test_most_invalid_samples_have_a_csv_form() -> None:
    assert len(CSV_INVALID) >= len(INVALID) - 2


@pytest.mark.parametrize("path", CSV_INVALID, ids=_id)
def test_invalid_sample_is_refused_as_a_csv_row_too(path: Path, maps) -> None:  # type: ignore[no-untyped-def]
    payload = _load(path)
    with pytest.raises(AdapterError) as caught:
        adapt(_network(path), _csv_row(payload), maps)
    assert caught.value.field == path.stem.split("__")[1]


def _fields_of(network: SourceNetwork) -> set[str]:
    fmt = FORMATS[network]
    named = {fmt.event_id, fmt.time, fmt.text, fmt.title, fmt.grid, fmt.phone, fmt.address, *fmt.category}
    return {n for n in named if n} | set(fmt.place.names if fmt.place else ())


def write_goldens() -> None:
    """Rewrite every golden file from the adapter as it is now."""
    maps = load_maps()
    for path in VALID:
        target = _golden_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        golden = _as_golden(adapt(_network(path), _load(path), maps))
        target.write_text(json.dumps(golden, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_goldens()
