"""The merge's rules (一事多报), read from ``merge.yaml`` with a validator that names ``file:line``.

The numbers and lists a district may change without touching code: how
far apart and how long apart two reports of one incident may be, the text
gates, which subcategories are persistent problems, which may merge across,
the spatial cell the candidates are filed by. How each is used is the
business of :mod:`routing.merging`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from infra.datafile import Doc, Source, YList, YMap, read_doc
from routing import default_data_dir, load_taxonomy
from routing.sla import parse_duration
from routing.taxonomy import Taxonomy
from schemas.vocabulary import SourceNetwork

if TYPE_CHECKING:
    from routing.merging import Incident

MERGE_FILE: Final = "merge.yaml"
PERSISTENT: Final = "persistent"
TRANSIENT: Final = "transient"
KINDS: Final = (PERSISTENT, TRANSIENT)
OPEN: Final = "open"
_CELL_MARGIN: Final = 1.01  # columns are scaled at a row's centre: keep 1 % for the curvature across a row


@dataclass(frozen=True)
class TextRules:
    """The text gates (bigram overlap, 0–1), the framing taken out, and the words that name places."""

    same_subcategory: float
    related: float
    vague: float
    same_grid: float
    framing: tuple[str, ...]  # longest first, so a long phrase goes before its parts
    places: tuple[tuple[str, re.Pattern[str]], ...] = ()  # (kind, pattern finding every name of that kind)
    not_places: tuple[str, ...] = ()  # taken out before looking for names
    not_in_names: frozenset[str] = frozenset()  # characters no name's last two characters hold


@dataclass(frozen=True)
class MergeRules:
    """merge.yaml, validated: see the module docstring for how each value is used."""

    file: str
    cell_metres: float
    metres: float
    slack_metres: Mapping[str, float]
    transient_minutes: float
    persistent_minutes: float | None  # None: while the case is open
    text: TextRules
    default_kind: str
    kinds: Mapping[str, str] = field(repr=False)  # "CATEGORY/sub" → persistent | transient
    groups: tuple[frozenset[str], ...] = field(repr=False)

    @property
    def longest_reach(self) -> float:
        """The farthest two points may be apart and still merge (both sides with the largest slack)."""
        return self.metres + 2 * max(self.slack_metres.values(), default=0.0)

    def reach(self, a: str, b: str) -> float:
        """How far apart points from networks ``a`` and ``b`` may be."""
        return self.metres + self.slack_metres.get(a, 0.0) + self.slack_metres.get(b, 0.0)

    def kind(self, category: str, subcategory: str | None) -> str:
        """persistent or transient for this subcategory (the default when unlisted or unknown)."""
        if subcategory is None:
            return self.default_kind
        return self.kinds.get(f"{category}/{subcategory}", self.default_kind)

    def relation(self, a: Incident, b: Incident) -> str | None:
        """"same" (one subcategory), "related" (one group), "vague" (an unknown subcategory that could fit) or None.

        A report classified to a category only may be any of its subcategories:
        it relates to its own category and to whatever shares a group with one
        of its subcategories.
        """
        if a.subcategory is None or b.subcategory is None:
            if a.category == b.category:
                return "vague"
            if a.subcategory is None and b.subcategory is None:
                return None
            vague, known = (a, b) if a.subcategory is None else (b, a)
            code = f"{known.category}/{known.subcategory}"
            prefix = f"{vague.category}/"
            return "vague" if any(code in g and any(m.startswith(prefix) for m in g) for g in self.groups) else None
        x, y = f"{a.category}/{a.subcategory}", f"{b.category}/{b.subcategory}"
        if x == y:
            return "same"
        return "related" if any(x in g and y in g for g in self.groups) else None

    def related_categories(self, category: str, subcategory: str | None) -> frozenset[str]:
        """Every category a report of ``category``/``subcategory`` may relate to (:meth:`relation` not None).

        Its own, and the categories of every group that holds its code (or,
        with no subcategory, any code of its category): open cases are filed
        by category, and a report looks only under these.
        """
        found = {category}
        prefix = f"{category}/"
        for group in self.groups:
            if (f"{prefix}{subcategory}" in group) if subcategory else any(m.startswith(prefix) for m in group):
                found.update(member.split("/", 1)[0] for member in group)
        return frozenset(found)

    def pair_kind(self, a: Incident, b: Incident) -> str:
        """Persistent only if both sides are (an unknown subcategory takes the other side's kind)."""
        kinds = {self.kind(r.category, r.subcategory) for r in (a, b) if r.subcategory is not None}
        if not kinds:
            return self.default_kind
        return PERSISTENT if kinds == {PERSISTENT} else TRANSIENT


def load_merge_rules(path: str | Path | None = None, *, taxonomy: Taxonomy | None = None) -> MergeRules:
    """The merge rules; with no path (and no taxonomy), the shipped file, loaded once.

    Codes are checked against ``taxonomy`` (default: the shipped one);
    DataFileError names the file and line at fault.
    """
    if path is None and taxonomy is None:
        return _default_rules()
    source = default_data_dir() / MERGE_FILE if path is None else Path(path)
    return load_merge_file(source, taxonomy or load_taxonomy())


@lru_cache(maxsize=1)
def _default_rules() -> MergeRules:
    return load_merge_file(default_data_dir() / MERGE_FILE, load_taxonomy())


def load_merge_file(source: Source, taxonomy: Taxonomy) -> MergeRules:
    """Load and validate a merge file against ``taxonomy``; DataFileError names the file and line."""
    doc = read_doc(source)
    root = doc.mapping(doc.root, 1, "the merge file")
    doc.only_keys(root, ("cell_metres", "place", "time", "text", "kinds", "compatible"), "the merge file")
    for key in ("cell_metres", "place", "time", "text", "kinds"):
        if key not in root:
            doc.fail(root.line, f"the merge file has no {key!r}")
    place = doc.mapping(root["place"], root.line_of("place"), "place")
    doc.only_keys(place, ("metres", "slack_metres"), "place")
    metres = _number(doc, place, "metres", "place", positive=True)
    slack: dict[str, float] = {}
    if place.get("slack_metres") is not None:
        table = doc.mapping(place["slack_metres"], place.line_of("slack_metres"), "slack_metres")
        networks = tuple(n.value for n in SourceNetwork)
        for network in table:
            if network not in networks:
                doc.fail(table.line_of(network), f"unknown network {network!r} (expected one of {', '.join(networks)})")
            slack[network] = _number(doc, table, network, "slack_metres")
    transient, persistent = _times(doc, root)
    default_kind, kinds = _kinds(doc, root, taxonomy)
    rules = MergeRules(
        file=doc.file,
        cell_metres=_number(doc, root, "cell_metres", "the merge file", positive=True),
        metres=metres,
        slack_metres=slack,
        transient_minutes=transient,
        persistent_minutes=persistent,
        text=_text(doc, root),
        default_kind=default_kind,
        kinds=kinds,
        groups=_groups(doc, root, taxonomy),
    )
    if rules.cell_metres < rules.longest_reach * _CELL_MARGIN:
        doc.fail(
            root.line_of("cell_metres"),
            f"cell_metres {rules.cell_metres:g} is less than the longest reach {rules.longest_reach:g} m "
            f"(place.metres plus twice the largest slack) plus 1 %: neighbouring cells would miss cases",
        )
    return rules


def _number(doc: Doc, m: YMap, key: str, what: str, *, positive: bool = False) -> float:
    value = m.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0):
        kind = "a positive number" if positive else "a number of at least 0"
        doc.fail(m.line_of(key), f"{key!r} of {what} must be {kind}, not {value!r}")
    return float(value)


def _times(doc: Doc, root: YMap) -> tuple[float, float | None]:
    time = doc.mapping(root["time"], root.line_of("time"), "time")
    doc.only_keys(time, KINDS, "time")
    windows: dict[str, float | None] = {}
    for kind in KINDS:
        value = time.get(kind)
        if kind == PERSISTENT and value == OPEN:
            windows[kind] = None
            continue
        duration = parse_duration(value)
        if duration is None:
            also = " or 'open'" if kind == PERSISTENT else ""
            doc.fail(time.line_of(kind), f"time.{kind} must be a duration like 90m, 8h or 30d{also}, not {value!r}")
        windows[kind] = float(duration.minutes("wall", 0))
    transient, persistent = windows[TRANSIENT], windows[PERSISTENT]
    if persistent is not None and persistent < transient:  # type: ignore[operator]
        doc.fail(time.line_of(PERSISTENT), "time.persistent is shorter than time.transient")
    return transient, persistent  # type: ignore[return-value]


def _text(doc: Doc, root: YMap) -> TextRules:
    text = doc.mapping(root["text"], root.line_of("text"), "text")
    gates = ("same_subcategory", "related", "vague", "same_grid")
    doc.only_keys(text, (*gates, "framing", "places", "not_places", "not_in_names"), "text")
    values = {}
    for gate in gates:
        value = _number(doc, text, gate, "text")
        if value > 1:
            doc.fail(text.line_of(gate), f"text.{gate} is a similarity from 0 to 1, not {value:g}")
        values[gate] = value
    framing = [phrase for phrase, _ in doc.codes(text, "framing", "text")]
    not_in_names = text.get("not_in_names") or ""
    if not isinstance(not_in_names, str):
        doc.fail(text.line_of("not_in_names"), "text.not_in_names must be a string of characters")
    return TextRules(
        **values,
        framing=tuple(sorted(set(framing), key=lambda p: (-len(p), p))),
        places=_places(doc, text),
        not_places=tuple(w for w, _ in doc.codes(text, "not_places", "text")),
        not_in_names=frozenset(not_in_names),
    )


def _places(doc: Doc, text: YMap) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``kind: [suffix, ...]``; a suffix written ``#组`` follows a number (3组), any other two characters."""
    if text.get("places") is None:
        return ()
    table = doc.mapping(text["places"], text.line_of("places"), "text.places")
    out = []
    for kind in table:
        numbered, named = [], []
        for suffix, line in doc.codes(table, kind, f"text.places.{kind}"):
            if suffix.startswith("#") and len(suffix) > 1:
                numbered.append(re.escape(suffix[1:]))
            elif suffix.startswith("#"):
                doc.fail(line, f"text.places.{kind}: '#' must be followed by a suffix, e.g. '#组'")
            else:
                named.append(re.escape(suffix))
        if not numbered and not named:
            doc.fail(table.line_of(kind), f"text.places.{kind} lists no suffix")
        longest = lambda xs: "|".join(sorted(xs, key=len, reverse=True))  # noqa: E731
        forms = ([rf"(?<!\d)\d+(?:{longest(numbered)})"] if numbered else []) + (
            [rf"[\u3400-\u9fff]{{2}}(?:{longest(named)})"] if named else []
        )
        out.append((kind, re.compile("(?=(" + "|".join(forms) + "))")))
    return tuple(out)


def _code(doc: Doc, value: object, line: int, taxonomy: Taxonomy, what: str) -> str:
    category, _, sub = value.partition("/") if isinstance(value, str) else ("", "", "")
    if category not in taxonomy.categories:
        doc.fail(line, f"{what}: {value!r} is not CATEGORY/subcategory with a known category")
    if sub not in taxonomy.categories[category].subcategories:
        doc.fail(line, f"{what}: unknown subcategory {sub!r} of {category}")
    return f"{category}/{sub}"


def _kinds(doc: Doc, root: YMap, taxonomy: Taxonomy) -> tuple[str, dict[str, str]]:
    kinds = doc.mapping(root["kinds"], root.line_of("kinds"), "kinds")
    doc.only_keys(kinds, ("default", *KINDS), "kinds")
    default = doc.text(kinds, "default", "kinds")
    if default not in KINDS:
        doc.fail(kinds.line_of("default"), f"kinds.default must be one of {', '.join(KINDS)}, not {default!r}")
    found: dict[str, str] = {}
    lines: dict[str, int] = {}
    for kind in KINDS:
        seq: YList = doc.sequence(kinds.get(kind, YList(kinds.line)), kinds.line_of(kind), f"kinds.{kind}")
        for value, line in zip(seq, seq.lines):
            code = _code(doc, value, line, taxonomy, f"kinds.{kind}")
            if code in found:
                doc.fail(line, f"{code} is listed twice in kinds (first at line {lines[code]})")
            found[code], lines[code] = kind, line
    return default, found  # type: ignore[return-value]


def _groups(doc: Doc, root: YMap, taxonomy: Taxonomy) -> tuple[frozenset[str], ...]:
    if root.get("compatible") is None:
        return ()
    seq = doc.sequence(root["compatible"], root.line_of("compatible"), "compatible")
    groups: list[frozenset[str]] = []
    for entry, line in zip(seq, seq.lines):
        members = doc.sequence(entry, line, "a compatibility group")
        codes = [_code(doc, v, ln, taxonomy, "compatible") for v, ln in zip(members, members.lines)]
        if len(set(codes)) < 2 or len(set(codes)) != len(codes):
            doc.fail(line, "a compatibility group needs two or more different codes, each once")
        groups.append(frozenset(codes))
    return tuple(groups)
