"""The compacted calibrated SVC gives scikit-learn's probabilities exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the classifier package is not part of the installed distribution
    sys.path.insert(0, str(ROOT))

from classifier.compact import SigmoidLinear  # noqa: E402
from classifier.corpus import EVAL_PATH, TRAIN_PATH, load_reports  # noqa: E402
from classifier.models import ModelConfig, _linear, make_features  # noqa: E402


@pytest.mark.parametrize("label", ["category", "severity", "pair", "binary"])
def test_compact_matches_calibrated_classifier(label: str) -> None:
    reports = load_reports(TRAIN_PATH)[:400]
    cfg = ModelConfig()
    features = make_features(cfg)
    X = features.fit_transform([r.text for r in reports]).tocsr()
    Xe = features.transform([r.text for r in load_reports(EVAL_PATH)[:60]])
    y = {
        "category": [r.category for r in reports],
        "severity": [r.severity for r in reports],
        "pair": [f"{r.category}/{r.subcategory}" for r in reports],
        "binary": ["P1" if r.severity == "P1" else "other" for r in reports],
    }[label]
    fitted = _linear(cfg, y).fit(X, np.asarray(y, dtype=object))
    small = SigmoidLinear(fitted)
    assert list(small.classes_) == list(fitted.classes_)
    np.testing.assert_allclose(small.predict_proba(Xe), fitted.predict_proba(Xe), rtol=0, atol=1e-12)
