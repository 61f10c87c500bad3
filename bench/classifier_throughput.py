"""Classifier throughput: texts per second for ``classify()``, single process.

Runs the evaluation set's texts, repeated, through ``ReportClassifier.classify``
one at a time (the pipeline's per-report path), and also through
``classify_many`` in batches for comparison. Training happens before the
clock starts. Usage: ``python bench/classifier_throughput.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from classifier import ReportClassifier  # noqa: E402
from classifier.corpus import EVAL_PATH, load_reports  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Print texts/s for single and batched classification."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="times the eval texts are repeated")
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    clf = ReportClassifier.default()
    print(f"training: {time.perf_counter() - started:.1f} s")
    texts = [r.text for r in load_reports(EVAL_PATH)] * args.repeat
    clf.classify(texts[0])  # warm caches (jieba/regex compile) outside the clock

    started = time.perf_counter()
    for text in texts:
        clf.classify(text)
    single = len(texts) / (time.perf_counter() - started)
    print(f"classify():      {single:,.0f} texts/s ({len(texts)} texts, one at a time)")

    started = time.perf_counter()
    for i in range(0, len(texts), args.batch):
        clf.classify_many(texts[i : i + args.batch])
    batched = len(texts) / (time.perf_counter() - started)
    print(f"classify_many(): {batched:,.0f} texts/s (batches of {args.batch})")


if __name__ == "__main__":
    main()
