"""Pairwise precision and recall of a merge (一事多报) against a generated set's truth, shared by the evaluations."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from producers.simulate.incidents import GeneratedReport


@dataclass(frozen=True)
class Scores:
    """Pairwise precision and recall of one replay."""

    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int
    cases: int

    def __str__(self) -> str:
        return (f"P {self.precision:.3f}  R {self.recall:.3f}  "
                f"({self.predicted_pairs} predicted pairs, {self.true_pairs} true, {self.cases} cases)")


def pairwise(reports: Sequence[GeneratedReport], assigned: dict[uuid.UUID, uuid.UUID]) -> Scores:
    """Pairwise precision and recall of ``assigned`` against the reports' incident ids."""
    pairs = lambda counts: sum(n * (n - 1) // 2 for n in counts.values())  # noqa: E731
    both = pairs(Counter((assigned[r.report_id], r.incident_id) for r in reports))
    predicted = pairs(Counter(assigned[r.report_id] for r in reports))
    true = pairs(Counter(r.incident_id for r in reports))
    return Scores(both / predicted if predicted else 1.0, both / true if true else 1.0, predicted, true,
                  len(set(assigned.values())))
