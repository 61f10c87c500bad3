"""Feature extractors: character n-grams, jieba words, and the domain lexicon.

Everything here is a module-level class or function so that a trained
pipeline pickles (joblib) and loads in another process.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import yaml
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.corpus import DATA_DIR, normalise

LEXICON_PATH = DATA_DIR / "lexicon.yaml"

_jieba_lock = threading.Lock()


@lru_cache(maxsize=4)
def load_lexicon(path: str | Path = LEXICON_PATH) -> dict[str, dict[str, tuple[str, ...]]]:
    """category -> subcategory -> terms (normalised like the texts)."""
    with open(path, encoding="utf-8") as fh:
        raw: dict[str, dict[str, list[str]]] = yaml.safe_load(fh)
    return {
        cat: {sub: tuple(normalise(str(t)) for t in terms) for sub, terms in subs.items()}
        for cat, subs in raw.items()
    }


@lru_cache(maxsize=1)
def _jieba_tokenizer() -> Any:
    """A private jieba tokenizer that knows the lexicon's terms.

    A private instance rather than the global ``jieba`` so that adding words
    does not change how other code in the process segments text.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    for subs in load_lexicon().values():
        for terms in subs.values():
            for term in terms:
                if len(term) > 1:
                    tok.add_word(term)
    return tok


def jieba_words(text: str) -> list[str]:
    """jieba's accurate-mode words of a normalised text, spaces dropped."""
    tok = _jieba_tokenizer()
    with _jieba_lock:  # jieba's Tokenizer is not documented as thread-safe
        words = tok.lcut(text)
    return [w for w in words if w.strip()]


def text_vectorizer(kind: str, ngram: tuple[int, int] = (1, 3)) -> TfidfVectorizer:
    """TF-IDF over ``char_wb`` n-grams (``kind="char"``) or jieba words (``"jieba"``).

    Sublinear tf because hotline transcripts repeat words that say nothing
    about the category; ``min_df=1`` because the corpus is small.
    """
    if kind == "char":
        return TfidfVectorizer(
            analyzer="char_wb", ngram_range=ngram, sublinear_tf=True, preprocessor=normalise
        )
    if kind == "jieba":
        return TfidfVectorizer(
            tokenizer=jieba_words,
            token_pattern=None,
            preprocessor=normalise,
            lowercase=False,
            ngram_range=ngram,
            sublinear_tf=True,
        )
    raise ValueError(f"unknown text features {kind!r}")


class LexiconFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Counts of lexicon hits per subcategory and per category, log-scaled.

    ``weight`` scales the block against the unit-norm TF-IDF rows; it is a
    hyper-parameter chosen by cross-validation.
    """

    def __init__(self, weight: float = 1.0, path: str = str(LEXICON_PATH)) -> None:
        self.weight = weight
        self.path = path

    def fit(self, texts: Iterable[str], y: Any = None) -> "LexiconFeatures":
        lex = load_lexicon(self.path)
        self.keys_ = [(c, s) for c, subs in lex.items() for s in subs]
        self.categories_ = list(lex)
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        lex = load_lexicon(self.path)
        n_sub, n_cat = len(self.keys_), len(self.categories_)
        out = np.zeros((len(texts), n_sub + n_cat), dtype=np.float64)
        for row, text in enumerate(texts):
            norm = normalise(text)
            for col, (cat, sub) in enumerate(self.keys_):
                hits = sum(1 for term in lex[cat][sub] if term in norm)
                if hits:
                    out[row, col] = hits
                    out[row, n_sub + self.categories_.index(cat)] += hits
        return sparse.csr_matrix(np.log1p(out) * self.weight)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"lex:{c}/{s}" for c, s in self.keys_] + [f"lex:{c}" for c in self.categories_]
        return np.asarray(names, dtype=object)
