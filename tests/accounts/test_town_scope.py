"""The one rule for a town's sub-centre: its own town's cases, nothing else (unplaced ones are the district's)."""

from __future__ import annotations

from accounts.policy import in_town_scope
from schemas.vocabulary import Role


def test_town_scope() -> None:
    assert in_town_scope(Role.COMMAND_CENTRE, None, "XL") and in_town_scope(Role.COMMAND_CENTRE, None, None)
    assert in_town_scope(Role.COMMAND_CENTRE, "DH", "DH")
    assert not in_town_scope(Role.COMMAND_CENTRE, "DH", "XL")
    assert not in_town_scope(Role.COMMAND_CENTRE, "DH", None)
    assert in_town_scope(Role.DEPARTMENT_STAFF, "DH", "XL")  # other roles are scoped by standing, not town
