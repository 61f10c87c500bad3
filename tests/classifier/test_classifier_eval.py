"""Acceptance on the frozen evaluation set (measured only; never trained or tuned on)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the classifier package is not part of the installed distribution
    sys.path.insert(0, str(ROOT))

from classifier import DEFAULT_MIN_CONFIDENCE, ReportClassifier  # noqa: E402
from classifier.evaluate import evaluate, format_report  # noqa: E402


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return evaluate(ReportClassifier.default())


def test_category_accuracy_meets_the_acceptance_threshold(result: dict[str, Any]) -> None:
    assert result["category_accuracy"] >= 0.90, format_report(result)


def test_p1_recall_meets_the_acceptance_threshold(result: dict[str, Any]) -> None:
    assert result["p1"]["recall"] >= 0.95, format_report(result)


def test_report_has_every_figure(result: dict[str, Any]) -> None:
    assert result["n"] == 462
    assert len(result["per_category"]) == 13
    assert sum(row["n"] for row in result["per_category"].values()) == 462
    assert 0 <= result["subcategory_accuracy"] <= result["category_accuracy"]
    assert 0 <= result["p1"]["precision"] <= 1
    assert result["below_threshold"]["threshold"] == DEFAULT_MIN_CONFIDENCE
    assert 0 <= result["below_threshold"]["share"] < 0.5
    for pair in result["confusion_pairs"]:
        assert pair["true"] != pair["predicted"] and pair["count"] > 0
    assert "category accuracy" in format_report(result)
