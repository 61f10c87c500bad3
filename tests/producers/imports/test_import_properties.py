"""Property tests (hypothesis) of the export-file reader: any bytes give records, and good lines come out whole.

``gridflow import`` reads a network's nightly export line by line so that a
broken line is reported and the rest go through. Whatever the bytes of the
file (junk, half characters, NUL, GBK and UTF-8 mixed, a line of ten thousand
``[``), reading it never raises (but for a CSV header it cannot use: a
ValueError naming the file and line), every non-blank line is in exactly one
record, in order, with its own bytes; and each record's payload, whatever it
holds, goes through the network's adapter as a report or an AdapterError.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from producers.imports.files import Record, read_records
from producers.networks.adapt import FORMATS, AdapterError, adapt, load_maps
from schemas.report import Report
from schemas.vocabulary import SourceNetwork

MAPS = load_maps()
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ENCODINGS = ("utf-8-sig", "gb18030")

_ANY_LINE = st.one_of(
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from([b"", b"   ", b"\r", b"\x00", b"\xef\xbb\xbf{}", b"\xff\xfe", b"\xd5\xe2", b"\xe4\xb8", b"null",
                     b"[1]", b'"x"', b"{", b"{\"a\": NaN}", b"{\"a\": 1e999}", b"{\"a\": \"\\ud800\"}", b"[" * 20_000,
                     b"{\"a\":" * 5000, b"1" * 5000]),
)  # fmt: skip


def _file(content: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gridflow-import-props-"))
    path = folder / f"export{suffix}"
    path.write_bytes(content)
    return path


def _read_all(path: Path, encoding: str = "auto") -> list[Record]:
    used, records = read_records(path, encoding)
    assert used in ENCODINGS or used == encoding
    return list(records)


def _through_the_adapter(network: SourceNetwork, record: Record) -> None:
    if record.payload is None:
        assert record.error, "a record without a payload says why"
        return
    try:
        adapted = adapt(network, record.payload, MAPS)
    except AdapterError as exc:
        assert exc.field and exc.message
        return
    assert Report.model_validate_json(adapted.report.model_dump_json()) == adapted.report


@BOUNDED
@given(lines=st.lists(_ANY_LINE, max_size=12), network=st.sampled_from(list(FORMATS)))
@example(lines=[b'{"sjbh": "A1"}', b"[" * 100_000, b'{"sjbh": "A2"}'], network=SourceNetwork.COMPREHENSIVE)
def test_any_jsonl_bytes_give_one_record_per_non_blank_line(lines: list[bytes], network: SourceNetwork) -> None:
    path = _file(b"\n".join(lines) + b"\n", ".jsonl")
    records = _read_all(path)
    expected = [(i, line + b"\n") for i, line in enumerate(lines, start=1) if line.strip()]
    assert [(r.line, r.raw) for r in records] == expected
    _assert_every_line_in_one_record(b"\n".join(lines) + b"\n", records, read_records(path)[0], first=1)
    for record in records:
        assert (record.payload is None) != (record.error is None)
        assert record.payload is None or isinstance(record.payload, dict)
        _through_the_adapter(network, record)


@st.composite
def _objects(draw: st.DrawFn) -> dict[str, Any]:
    keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
    values = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.text(max_size=30),
                       st.floats(allow_nan=False, allow_infinity=False))  # fmt: skip
    return draw(st.dictionaries(keys, values, max_size=6))


@BOUNDED
@given(
    items=st.lists(st.one_of(_objects(), _ANY_LINE.filter(lambda b: not b.strip().startswith(b"{"))), max_size=10),
    encoding=st.sampled_from(ENCODINGS),
)
def test_good_jsonl_lines_come_out_as_written_between_bad_ones(items: list[Any], encoding: str) -> None:
    def encoded(item: Any) -> bytes:
        if not isinstance(item, dict):
            return item
        try:
            return json.dumps(item, ensure_ascii=False).encode("gb18030" if encoding == "gb18030" else "utf-8")
        except UnicodeEncodeError:
            return json.dumps(item).encode("ascii")

    path = _file(b"\n".join(map(encoded, items)) + b"\n", ".jsonl")
    by_line = {r.line: r for r in _read_all(path, encoding)}
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            assert by_line[number].payload == item, "a good line between bad ones came out changed"


def _csv_text(header: list[str], rows: list[list[str]], windows: bool) -> str:
    out = io.StringIO()
    # (With "\n" ending its lines, a minimal writer leaves a lone "\r" unquoted, and any reader takes it for a line end.)
    writer = (
        csv.writer(out, lineterminator="\r\n")
        if windows
        else csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    )
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


_CELL = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@BOUNDED
@given(data=st.data(), network=st.sampled_from(list(FORMATS)), encoding=st.sampled_from(ENCODINGS))
def test_csv_rows_with_quotes_commas_and_line_breaks_come_out_as_written(
    data: st.DataObject, network: SourceNetwork, encoding: str
) -> None:
    fmt = FORMATS[network]
    header = list(dict.fromkeys(n for n in (fmt.event_id, fmt.time, fmt.text, fmt.grid, *fmt.category) if n))
    rows = data.draw(st.lists(st.lists(_CELL, min_size=len(header), max_size=len(header)), max_size=6))
    text = _csv_text(header, rows, data.draw(st.booleans()))
    try:
        content = text.encode("gb18030" if encoding == "gb18030" else "utf-8")
    except UnicodeEncodeError:
        return
    records = _read_all(_file(content, ".csv"), encoding)
    written = [{k: v for k, v in zip(header, row) if v != ""} for row in rows]  # (rows of 3 cells or more: never blank)
    assert [r.payload for r in records] == written
    assert all(r.error is None for r in records)
    lines = [r.line for r in records]
    assert lines == sorted(set(lines)) and all(n >= 2 for n in lines)
    for record in records:
        _through_the_adapter(network, record)


def _assert_every_line_in_one_record(content: bytes, records: list[Record], encoding: str, first: int) -> None:
    """Records cover the file from line ``first`` on, in order, each with its own lines' bytes; the rest is blank."""
    lines = [line + b"\n" for line in content.split(b"\n")[:-1]]
    covered: set[int] = set()
    for record in records:
        span = range(record.line, record.line + record.raw.count(b"\n"))
        assert record.raw == b"".join(lines[n - 1] for n in span)
        assert not covered & set(span) and all(n > max(covered, default=first - 1) for n in span)
        covered |= set(span)
    for number in range(first, len(lines) + 1):
        if number not in covered:
            assert not lines[number - 1].decode("utf-8" if encoding == "utf-8-sig" else encoding).strip()


@BOUNDED
@given(header=st.sampled_from([b"sjbh,fssj,sjms", b"TASK_NUM,DISCOVER_TIME,EVENT_DESC"]),
       lines=st.lists(_ANY_LINE, max_size=10), network=st.sampled_from(list(FORMATS)))  # fmt: skip
@example(header=b"sjbh,fssj,sjms", lines=[b'"open quote,x', b"a,b,c", b"q\rr,s,t"], network=SourceNetwork.COMPREHENSIVE)
@example(header=b"sjbh,fssj,sjms", lines=[b"\xd5\xe2,\xff,x", b'"a\x00",b,c'], network=SourceNetwork.COMPREHENSIVE)
def test_any_csv_bytes_after_a_header_give_records_never_a_crash(
    header: bytes, lines: list[bytes], network: SourceNetwork
) -> None:
    content = b"\n".join([header, *lines]) + b"\n"
    path = _file(content, ".csv")
    records = _read_all(path)
    _assert_every_line_in_one_record(content, records, read_records(path)[0], first=2)
    for record in records:
        assert (record.payload is None) != (record.error is None)
        _through_the_adapter(network, record)
