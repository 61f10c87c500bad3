"""Reading the district's data files (routing rules, webhooks, alert and target thresholds) as YAML that remembers lines.

PyYAML's ``safe_load`` forgets positions and silently keeps the last of two
equal mapping keys. The data files are edited by hand and a wrong rule
misroutes real cases, so we compose the node tree ourselves: every mapping
and sequence keeps the (1-based) line of each of its values, duplicate keys
are refused, and every error names the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

import yaml

Source = Path | Traversable


class DataFileError(ValueError):
    """A data file is malformed; the message is ``FILE:LINE: problem``."""

    def __init__(self, file: object, line: int | None, problem: str) -> None:
        self.file = str(file)
        self.line = line
        self.problem = problem
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {problem}")


class YMap(dict[str, Any]):
    """A YAML mapping with the line of the mapping and of each value."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        """The line of ``key``'s value, or of the mapping itself when the key is absent."""
        return self.lines.get(key, self.line)


class YList(list[Any]):
    """A YAML sequence with the line of the sequence and of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


class Doc:
    """One data file: its name (for errors), its parsed root and typed accessors."""

    def __init__(self, file: object, root: Any) -> None:
        self.file = str(file)
        self.root = root

    def fail(self, line: int | None, problem: str) -> NoReturn:
        """Raise DataFileError at this file and line."""
        raise DataFileError(self.file, line, problem)

    def mapping(self, value: Any, line: int, what: str) -> YMap:
        """``value`` as a mapping, or an error saying what was expected."""
        if not isinstance(value, YMap):
            self.fail(line, f"{what} must be a mapping")
        return value

    def sequence(self, value: Any, line: int, what: str) -> YList:
        """``value`` as a sequence, or an error saying what was expected."""
        if not isinstance(value, YList):
            self.fail(line, f"{what} must be a list")
        return value

    def only_keys(self, m: YMap, allowed: Iterable[str], what: str) -> None:
        """Refuse keys outside ``allowed``: a misspelt key would otherwise be ignored silently."""
        allowed = tuple(allowed)
        for key in m:
            if key not in allowed:
                self.fail(m.line_of(key), f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)})")

    def text(self, m: YMap, key: str, what: str, *, required: bool = True) -> str | None:
        """``m[key]`` as a non-empty string; None if absent and not required."""
        if key not in m or m[key] is None:
            if required:
                self.fail(m.line, f"{what} has no {key!r}")
            return None
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(m.line_of(key), f"{key!r} of {what} must be a non-empty string, not {value!r}")
        return value

    def codes(self, m: YMap, key: str, what: str) -> list[tuple[str, int]]:
        """``m[key]`` as a list of strings with their lines ([] if absent)."""
        if key not in m or m[key] is None:
            return []
        seq = self.sequence(m[key], m.line_of(key), f"{key!r} of {what}")
        out: list[tuple[str, int]] = []
        for item, line in zip(seq, seq.lines):
            if not isinstance(item, str) or not item:
                self.fail(line, f"{key!r} of {what} must hold codes, not {item!r}")
            out.append((item, line))
        return out


def read_doc(source: Source) -> Doc:
    """Parse a YAML file into YMap/YList/scalars, keeping lines; DataFileError if unreadable."""
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(source, None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DataFileError(source, line, f"not valid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise DataFileError(source, None, f"not valid YAML: {exc}") from exc
    if node is None:
        raise DataFileError(source, 1, "the file is empty")
    return Doc(source, _build(node, str(source), yaml.constructor.SafeConstructor()))


def _build(node: yaml.Node, file: str, scalars: yaml.constructor.SafeConstructor) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        m = YMap(line)
        for key_node, value_node in node.value:
            key = _build(key_node, file, scalars)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise DataFileError(file, key_line, f"keys must be strings, not {key!r}")
            if key in m:
                raise DataFileError(file, key_line, f"duplicate key {key!r} (first at line {m.lines[key]})")
            m[key] = _build(value_node, file, scalars)
            m.lines[key] = key_line
        return m
    if isinstance(node, yaml.SequenceNode):
        seq = YList(line)
        for item in node.value:
            seq.append(_build(item, file, scalars))
            seq.lines.append(item.start_mark.line + 1)
        return seq
    try:
        return scalars.construct_object(node)
    except ValueError as exc:  # e.g. an impossible date such as 2026-02-30
        kind = "date" if str(node.tag).endswith("timestamp") else "value"
        raise DataFileError(file, line, f"not a valid {kind}: {node.value!r} ({exc})") from exc
