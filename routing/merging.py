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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Final

from district.geometry import distance_m
from routing.merge_rules import TRANSIENT, MergeRules, TextRules

#: evidence rule → how the clerk reads it
RULE_NAMES: Final = {
    "same_incident": "同一事件",
    "persistent_problem": "同一持续问题, 案件未结",
    "same_grid": "同一网格, 描述相符",
}
_METRES_PER_DEGREE: Final = math.radians(1) * 6371008.8  # the radius district.geometry.distance_m uses
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
