"""The district's targets for the indicators (考核目标), from ``analytics/data/targets.yaml``.

Each of the five rates has one bound: ``at_least`` where a higher rate is
better (及时签收率, 按期办结率, 结案率), ``at_most`` where a lower one is
(返工率, 退回率). The dashboards colour figures against them and the report
marks misses, so the file is validated with file:line errors like the
routing data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from infra.datafile import Source, read_doc

#: the rates that have targets, in the order the report and dashboards show them
RATES = ("及时签收率", "按期办结率", "结案率", "返工率", "退回率")
#: which way is better for each rate: the bound its target must use
BOUND = {"及时签收率": "at_least", "按期办结率": "at_least", "结案率": "at_least", "返工率": "at_most", "退回率": "at_most"}


@dataclass(frozen=True)
class Target:
    """One rate's target: ``value`` is a floor (``at_least``) or a ceiling (``at_most``)."""

    rate: str
    bound: str
    value: float

    def met(self, figure: float | None) -> bool | None:
        """Whether ``figure`` meets the target; None when there is no figure."""
        if figure is None:
            return None
        return figure >= self.value if self.bound == "at_least" else figure <= self.value


def load_targets_file(source: Source) -> dict[str, Target]:
    """Load and validate a targets file; DataFileError names the file and line at fault."""
    doc = read_doc(source)
    root = doc.mapping(doc.root, 1, "the targets file")
    doc.only_keys(root, ("targets",), "the targets file")
    table = doc.mapping(root.get("targets"), root.line_of("targets"), "targets")
    doc.only_keys(table, RATES, "targets")
    out: dict[str, Target] = {}
    for rate in RATES:
        if rate not in table:
            doc.fail(table.line, f"targets has no {rate!r}")
        entry = doc.mapping(table[rate], table.line_of(rate), rate)
        doc.only_keys(entry, (BOUND[rate],), f"{rate} (a {BOUND[rate].replace('_', ' ')} rate)")
        value = entry.get(BOUND[rate])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            doc.fail(entry.line_of(BOUND[rate]), f"{rate} target must be a rate from 0 to 1, not {value!r}")
        out[rate] = Target(rate, BOUND[rate], float(value))
    return out


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Target]:
    return load_targets_file(resources.files("analytics") / "data" / "targets.yaml")


def load_targets(path: str | Path | None = None) -> dict[str, Target]:
    """The targets by rate; with no path, the shipped ones, loaded once."""
    return _shipped() if path is None else load_targets_file(Path(path))
