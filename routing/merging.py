"""Which open case a new report belongs to (一事多报, DESIGN "One incident, many reports").

:func:`find_match` weighs, for each open case, the evidence a clerk would
accept, against the rules of ``merge.yaml``:

- **place**: two points (WGS-84) within ``place.metres``, plus the slack of
  each side's network when its points are geocoded from what a caller said
  (12345). When either side has no point, the same grid id — a grid is
  kilometres wide, so the texts must not name two different places of one
  kind (人民路 and 解放路, 3组 and 11组). With neither a point nor a grid a
  report is never merged automatically. A case is placed by its
  :attr:`Candidate.anchor`: its first report, or the first linked one with a
  point when the first had none.
- **category**: the same subcategory, or two subcategories in one
  compatibility group (networks classify one pothole differently), or a
  report classified to a category only ("vague") that could be one of them.
  Different problems at one spot never merge.
- **time**, on the incident's own time (``occurred_at``, not arrival), to the
  nearest of the case's first and latest report: a transient event within
  ``time.transient``; a persistent problem (both sides persistent) within
  ``time.persistent``, which ``open`` makes "while the case is open" — the
  caller passes open cases only, so a closed case is never joined.
- **text**: character-bigram overlap, after the framing that says who speaks
  ("来电人反映…") is taken out, divided by the smaller side's bigrams so an
  inspector's terse "井盖缺失" can match a caller's long summary; each kind
  of relation (and grid evidence) has its own gate. Among several qualifying
  cases it also picks the best.

Pure: no Kafka and no I/O besides reading the data file.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Final

from district.geometry import distance_m
from infra.datafile import Doc, Source, YList, YMap, read_doc
from routing import default_data_dir, load_taxonomy
from routing.sla import parse_duration
from routing.taxonomy import Taxonomy
from schemas.vocabulary import SourceNetwork

MERGE_FILE: Final = "merge.yaml"
PERSISTENT: Final = "persistent"
TRANSIENT: Final = "transient"
KINDS: Final = (PERSISTENT, TRANSIENT)
OPEN: Final = "open"
#: evidence rule → how the clerk reads it
RULE_NAMES: Final = {
    "same_incident": "同一事件",
    "persistent_problem": "同一持续问题, 案件未结",
    "same_grid": "同一网格, 描述相符",
}
_METRES_PER_DEGREE: Final = math.radians(1) * 6371008.8  # the radius district.geometry.distance_m uses
_CELL_MARGIN: Final = 1.01  # columns are scaled at a row's centre: keep 1 % for the curvature across a row
_WORD: Final = re.compile(r"[0-9a-z\u3400-\u9fff]+")


@dataclass(frozen=True)
class Incident:
    """A report as the merge sees it (after placement and classification)."""

    report_id: uuid.UUID
    network: str  # schemas.vocabulary.SourceNetwork value
    category: str  # schemas.vocabulary.Category value
    subcategory: str | None
    lat: float | None  # WGS-84
    lon: float | None
    grid_id: str | None
    occurred_at: datetime  # aware
    text: str  # title + description

    @property
    def has_point(self) -> bool:
        """True if the report carries a point."""
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class Candidate:
    """An open case, as the merge remembers it."""

    case_id: uuid.UUID
    first: Incident  # the report that opened it
    last_occurred_at: datetime  # latest occurred_at among its linked reports
    reports: int  # how many reports it has
    #: the first linked report with a point when the opening report had none: it places the case
    #: from then on (index the case under its cell when :meth:`linked` sets it)
    placed_by: Incident | None = None

    @classmethod
    def opened(cls, case_id: uuid.UUID, report: Incident) -> Candidate:
        """The case ``report`` opens."""
        return cls(case_id, report, report.occurred_at, 1)

    @property
    def anchor(self) -> Incident:
        """The report whose point places the case: the first, unless a later one brought the point."""
        return self.placed_by or self.first

    def linked(self, report: Incident) -> Candidate:
        """This case after ``report`` joined it: one more report, perhaps a later latest time or its first point."""
        placed = self.placed_by
        if placed is None and not self.first.has_point and report.has_point:
            placed = report
        return replace(
            self,
            last_occurred_at=max(self.last_occurred_at, report.occurred_at),
            reports=self.reports + 1,
            placed_by=placed,
        )


@dataclass(frozen=True)
class MergeEvidence:
    """Why a report joins a case (shown to the clerk)."""

    case_id: uuid.UUID
    rule: str  # a key of RULE_NAMES
    metres: float | None  # None: placed by grid only
    minutes: float  # |occurred_at difference| in minutes, to the nearest of the case's first and latest
    text_similarity: float

    def summary(self) -> str:
        """One Chinese line, e.g. "相距 35 米, 相隔 42 分钟, 文本相似度 0.61 (同一事件)"."""
        place = "同一网格 (无坐标)" if self.metres is None else f"相距 {self.metres:.0f} 米"
        return f"{place}, 相隔 {_span(self.minutes)}, 文本相似度 {self.text_similarity:.2f} ({RULE_NAMES[self.rule]})"


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

    def pair_kind(self, a: Incident, b: Incident) -> str:
        """Persistent only if both sides are (an unknown subcategory takes the other side's kind)."""
        kinds = {self.kind(r.category, r.subcategory) for r in (a, b) if r.subcategory is not None}
        if not kinds:
            return self.default_kind
        return PERSISTENT if kinds == {PERSISTENT} else TRANSIENT


def find_match(report: Incident, candidates: Iterable[Candidate], rules: MergeRules) -> MergeEvidence | None:
    """The open case ``report`` is most likely the same incident as, with the evidence; None if none is.

    Among several cases that qualify, point evidence beats grid evidence, then
    the higher text similarity plus closeness in space wins, then the nearer time.
    """
    best: tuple[tuple[bool, float, float], MergeEvidence] | None = None
    for candidate in candidates:
        evidence = _evidence(report, candidate, rules)
        if evidence is None:
            continue
        closeness = 0.0
        if evidence.metres is not None:
            closeness = 1.0 - evidence.metres / rules.reach(report.network, candidate.anchor.network)
        key = (evidence.metres is not None, evidence.text_similarity + closeness, -evidence.minutes)
        if best is None or key > best[0]:
            best = (key, evidence)
    return None if best is None else best[1]


def _evidence(report: Incident, candidate: Candidate, rules: MergeRules) -> MergeEvidence | None:
    case, anchor = candidate.first, candidate.anchor
    if case.report_id == report.report_id:
        return None  # a repeat of the report that opened the case is not a second report
    relation = rules.relation(report, case)
    if relation is None:
        return None
    metres: float | None = None
    if report.has_point and anchor.has_point:
        metres = distance_m(report.lat, report.lon, anchor.lat, anchor.lon)  # type: ignore[arg-type]
        if metres > rules.reach(report.network, anchor.network):
            return None
    elif report.grid_id is None or report.grid_id not in (case.grid_id, anchor.grid_id):
        return None
    elif all(places_differ(report.text, r.text, rules) for r in {case, anchor}):
        return None  # one grid, but the texts name two different roads (or 组, or estates)
    minutes = _minutes_apart(report.occurred_at, case.occurred_at, candidate.last_occurred_at)
    within_transient = minutes <= rules.transient_minutes
    if not within_transient:
        if rules.pair_kind(report, case) == TRANSIENT:
            return None
        if rules.persistent_minutes is not None and minutes > rules.persistent_minutes:
            return None
    similarity = max(text_similarity(report.text, r.text, rules) for r in {case, anchor})
    gate = {"same": rules.text.same_subcategory, "related": rules.text.related, "vague": rules.text.vague}[relation]
    if metres is None:
        gate = max(gate, rules.text.same_grid)
    if similarity < gate:
        return None
    rule = "same_grid" if metres is None else "same_incident" if within_transient else "persistent_problem"
    return MergeEvidence(candidate.case_id, rule, metres, minutes, similarity)


def _minutes_apart(at: datetime, first: datetime, last: datetime) -> float:
    """Minutes from ``at`` to the span between the case's first and latest report (0 inside it)."""
    lo, hi = min(first, last), max(first, last)
    if at < lo:
        return (lo - at).total_seconds() / 60
    if at > hi:
        return (at - hi).total_seconds() / 60
    return 0.0


def _span(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} 分钟"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} 小时"
    return f"{minutes / 1440:.1f} 天"


# -- text ------------------------------------------------------------------------------------


def text_similarity(a: str, b: str, rules: MergeRules) -> float:
    """Shared character bigrams over the smaller side's count (0–1), framing taken out.

    Chinese has no spaces and the project has no segmenter on this path;
    bigrams catch "井盖" in both "井盖缺失" and "有个井盖不见了". Dividing by
    the smaller side keeps a terse inspector's report from scoring low
    against a long call summary.
    """
    x, y = _bigrams(a, rules.text.framing), _bigrams(b, rules.text.framing)
    if not x or not y:
        return 0.0
    return len(x & y) / min(len(x), len(y))


def places_differ(a: str, b: str, rules: MergeRules) -> bool:
    """True if both texts name a place of one kind (a road, a 组, an estate) and no name of it is in both.

    "人民路 … 井盖缺失" and "解放路 … 井盖丢失" in one grid are two covers;
    "翠苑小区门口" and "环城东路6号门前" may be one spot named two ways, so
    names of different kinds never differ.
    """
    x, y = place_names(a, rules), place_names(b, rules)
    return any(x[kind] and y[kind] and not x[kind] & y[kind] for kind in x)


def place_names(text: str, rules: MergeRules) -> dict[str, frozenset[str]]:
    """Each kind of place → the names of it in ``text``: a suffix and the two characters before it ("民主路", "3组")."""
    return _place_names(text, rules.text)


@lru_cache(maxsize=8192)
def _place_names(text: str, rules: TextRules) -> dict[str, frozenset[str]]:
    for word in rules.not_places:
        text = text.replace(word, " ")
    found: dict[str, frozenset[str]] = {}
    for kind, pattern in rules.places:
        # overlapping matches: in "发现翠苑小区" both "现翠苑" and "翠苑小区" are tried, so the real name is among them
        names = (m.group(1) for m in pattern.finditer(text))
        found[kind] = frozenset(n for n in names if not rules.not_in_names & set(n[:2]))
    return found


@lru_cache(maxsize=8192)
def _bigrams(text: str, framing: tuple[str, ...]) -> frozenset[str]:
    cleaned = text.lower()
    for phrase in framing:  # replaced by a space, so no bigram spans the gap it leaves
        cleaned = cleaned.replace(phrase, " ")
    grams: set[str] = set()
    for run in _WORD.findall(cleaned):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(grams)


# -- cells -----------------------------------------------------------------------------------


def cell_of(lat: float, lon: float, rules: MergeRules) -> str:
    """The key of the ``cell_metres`` square the point lies in, e.g. ``"8470:37561"``."""
    row = _row(lat, rules)
    return f"{row}:{_column(lon, row, rules)}"


def neighbour_cells(lat: float, lon: float, rules: MergeRules) -> list[str]:
    """The point's cell and the 8 around it: every case within reach has its anchor's point in one.

    A case is in the cell of its :attr:`Candidate.anchor`; one without a
    point yet is in no cell, and the pipeline finds it by grid id.
    """
    row = _row(lat, rules)
    cells: list[str] = []
    for r in (row - 1, row, row + 1):
        column = _column(lon, r, rules)  # each row's own scale, as cell_of computes it for points in that row
        cells.extend(f"{r}:{c}" for c in (column - 1, column, column + 1))
    return cells


def _row(lat: float, rules: MergeRules) -> int:
    return math.floor(lat * _METRES_PER_DEGREE / rules.cell_metres)


def _column(lon: float, row: int, rules: MergeRules) -> int:
    centre = (row + 0.5) * rules.cell_metres / _METRES_PER_DEGREE
    return math.floor(lon * _METRES_PER_DEGREE * math.cos(math.radians(centre)) / rules.cell_metres)


# -- loading ---------------------------------------------------------------------------------


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
