"""The corpora: the frozen evaluation set is pinned and shares no text with training."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the classifier package is not part of the installed distribution
    sys.path.insert(0, str(ROOT))

from classifier.corpus import (  # noqa: E402
    EVAL_PATH,
    TRAIN_PATH,
    load_reports,
    load_subcategories,
    split_sentences,
)

EVAL_SHA256 = "0b5b164a4acd74e01d87d59fbd53a52628592d68f313342bc9d354c1fbb214f0"


def test_eval_file_is_the_pinned_frozen_set() -> None:
    assert hashlib.sha256(EVAL_PATH.read_bytes()).hexdigest() == EVAL_SHA256


def test_split_sentences_cuts_on_all_sentence_ends() -> None:
    text = "第一句。第二句！第三句？four!five?六；七;八\n九  十"
    assert split_sentences(text) == ["第一句", "第二句", "第三句", "four", "five", "六", "七", "八", "九 十"]


def test_no_sentence_is_shared_between_eval_and_training() -> None:
    train = {s for r in load_reports(TRAIN_PATH) for s in split_sentences(r.text)}
    shared = [s for r in load_reports(EVAL_PATH) for s in split_sentences(r.text) if s in train]
    assert shared == []


def test_no_text_contains_a_text_of_the_other_corpus() -> None:
    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    train = [norm(r.text) for r in load_reports(TRAIN_PATH)]
    evals = [norm(r.text) for r in load_reports(EVAL_PATH)]
    pairs = [
        (e[:30], t[:30])
        for e in evals
        for t in train
        if (len(e) > 10 and e in t) or (len(t) > 10 and t in e)
    ]
    assert pairs == []


def test_training_labels_use_the_shared_codes() -> None:
    subs = load_subcategories()
    reports = load_reports(TRAIN_PATH)
    bad = [r.id for r in reports if r.subcategory not in subs.get(r.category, []) or r.severity not in {"P1", "P2", "P3", "P4"}]
    assert bad == []
    assert len({r.id for r in reports}) == len(reports)
    assert len({r.text for r in reports}) == len(reports)
