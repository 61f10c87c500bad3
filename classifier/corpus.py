"""Reading the labelled report corpora and cutting texts into sentences.

The training corpus and the frozen evaluation set share one JSON-lines shape;
the evaluation set adds ``grid_id``, ``category_hint`` and the routing labels,
which are kept here so that :mod:`classifier.evaluate` can pass the hint on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
TRAIN_PATH = DATA_DIR / "train" / "reports.jsonl"
EVAL_PATH = DATA_DIR / "eval" / "reports.jsonl"
SUBCATEGORIES_PATH = DATA_DIR / "eval" / "subcategories.json"

# Sentence ends used by the overlap check between the corpora: Chinese and
# ASCII full stops of all kinds, semicolons, and line breaks.
_SENTENCE_END = re.compile(r"[。！？!?；;\n\r]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Report:
    """One labelled report; the optional fields exist only in the eval set."""

    id: str
    text: str
    category: str
    subcategory: str
    severity: str
    category_hint: str | None = None
    grid_id: str | None = None


def load_reports(path: str | Path) -> list[Report]:
    """Read a JSON-lines corpus, skipping blank lines."""
    reports: list[Report] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            reports.append(
                Report(
                    id=row["id"],
                    text=row["text"],
                    category=row["category"],
                    subcategory=row["subcategory"],
                    severity=row["severity"],
                    category_hint=row.get("category_hint"),
                    grid_id=row.get("grid_id"),
                )
            )
    return reports


def load_subcategories(path: str | Path = SUBCATEGORIES_PATH) -> dict[str, list[str]]:
    """The allowed subcategory codes per category."""
    with open(path, encoding="utf-8") as fh:
        data: dict[str, list[str]] = json.load(fh)
    return data


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), lower case, one space.

    Workers type on phones with mixed input methods, so ``１２３`` and ``123``
    or ``ＫＴＶ`` and ``ktv`` must look the same to the n-gram features.
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with whitespace normalised; empty pieces dropped."""
    pieces = (_SPACE.sub(" ", p).strip() for p in _SENTENCE_END.split(text))
    return [p for p in pieces if p]
