"""Scoring a list of classifications against labelled reports.

Shared by :mod:`classifier.evaluate` (the frozen evaluation set) and
:mod:`classifier.selection` (out-of-fold predictions on the training set), so
both report the same figures computed the same way.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from classifier.classifier import Classification
from classifier.corpus import Report


def score(
    reports: Sequence[Report], predictions: Sequence[Classification], min_confidence: float
) -> dict[str, Any]:
    """Accuracy per category and overall, subcategory, P1 recall/precision, confusions, triage share."""
    if len(reports) != len(predictions):
        raise ValueError("reports and predictions differ in length")
    n = len(reports)
    per_cat: dict[str, dict[str, Any]] = {}
    for cat in sorted({r.category for r in reports}):
        rows = [(r, p) for r, p in zip(reports, predictions) if r.category == cat]
        correct = sum(1 for r, p in rows if p.category == cat)
        per_cat[cat] = {"n": len(rows), "correct": correct, "accuracy": round(correct / len(rows), 4)}
    cat_ok = [r.category == p.category for r, p in zip(reports, predictions)]
    sub_ok = [ok and r.subcategory == p.subcategory for ok, r, p in zip(cat_ok, reports, predictions)]
    tp = sum(1 for r, p in zip(reports, predictions) if r.severity == "P1" and p.severity == "P1")
    fn = sum(1 for r, p in zip(reports, predictions) if r.severity == "P1" and p.severity != "P1")
    fp = sum(1 for r, p in zip(reports, predictions) if r.severity != "P1" and p.severity == "P1")
    confusions = Counter((r.category, p.category) for r, p in zip(reports, predictions) if r.category != p.category)
    below = [p.confidence < min_confidence for p in predictions]
    kept = [ok for ok, b in zip(cat_ok, below) if not b]
    return {
        "n": n,
        "category_accuracy": round(sum(cat_ok) / n, 4),
        "per_category": per_cat,
        "subcategory_accuracy": round(sum(sub_ok) / n, 4),
        "subcategory_accuracy_given_category": round(sum(sub_ok) / max(1, sum(cat_ok)), 4),
        "severity_accuracy": round(sum(r.severity == p.severity for r, p in zip(reports, predictions)) / n, 4),
        "p1": {
            "recall": round(tp / max(1, tp + fn), 4),
            "precision": round(tp / max(1, tp + fp), 4),
            "true_positives": tp,
            "false_negatives": fn,
            "false_positives": fp,
        },
        "confusion_pairs": [
            {"true": t, "predicted": q, "count": c}
            for (t, q), c in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "below_threshold": {
            "threshold": min_confidence,
            "share": round(sum(below) / n, 4),
            "count": sum(below),
            "accuracy_above": round(sum(kept) / max(1, len(kept)), 4),
        },
    }
