"""Measure a classifier on a labelled corpus (by default the frozen evaluation set).

``python -m classifier.evaluate`` trains the default classifier (or loads one
with ``--model``) and prints the figures; ``--json`` prints the raw dict.
This module only MEASURES: nothing here feeds back into training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from classifier import DEFAULT_MIN_CONFIDENCE
from classifier.classifier import ReportClassifier
from classifier.corpus import EVAL_PATH, load_reports
from classifier.metrics import score


def evaluate(
    classifier: ReportClassifier,
    path: str | Path = EVAL_PATH,
    *,
    use_hints: bool = True,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> dict[str, Any]:
    """Per-category and overall category accuracy, subcategory accuracy, P1 recall and
    precision, confusion pairs (true → predicted, count) and the share below the
    confidence threshold, for the reports in ``path``.

    ``use_hints`` passes each report's ``category_hint`` (where the file has
    one) as the worker's hint, as the pipeline would.
    """
    reports = load_reports(path)
    hints = [r.category_hint if use_hints else None for r in reports]
    predictions = classifier.classify_many([r.text for r in reports], hints)
    result = score(reports, predictions, min_confidence)
    result["path"] = str(path)
    result["hints_used"] = sum(1 for h in hints if h)
    return result


def format_report(result: dict[str, Any], top: int = 10) -> str:
    """The result as a plain-text table."""
    lines = [
        f"{result['path']}: {result['n']} reports, {result['hints_used']} with a category hint",
        "",
        f"{'category':16} {'n':>4} {'right':>6} {'accuracy':>9}",
    ]
    for cat, row in result["per_category"].items():
        lines.append(f"{cat:16} {row['n']:>4} {row['correct']:>6} {row['accuracy']:>9.4f}")
    p1, below = result["p1"], result["below_threshold"]
    lines += [
        "",
        f"category accuracy     {result['category_accuracy']:.4f}",
        f"subcategory accuracy  {result['subcategory_accuracy']:.4f} "
        f"({result['subcategory_accuracy_given_category']:.4f} where the category is right)",
        f"severity accuracy     {result['severity_accuracy']:.4f}",
        f"P1 recall             {p1['recall']:.4f} ({p1['true_positives']} found, {p1['false_negatives']} missed)",
        f"P1 precision          {p1['precision']:.4f} ({p1['false_positives']} false alarms)",
        f"below confidence {below['threshold']:.2f}: {below['share']:.4f} ({below['count']} to manual triage); "
        f"accuracy of the rest {below['accuracy_above']:.4f}",
        "",
        "top confusions (true → predicted: count)",
    ]
    lines += [f"  {c['true']} → {c['predicted']}: {c['count']}" for c in result["confusion_pairs"][:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m classifier.evaluate [PATH] [--model FILE] [--no-hints] [--json]``."""
    parser = argparse.ArgumentParser(description="Evaluate the report classifier.")
    parser.add_argument("path", nargs="?", default=str(EVAL_PATH))
    parser.add_argument("--model", help="a file written by ReportClassifier.save (default: train now)")
    parser.add_argument("--no-hints", action="store_true", help="ignore the reports' category hints")
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    clf = ReportClassifier.load(args.model) if args.model else ReportClassifier.default()
    result = evaluate(clf, args.path, use_hints=not args.no_hints, min_confidence=args.min_confidence)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_report(result))


if __name__ == "__main__":
    main()
