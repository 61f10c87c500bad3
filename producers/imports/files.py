"""Reading a network's nightly export (夜间导出文件): CSV or JSON Lines, UTF-8 or GBK, line by line.

Government exports still come in GBK more often than not, and a file may be
broken in places (a truncated line, a stray byte, a row with a column too
many). So a file is read record by record, each with the number of its
first line and its own bytes: a bad record is reported and kept as it was,
and the good ones around it go through.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from producers.networks.errors import AdapterError
from producers.networks.fields import Fields

#: how much of a file is looked at to tell UTF-8 from GBK
SAMPLE_BYTES = 1 << 16
#: a single record longer than this is refused (a runaway quote, or hostile input)
MAX_RECORD_BYTES = 1 << 20


@dataclass(frozen=True)
class Record:
    """One event of the file: its first line, its bytes, and the payload or why it cannot be read."""

    line: int
    raw: bytes
    payload: dict[str, Any] | None
    error: str | None = None
    field: str | None = None


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the start of the file is valid UTF-8 (with or without a BOM), else ``gb18030``.

    GB18030 is the superset of GBK and GB2312 that Python reads, so a GBK
    export is read right; a UTF-8 file cut in the middle of a character at
    the sample's end is still UTF-8.
    """
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def file_format(path: Path) -> str:
    """``csv`` or ``jsonl``, by the file's ending."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ValueError(f"{path.name}: 不支持的文件类型 {suffix or '(无后缀)'}，请用 .csv 或 .jsonl")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            yield number, line


def _decode(raw: bytes, encoding: str, number: int) -> str:
    if number == 1 and encoding == "utf-8-sig":
        return raw.decode("utf-8-sig")
    return raw.decode("utf-8" if encoding == "utf-8-sig" else encoding)


def read_jsonl(path: Path, encoding: str) -> Iterator[Record]:
    """Every non-blank line as one JSON object."""
    for number, raw in _lines(path):
        if not raw.strip():
            continue
        if len(raw) > MAX_RECORD_BYTES:
            yield Record(number, raw, None, f"这一行太长 ({len(raw)} 字节)")
            continue
        try:
            value = json.loads(_decode(raw, encoding, number))
        except UnicodeDecodeError as exc:
            yield Record(number, raw, None, f"编码错误 ({encoding}): {exc.reason}")
            continue
        except ValueError as exc:
            yield Record(number, raw, None, f"不是合法的 JSON: {exc}")
            continue
        except RecursionError:  # json.loads of "[[[[…" a few thousand deep: bad line, not a crashed import
            yield Record(number, raw, None, "不是合法的 JSON: 嵌套过深")
            continue
        if not isinstance(value, dict):
            yield Record(number, raw, None, "每一行应是一个 JSON 对象")
            continue
        try:
            # json.loads takes NaN, Infinity and lone surrogates ("\ud800"), which cannot be sent on as
            # JSON: the line is bad, naming its field, instead of the import stopping at the POST.
            Fields.of(value)
        except AdapterError as exc:
            yield Record(number, raw, None, exc.message, exc.field)
            continue
        yield Record(number, raw, value)


def read_csv(path: Path, encoding: str) -> Iterator[Record]:
    """Every CSV record (a quoted field may span lines, as call-takers' summaries do) as header → value.

    Physical lines are gathered until the record's quotes balance, then the
    record is parsed alone, so one broken record cannot swallow the rest.
    """
    header: list[str] | None = None
    pending: list[bytes] = []
    text: list[str] = []
    first = 0
    for number, raw in _lines(path):
        if not pending:
            first = number
        pending.append(raw)
        try:
            text.append(_decode(raw, encoding, number))
        except UnicodeDecodeError as exc:
            if header is None:
                raise ValueError(f"{path.name}:{number}: 表头编码错误 ({encoding})") from exc
            yield Record(first, b"".join(pending), None, f"编码错误 ({encoding}): {exc.reason}")
            pending, text = [], []
            continue
        blob = "".join(text)
        if blob.count('"') % 2 == 1 and sum(map(len, pending)) <= MAX_RECORD_BYTES:
            continue  # inside a quoted field that goes on on the next line
        raw_record, pending, text = b"".join(pending), [], []
        if not blob.strip():
            continue
        try:
            rows = list(csv.reader([blob], strict=True))
        except csv.Error as exc:
            yield Record(first, raw_record, None, f"记录无法读取: {exc}")
            continue
        row = rows[0] if len(rows) == 1 else None
        if row is None:
            yield Record(first, raw_record, None, "记录无法读取 (引号不成对)")
            continue
        if header is None:
            header = [h.strip() for h in row]
            if len(set(header)) != len(header) or not all(header):
                raise ValueError(f"{path.name}:{first}: 表头有空列名或重复列名")
            continue
        if len(row) != len(header):
            yield Record(first, raw_record, None, f"列数 {len(row)} 与表头的 {len(header)} 列不符")
            continue
        yield Record(first, raw_record, {name: value for name, value in zip(header, row) if value != ""})
    if pending:
        yield Record(first, b"".join(pending), None, "文件在一个带引号的字段中间结束")


def read_records(path: Path, encoding: str = "auto") -> tuple[str, Iterator[Record]]:
    """The file's encoding (as used) and its records."""
    used = detect_encoding(path) if encoding == "auto" else encoding
    codecs.lookup(used)  # an unknown encoding name fails here, before any line is read
    reader = read_csv if file_format(path) == "csv" else read_jsonl
    return used, reader(path, used)
