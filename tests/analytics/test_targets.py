"""The targets file: the shipped one loads; a wrong one is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.targets import RATES, load_targets
from infra.datafile import DataFileError

GOOD = """targets:
  及时签收率: {at_least: 0.95}
  按期办结率: {at_least: 0.9}
  结案率: {at_least: 0.85}
  返工率: {at_most: 0.05}
  退回率: {at_most: 0.1}
"""


def test_the_shipped_targets_cover_every_rate_with_the_right_bound() -> None:
    targets = load_targets()
    assert tuple(targets) == RATES
    assert targets["及时签收率"].met(0.95) and not targets["及时签收率"].met(0.9499)
    assert targets["退回率"].met(0.10) and not targets["退回率"].met(0.1001)
    assert targets["返工率"].met(None) is None


@pytest.mark.parametrize(
    ("edit", "line", "problem"),
    [
        (("退回率: {at_most: 0.1}", "退回率: {at_least: 0.1}"), 6, "unknown key 'at_least' in 退回率"),
        (("结案率: {at_least: 0.85}", "结案率: {at_least: 85}"), 4, "结案率 target must be a rate from 0 to 1, not 85"),
        (("  返工率: {at_most: 0.05}\n", ""), 2, "targets has no '返工率'"),
        (("targets:", "targets:\n  及时办结率: {at_least: 0.9}"), 2, "unknown key '及时办结率' in targets"),
    ],
)
def test_a_wrong_targets_file_names_its_line(tmp_path: Path, edit: tuple[str, str], line: int, problem: str) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(GOOD.replace(*edit), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_targets(path)
    assert (caught.value.line, problem in caught.value.problem) == (line, True), str(caught.value)
