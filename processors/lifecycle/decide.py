"""Where a report goes: classification, place and routing rules combined (pure, no Kafka).

Two steps, so the pipeline can take them at different moments:
:func:`classification_of` runs once, when a report is accepted (its answer is
kept with the case); :func:`plan_dispatch` runs whenever the case needs a
lead — at opening, and again after a return with the returners excluded.
``gridflow classify`` calls :func:`decide`, both at once, so the command line
shows exactly what the pipeline would do with a text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

from classifier import ReportClassifier
from district import Registry
from routing import Dispatch, RuleSet, route, triage
from schemas.case_flow import Classification
from schemas.report import AcceptedReport


def classification_of(
    classifier: ReportClassifier,
    text: str,
    category_hint: str | None,
    severity_hint: str | None = None,
    subcategory_hint: str | None = None,
) -> Classification:
    """The classifier's answer for a report, as the record the case keeps.

    The reporter's severity hint can raise the severity, never lower it: a
    grid worker standing in front of the danger outranks the model, and a
    P1 found by the danger words is not talked down. A network's code that
    names a subcategory (城管's 0103 污水井盖) is taken when the classifier
    agrees on the category: the network's code is more precise than words.
    """
    c = classifier.classify(text, category_hint=category_hint)
    subcategory = c.subcategory
    if subcategory_hint and category_hint and str(getattr(c.category, "value", c.category)) == category_hint:
        subcategory = subcategory_hint
    words = c.signals.get("danger_words") or []
    severity, source = c.severity, str(c.signals.get("severity_source", "model"))
    if severity_hint is not None and severity_hint < severity:  # "P1" < "P3": more urgent
        severity, source = severity_hint, "hint"
    return Classification(
        category=c.category,
        subcategory=subcategory,
        severity=severity,
        confidence=round(min(1.0, max(0.0, float(c.confidence))), 4),
        severity_source=source,
        danger_words=[str(w) for w in words],
    )


def report_text(report: AcceptedReport) -> str:
    """The text the classifier (and the merge) reads: the title (the reporter's own summary) and the description."""
    if report.description.startswith(report.title):
        return report.description
    return f"{report.title}。{report.description}"


def plan_dispatch(
    classification: Classification,
    town: str | None,
    rules: RuleSet,
    min_confidence: float,
    excluded: Iterable[str] = frozenset(),
) -> Dispatch:
    """Lead, co-handlers and SLA for a classified case in ``town``; triage (ZZZX) below ``min_confidence``."""
    if classification.confidence < min_confidence:
        return triage(
            f"low_confidence: 分类把握不足 ({classification.confidence:.2f})",
            sla=rules.sla.default(classification.severity.value),
        )
    return route(
        rules,
        category=classification.category.value,
        subcategory=classification.subcategory,
        town=town,
        severity=classification.severity.value,
        excluded=tuple(excluded),  # one entry per return: a set would count one department's two returns once
    )


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
    c = classification_of(classifier, text, category_hint)
    grid = registry.grid(grid_id) if grid_id else None
    town = grid.town_code if grid is not None else town
    dispatch = plan_dispatch(c, town, rules, min_confidence, excluded)
    return Decision(
        category=c.category.value,
        subcategory=c.subcategory,
        severity=c.severity.value,
        confidence=c.confidence,
        lead_department=dispatch.lead,
        co_departments=tuple(dispatch.co_handlers),
        triage_reason=dispatch.triage_reason,
    )
