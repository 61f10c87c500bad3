"""The response-time facts agree with the times ClickHouse stores (whole seconds)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from casework import Worked, at
from engines import migrated

from schemas.clickhouse import row
from schemas.vocabulary import CaseAction, Category


def test_a_duration_is_the_difference_of_the_stored_times(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    w = Worked(Category.URBAN, "street_light", "XL-02-03", received=at(2, 8, 55) + timedelta(milliseconds=700))
    dispatched = w.case.last_dispatched_at
    assert dispatched is not None and dispatched.microsecond == 700_000
    w.lead(CaseAction.SIGN, at(2, 9, 23) + timedelta(seconds=30))
    # 09:00:00.7 → 09:23:30.0 is 1409.3 s; stored as 09:00:00 and 09:23:30 it reads 1410 s.
    assert w.case.sign_seconds == 1410

    with migrated("chdb", request, tmp_path, "gf") as engine:
        engine.insert("gf.case_versions", [row(v) for v in w.versions])
        ((stored, fact),) = engine.execute(
            "SELECT toUInt32(signed_at) - toUInt32(last_dispatched_at), sign_seconds FROM gf.case_versions "
            "WHERE isNotNull(signed_at)"
        )
    assert int(stored) == int(fact) == 1410
