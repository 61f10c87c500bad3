"""The statistical part: shared features and the three linear models.

One feature union (TF-IDF text features + lexicon counts) is fitted once and
shared by the category, subcategory and severity models, so a text is turned
into features once per classification. Every model gives calibrated
probabilities: LinearSVC through ``CalibratedClassifierCV`` (sigmoid), or
LogisticRegression, which is probabilistic already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from classifier.calibration import apply_temperature, fit_temperature, out_of_fold_proba
from classifier.compact import compact
from classifier.corpus import Report
from classifier.features import LexiconFeatures, text_vectorizer

SEVERITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class ModelConfig:
    """Every choice the cross-validation in :mod:`classifier.selection` makes.

    The defaults are the chosen values; see that module's output for why.
    """

    text_features: str = "char"  # "char" (char_wb n-grams) or "jieba" (words)
    ngram: tuple[int, int] = (1, 2)
    linear: str = "svc"  # "svc" (LinearSVC + sigmoid calibration) or "lr"
    C: float = 1.0
    lexicon_weight: float = 0.1  # 0 turns the lexicon features off
    subcategory_mode: str = "flat"  # or "per_category" (one model per category)
    severity_prior: float = 0.0  # extra weight on the subcategory's default severity
    p1_threshold: float = 0.15  # P(P1) from the severity model at which a case is P1
    hint_weight: float = 0.1  # probability mass added to the worker's hinted category
    seed: int = 0


class ConstantModel:
    """Stands in for a classifier when the training data has one class only."""

    def __init__(self, label: str) -> None:
        self.classes_ = np.asarray([label], dtype=object)

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.ones((X.shape[0], 1))


def _linear(config: ModelConfig, labels: Sequence[str]) -> Any:
    """An unfitted probabilistic linear classifier for ``labels``."""
    if config.linear == "lr":
        return LogisticRegression(C=config.C, max_iter=3000, random_state=config.seed)
    if config.linear != "svc":
        raise ValueError(f"unknown linear model {config.linear!r}")
    _, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    # Calibration folds must each hold every class; the smallest subcategory
    # has five training reports, so the fold count follows the data.
    folds = int(max(2, min(5, counts.min())))
    return CalibratedClassifierCV(
        LinearSVC(C=config.C, random_state=config.seed),
        method="sigmoid",
        cv=StratifiedKFold(folds, shuffle=True, random_state=config.seed),
        # one SVC on all the data, calibrated on out-of-fold scores: better
        # log-loss and accuracy in CV than averaging the fold models, and
        # several times faster to train and to apply
        ensemble=False,
    )


def fit_linear(X: sparse.spmatrix, labels: Sequence[str], config: ModelConfig) -> Any:
    """Fit a probabilistic classifier; a single class gives a :class:`ConstantModel`."""
    distinct = sorted(set(labels))
    if len(distinct) == 1:
        return ConstantModel(distinct[0])
    return compact(_linear(config, labels).fit(X, np.asarray(labels, dtype=object)))


def make_features(config: ModelConfig) -> FeatureUnion:
    """The unfitted feature union for ``config``."""
    parts: list[tuple[str, Any]] = [("text", text_vectorizer(config.text_features, config.ngram))]
    if config.lexicon_weight > 0:
        parts.append(("lexicon", LexiconFeatures(weight=config.lexicon_weight)))
    return FeatureUnion(parts)


@dataclass
class TrainedModels:
    """Fitted features and models; what :meth:`ReportClassifier.save` pickles."""

    config: ModelConfig
    features: FeatureUnion
    category: Any
    severity: Any
    # per_category: {category: model over its subcategories};
    # flat: {"*": model over "CATEGORY/sub" labels}
    subcategory: dict[str, Any] = field(default_factory=dict)
    # sharpens the category probabilities into calibrated ones (classifier.calibration)
    category_temperature: float = 1.0

    def category_proba(self, X: sparse.spmatrix) -> np.ndarray:
        """Calibrated category probabilities, columns in ``category.classes_`` order."""
        return apply_temperature(self.category.predict_proba(X), self.category_temperature)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Features of ``texts``: what ``features.transform`` gives, without its
        per-call joblib dispatch (a third of ``classify()``'s time for one text)."""
        if self.features.transformer_weights:
            return self.features.transform(list(texts)).tocsr()
        blocks = [t.transform(list(texts)) for _, t in self.features.transformer_list if t != "drop"]
        return sparse.hstack(blocks, format="csr")

    def subcategory_proba(self, X: sparse.spmatrix, categories: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each row of ``X``, (subcategory codes, probabilities) within that row's category.

        Computed in one call per model rather than per row; in flat mode the
        pair probabilities are restricted to the category and renormalised,
        so both modes answer the same question.
        """
        out: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(categories)
        if self.config.subcategory_mode == "flat":
            model = self.subcategory["*"]
            pairs = np.asarray([str(c).split("/", 1) for c in model.classes_], dtype=object)
            proba = model.predict_proba(X)
            for i, cat in enumerate(categories):
                mask = pairs[:, 0] == cat
                p = proba[i, mask]
                out[i] = (pairs[mask, 1], p / max(float(p.sum()), 1e-12))
            return out
        for cat in set(categories):
            rows = [i for i, c in enumerate(categories) if c == cat]
            model = self.subcategory[cat]
            proba = model.predict_proba(X[rows])
            for k, i in enumerate(rows):
                out[i] = (np.asarray(model.classes_, dtype=object), proba[k])
        return out


class _CategoryOnly:
    """Features + category model, for the out-of-fold predictions of :func:`train_models`."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], config: ModelConfig) -> None:
        self.features = make_features(config)
        self.model = fit_linear(self.features.fit_transform(texts).tocsr(), labels, config)
        self.classes_ = self.model.classes_

    def predict_proba_texts(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.predict_proba(self.features.transform(texts)))


def train_models(reports: Sequence[Report], config: ModelConfig, calibrate: bool = True) -> TrainedModels:
    """Fit the features and the category, subcategory and severity models.

    ``calibrate`` also fits the category temperature on 5-fold out-of-fold
    predictions (five more category models: about half the training time).
    """
    texts = [r.text for r in reports]
    features = make_features(config)
    X = features.fit_transform(texts).tocsr()
    category = fit_linear(X, [r.category for r in reports], config)
    temperature = 1.0
    if calibrate and len(category.classes_) > 1:
        labels = [r.category for r in reports]
        classes = [str(c) for c in category.classes_]
        oof = out_of_fold_proba(texts, labels, classes, lambda t, y: _CategoryOnly(t, y, config), 5, config.seed)
        temperature = fit_temperature(oof, np.asarray([classes.index(c) for c in labels]))
    severity = fit_linear(X, [r.severity for r in reports], config)
    sub: dict[str, Any] = {}
    if config.subcategory_mode == "flat":
        sub["*"] = fit_linear(X, [f"{r.category}/{r.subcategory}" for r in reports], config)
    elif config.subcategory_mode == "per_category":
        for cat in sorted({r.category for r in reports}):
            rows = [i for i, r in enumerate(reports) if r.category == cat]
            sub[cat] = fit_linear(X[rows], [reports[i].subcategory for i in rows], config)
    else:
        raise ValueError(f"unknown subcategory mode {config.subcategory_mode!r}")
    return TrainedModels(
        config=config,
        features=features,
        category=category,
        severity=severity,
        subcategory=sub,
        category_temperature=temperature,
    )
