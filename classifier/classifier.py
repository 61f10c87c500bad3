"""``ReportClassifier``: category, subcategory, severity and confidence for a report.

The statistical models (:mod:`classifier.models`) give probabilities; two
explicit signals are then combined with them:

* the worker's ``category_hint`` is a prior, not an order: it adds
  ``hint_weight`` to the hinted category's probability before renormalising,
  so it decides a close call but cannot overturn a confident model;
* danger words (:mod:`classifier.danger`) force P1.

``confidence`` is the final (calibrated, hint-adjusted) probability of the
chosen category; the caller sends cases below ``DEFAULT_MIN_CONFIDENCE`` to
manual triage.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
import sklearn

from classifier.corpus import TRAIN_PATH, Report, load_reports
from classifier.danger import DangerWords
from classifier.models import ModelConfig, TrainedModels, train_models
from classifier.severity import SeverityLookup, taxonomy_default_severity

_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent
logger = logging.getLogger(__name__)
_default_lock = threading.Lock()
_default: "ReportClassifier | None" = None


def training_fingerprint() -> str:
    """SHA-256 over what a trained model depends on (the frozen evaluation reports excluded)."""
    digest = hashlib.sha256(f"format={_FORMAT};sklearn={sklearn.__version__}".encode())
    files = sorted(_PACKAGE.glob("*.py")) + sorted(
        f for f in (_PACKAGE / "data").rglob("*") if f.is_file() and f.name != "reports.jsonl" or f.parent.name == "train"
    )
    for f in files:
        digest.update(str(f.relative_to(_PACKAGE)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Classification:
    """The classifier's answer for one report; ``signals`` says how it got there.

    ``signals`` keys: ``model_category`` / ``model_confidence`` (the model's
    own answer, before the hint), ``hint`` (and ``hint_ignored`` for an
    unknown code), ``subcategory_confidence``, ``default_severity`` (from the
    injected lookup), ``p1_probability`` (severity model), ``danger_words``
    (``"rule:words"`` hits, when any) and ``severity_source``
    (``danger_words`` | ``model`` | ``default``).
    """

    category: str
    subcategory: str
    severity: str
    confidence: float
    signals: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (for Kafka records and logs)."""
        return asdict(self)


class ReportClassifier:
    """Trained models plus the explicit signals; load once, classify many."""

    def __init__(
        self,
        models: TrainedModels,
        danger: DangerWords | None = None,
        default_severity: SeverityLookup | None = None,
    ) -> None:
        self.models = models
        self.danger = danger or DangerWords.load()
        self.default_severity = default_severity or taxonomy_default_severity()
        self.categories: list[str] = [str(c) for c in models.category.classes_]

    # -- construction -------------------------------------------------
    @classmethod
    def train(
        cls,
        reports: Sequence[Report] | None = None,
        config: ModelConfig | None = None,
        *,
        danger: DangerWords | None = None,
        default_severity: SeverityLookup | None = None,
        calibrate: bool = True,
    ) -> "ReportClassifier":
        """Train on ``reports`` (default: the training corpus); deterministic for a config.

        ``calibrate=False`` skips the confidence calibration (same categories,
        uncalibrated confidence); model selection uses it to save time.
        """
        data = list(reports) if reports is not None else load_reports(TRAIN_PATH)
        return cls(train_models(data, config or ModelConfig(), calibrate), danger, default_severity)

    @classmethod
    def default(cls) -> "ReportClassifier":
        """The classifier trained on the training corpus, once per process."""
        global _default
        with _default_lock:  # two threads asking at start-up train it once
            if _default is None:
                _default = cls.train()
            return _default

    @classmethod
    def cached(cls, cache_dir: str | Path) -> "ReportClassifier":
        """The default classifier, trained once per machine and kept in ``cache_dir``.

        The file name is a hash of everything training reads (corpus, word
        lists, this package's code, scikit-learn's version), so any change
        trains a new model; workers then start in a second instead of
        training for several. The write is atomic: two workers starting at
        once may both train, and either file is the same model.
        """
        path = Path(cache_dir) / "classifier" / f"model-{training_fingerprint()[:16]}.joblib"
        if path.exists():
            try:
                return cls.load(path)
            except Exception as exc:  # noqa: BLE001 - a damaged cache file is retrained, not fatal
                logger.warning("retraining: cached classifier %s unreadable (%s)", path, exc)
        model = cls.default()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        model.save(tmp)
        os.replace(tmp, path)
        return model

    def save(self, path: str | Path) -> None:
        """Write the trained models and danger words to ``path`` (joblib)."""
        joblib.dump(
            {"format": _FORMAT, "sklearn": sklearn.__version__, "models": self.models, "danger": self.danger},
            path,
        )

    @classmethod
    def load(cls, path: str | Path, *, default_severity: SeverityLookup | None = None) -> "ReportClassifier":
        """Read a file written by :meth:`save` (only load files you wrote: it is a pickle)."""
        blob = joblib.load(path)
        if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a classifier file of format {_FORMAT}")
        if blob.get("sklearn") != sklearn.__version__:
            raise ValueError(f"{path}: saved with scikit-learn {blob.get('sklearn')}, running {sklearn.__version__}")
        return cls(blob["models"], blob["danger"], default_severity)

    # -- classification -----------------------------------------------
    def classify(self, text: str, category_hint: str | None = None) -> Classification:
        """Classify one report text, with the worker's optional category hint."""
        return self.classify_many([text], [category_hint])[0]

    def classify_many(
        self, texts: Sequence[str], hints: Sequence[str | None] | None = None
    ) -> list[Classification]:
        """Classify a batch (features computed in one pass)."""
        if hints is None:
            hints = [None] * len(texts)
        if len(hints) != len(texts):
            raise ValueError("texts and hints differ in length")
        if not texts:
            return []
        m = self.models
        X = m.transform(texts)
        cat_proba = m.category_proba(X)
        sev_proba = m.severity.predict_proba(X)
        sev_classes = [str(c) for c in m.severity.classes_]
        chosen: list[tuple[str, float, dict[str, Any]]] = []
        for i, hint in enumerate(hints):
            chosen.append(self._category(cat_proba[i], hint))
        subs = m.subcategory_proba(X, [c for c, _, _ in chosen])
        out: list[Classification] = []
        for i, (text, (category, confidence, signals)) in enumerate(zip(texts, chosen)):
            codes, proba = subs[i]
            j = int(np.argmax(proba))
            subcategory = str(codes[j])
            signals["subcategory_confidence"] = round(float(proba[j]), 4)
            severity = self._severity(text, category, subcategory, sev_proba[i], sev_classes, signals)
            out.append(Classification(category, subcategory, severity, confidence, signals))
        return out

    def _category(self, model_p: np.ndarray, hint: str | None) -> tuple[str, float, dict[str, Any]]:
        """The category after the hint's prior, its final probability, and the signals so far."""
        p = model_p.copy()
        signals: dict[str, Any] = {}
        if hint:
            signals["hint"] = hint
            if hint in self.categories:
                # additive prior: decides close calls, never a confident answer
                p[self.categories.index(hint)] += self.models.config.hint_weight
                p = p / p.sum()
            else:
                signals["hint_ignored"] = "unknown category"
        best = int(np.argmax(p))
        signals["model_category"] = self.categories[int(np.argmax(model_p))]
        signals["model_confidence"] = round(float(model_p.max()), 4)
        return self.categories[best], float(p[best]), signals

    def _severity(
        self, text: str, category: str, subcategory: str, proba: np.ndarray, classes: list[str], signals: dict[str, Any]
    ) -> str:
        """Danger words → P1; else the severity model, nudged toward the default."""
        cfg = self.models.config
        hits = self.danger.find(text, f"{category}/{subcategory}")
        default = self.default_severity(category, subcategory)
        signals["default_severity"] = default
        p = proba.copy()
        if default in classes and cfg.severity_prior > 0:
            p[classes.index(default)] += cfg.severity_prior
            p = p / p.sum()
        p1 = float(p[classes.index("P1")]) if "P1" in classes else 0.0
        signals["p1_probability"] = round(p1, 4)
        if hits:
            signals["danger_words"] = [f"{h.rule}:{h.words}" for h in hits]
            signals["severity_source"] = "danger_words"
            return "P1"
        if p1 >= cfg.p1_threshold:
            signals["severity_source"] = "model"
            return "P1"
        rest = [k for k, c in enumerate(classes) if c != "P1"]
        if not rest:
            signals["severity_source"] = "default"
            return default or "P3"
        signals["severity_source"] = "model"
        return classes[max(rest, key=lambda k: p[k])]
