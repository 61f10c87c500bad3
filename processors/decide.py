"""Where a report goes: classification, place and routing rules combined (pure, no Kafka).

The case agent and ``gridflow classify`` both call :func:`decide`, so the
command line shows exactly what the pipeline would do with a text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from classifier import ReportClassifier
from district import Registry
from routing import RuleSet, route, triage


@dataclass(frozen=True)
class Decision:
    """分类与派遣: category, severity and the departments a report goes to."""

    category: str
    subcategory: str | None
    severity: str
    confidence: float
    lead_department: str
    co_departments: tuple[str, ...]
    triage_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["co_departments"] = list(self.co_departments)
        return data


def decide(
    text: str,
    *,
    grid_id: str | None,
    category_hint: str | None,
    town: str | None = None,
    classifier: ReportClassifier,
    registry: Registry,
    rules: RuleSet,
    min_confidence: float,
    excluded: frozenset[str] = frozenset(),
) -> Decision:
    """Classify ``text`` and route it; below ``min_confidence`` the command centre triages it (ZZZX)."""
    c = classifier.classify(text, category_hint=category_hint)
    grid = registry.grid(grid_id) if grid_id else None
    town = grid.town_code if grid is not None else town
    if c.confidence < min_confidence:
        dispatch = triage(f"low_confidence: 分类把握不足 ({c.confidence:.2f})")
    else:
        dispatch = route(
            rules, category=c.category, subcategory=c.subcategory, town=town, severity=c.severity, excluded=excluded
        )
    return Decision(
        category=c.category,
        subcategory=c.subcategory,
        severity=c.severity,
        confidence=round(float(c.confidence), 4),
        lead_department=dispatch.lead,
        co_departments=tuple(dispatch.co_handlers),
        triage_reason=dispatch.triage_reason,
    )
