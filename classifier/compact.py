"""A fitted sigmoid-calibrated LinearSVC reduced to its arrays, for fast prediction.

``CalibratedClassifierCV.predict_proba`` validates its input once per class
(through ``column_or_1d`` and friends): about 0.1 ms each, so ~9 ms for one
report across the three models — most of ``classify()``'s time. The
arithmetic is one sparse product and a sigmoid per class, done here in numpy
exactly as scikit-learn does it (see ``_CalibratedClassifier.predict_proba``
and ``_SigmoidCalibration.predict``); a unit test checks the two agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.preprocessing import LabelEncoder


class SigmoidLinear:
    """``predict_proba`` of a CalibratedClassifierCV(LinearSVC, sigmoid, ensemble=False)."""

    def __init__(self, fitted: CalibratedClassifierCV) -> None:
        if len(fitted.calibrated_classifiers_) != 1 or fitted.method != "sigmoid":
            raise ValueError("only a sigmoid-calibrated model fitted with ensemble=False can be compacted")
        cal = fitted.calibrated_classifiers_[0]
        est = cal.estimator
        self.classes_ = fitted.classes_
        self.coef_ = np.asarray(est.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(est.intercept_, dtype=np.float64)
        n_classes = len(cal.classes)
        columns = LabelEncoder().fit(cal.classes).transform(est.classes_)
        if n_classes == 2:
            columns = columns[:1] + 1  # binary: one score, for classes_[1]
        self.columns_ = np.asarray(columns[: len(cal.calibrators)])
        self.a_ = np.asarray([c.a_ for c in cal.calibrators], dtype=np.float64)
        self.b_ = np.asarray([c.b_ for c in cal.calibrators], dtype=np.float64)

    def predict_proba(self, X: sparse.spmatrix | np.ndarray) -> np.ndarray:
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        n_classes = len(self.classes_)
        proba = np.zeros((scores.shape[0], n_classes))
        proba[:, self.columns_] = expit(-(self.a_ * scores + self.b_))
        if n_classes == 2:
            proba[:, 0] = 1.0 - proba[:, 1]
        else:
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, total, out=np.full_like(proba, 1 / n_classes), where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def compact(model: Any) -> Any:
    """``model`` as a :class:`SigmoidLinear` when it can be, else unchanged."""
    if (
        isinstance(model, CalibratedClassifierCV)
        and model.method == "sigmoid"
        and len(getattr(model, "calibrated_classifiers_", ())) == 1
    ):
        return SigmoidLinear(model)
    return model
