"""Reading export files: encodings, multi-line CSV records, bad lines with their numbers and bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from producers.imports.files import MAX_RECORD_BYTES, detect_encoding, read_records

CSV_TEXT = 'sjbh,nr,sj\nA1,"来电人反映:\n小区路灯不亮",2026/11/25 08:40\nA2,井盖缺失,2026/11/25 09:00,多余\n\nA3,"他说""快修""",2026/11/25 10:00\n'


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8-sig"), ("gbk", "gb18030")])
def test_a_csv_in_utf8_or_gbk_reads_the_same(tmp_path: Path, encoding: str, expected: str) -> None:
    path = _write(tmp_path, "export.csv", CSV_TEXT.encode(encoding))
    used, records = read_records(path)
    got = list(records)
    assert used == expected
    assert [(r.line, r.payload) for r in got if r.payload] == [
        (2, {"sjbh": "A1", "nr": "来电人反映:\n小区路灯不亮", "sj": "2026/11/25 08:40"}),
        (6, {"sjbh": "A3", "nr": '他说"快修"', "sj": "2026/11/25 10:00"}),
    ]
    bad = [r for r in got if r.payload is None]
    assert [(r.line, r.error) for r in bad] == [(4, "列数 4 与表头的 3 列不符")]
    assert bad[0].raw == "A2,井盖缺失,2026/11/25 09:00,多余\n".encode(encoding)


def test_a_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + "sjbh,nr\nA1,路灯\n".encode())
    _used, records = read_records(path)
    assert [r.payload for r in records] == [{"sjbh": "A1", "nr": "路灯"}]


def test_a_stray_byte_spoils_its_line_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "mixed.jsonl", b'{"a": "\xe8\xb7\xaf"}\n{"a": "\xff\xfe"}\n{"a": "ok"}\n')
    assert detect_encoding(path) == "gb18030"  # not valid UTF-8 from the start
    _used, records = read_records(path, encoding="utf-8")
    got = list(records)
    assert [r.line for r in got if r.payload] == [1, 3]
    assert got[1].line == 2 and "编码错误" in (got[1].error or "")


def test_jsonl_lines_that_are_not_objects_are_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"x": 1}), "[1, 2]", "{not json", "", json.dumps({"x": 2})]
    path = _write(tmp_path, "events.jsonl", ("\n".join(lines) + "\n").encode())
    _used, records = read_records(path)
    got = [(r.line, r.payload, r.error is not None) for r in records]
    assert got == [(1, {"x": 1}, False), (2, None, True), (3, None, True), (5, {"x": 2}, False)]


def test_an_unclosed_quote_ends_as_one_bad_record_not_a_swallowed_file(tmp_path: Path) -> None:
    body = 'k,v\nA1,"never closed\n' + "A2,x\n" * 3
    path = _write(tmp_path, "broken.csv", body.encode())
    _used, records = read_records(path)
    got = list(records)
    assert len(got) == 1 and got[0].line == 2 and got[0].payload is None


def test_a_runaway_record_is_cut_off_at_the_size_limit(tmp_path: Path) -> None:
    line = "A2," + "x" * 1000 + "\n"
    body = 'k,v\nA1,"' + line * (MAX_RECORD_BYTES // len(line) + 2) + "B1,y\n"
    path = _write(tmp_path, "runaway.csv", body.encode())
    _used, records = read_records(path)
    first = next(iter(records))
    assert first.payload is None and first.line == 2


@pytest.mark.parametrize("name", ["export.txt", "export"])
def test_an_unknown_file_type_is_refused(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, b"x")
    with pytest.raises(ValueError, match=".csv"):
        read_records(path)


def test_a_header_with_a_repeated_column_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.csv", b"a,a\n1,2\n")
    _used, records = read_records(path)
    with pytest.raises(ValueError, match="dup.csv:1"):
        list(records)


@pytest.mark.parametrize(
    "value, field",
    [('{"sjms": NaN}', "sjms"), ('{"jd": Infinity}', "jd"), ('{"sjms": "\\ud800路灯"}', "sjms")],
    ids=["nan", "infinity", "lone-surrogate"],
)
def test_a_jsonl_value_that_cannot_be_sent_on_as_json_is_a_bad_line_naming_its_field(
    tmp_path: Path, value: str, field: str
) -> None:
    # json.loads takes these; the POST to the intake could not encode them and the import would stop.
    lines = ['{"sjbh": "A1", "sjms": "路灯"}', value, '{"sjbh": "A3", "sjms": "井盖"}']
    path = _write(tmp_path, "export.jsonl", ("\n".join(lines) + "\n").encode())
    _used, records = read_records(path)
    got = list(records)
    assert [r.line for r in got if r.payload] == [1, 3]
    (bad,) = [r for r in got if r.payload is None]
    assert (bad.line, bad.field, bad.raw) == (2, field, value.encode() + b"\n")
    assert bad.error and "JSON" in bad.error
