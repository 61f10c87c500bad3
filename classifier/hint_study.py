"""How much weight the worker's category hint should get, studied on the TRAINING corpus.

The corpus has no hints, so hints are simulated on 20% of the reports: the
true category with some probability, otherwise a wrong one — either a random
other category or, adversarially, the category the model itself finds most
plausible after the true one (the mistake a worker is likeliest to make).
Category accuracy is then measured on calibrated out-of-fold probabilities
with the hint's weight added, for several weights. Used by
:mod:`classifier.selection` (section 6).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold

from classifier.corpus import Report
from classifier.models import ModelConfig, train_models


def oof_category_proba(reports: Sequence[Report], config: ModelConfig) -> tuple[list[str], np.ndarray]:
    """Out-of-fold category probabilities of the model alone (before any hint)."""
    y = [r.category for r in reports]
    proba = np.zeros((len(reports), len(set(y))))
    classes: list[str] = []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=config.seed).split(np.zeros(len(y)), y):
        m = train_models([reports[i] for i in tr], config, calibrate=True)
        classes = [str(c) for c in m.category.classes_]
        proba[te] = m.category_proba(m.transform([reports[i].text for i in te]))
    return classes, proba


def simulated_hints(
    reports: Sequence[Report], proba: np.ndarray, classes: list[str], right: float, adversarial: bool, seed: int
) -> list[str | None]:
    """Hints on 20% of the reports: the true category with probability ``right``, else a wrong one.

    A wrong hint is a random other category, or (``adversarial``) the one the
    model finds most likely — a plausible, confusable mistake.
    """
    rng = np.random.default_rng(seed)
    hints: list[str | None] = []
    for i, r in enumerate(reports):
        if rng.random() >= 0.2:
            hints.append(None)
        elif rng.random() < right:
            hints.append(r.category)
        elif adversarial:
            hints.append(next(classes[k] for k in np.argsort(-proba[i]) if classes[k] != r.category))
        else:
            hints.append(str(rng.choice([c for c in classes if c != r.category])))
    return hints


def hint_study(reports: Sequence[Report], base: ModelConfig) -> list[str]:
    """One line per (kind of wrong hint, share right): accuracy for each hint weight."""
    classes, proba = oof_category_proba(reports, base)
    truth = np.asarray([r.category for r in reports], dtype=object)
    lines = []
    for adversarial in (False, True):
        for right in (0.4, 0.7, 0.9):
            cells = []
            for w in (0.0, 0.05, 0.1, 0.15, 0.25):
                accs = []
                for seed in range(5):
                    p = proba.copy()
                    for i, h in enumerate(simulated_hints(reports, proba, classes, right, adversarial, seed)):
                        if h is not None:
                            p[i, classes.index(h)] += w
                    accs.append(np.mean(np.asarray(classes, dtype=object)[p.argmax(1)] == truth))
                cells.append(f"w={w}: {np.mean(accs):.4f}")
            kind = "wrong = runner-up" if adversarial else "wrong = random  "
            lines.append(f"{kind} right {right:.0%}: " + "  ".join(cells))
    return lines
