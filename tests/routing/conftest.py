"""Shared fixtures for the routing tests: the shipped data and a way to write edited copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from routing import RuleSet, default_data_dir, load_rules


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    """The shipped rules with the shipped taxonomy, SLA table and district."""
    return load_rules()


@pytest.fixture
def write_data(tmp_path: Path) -> Callable[..., Path]:
    """Write a data file to tmp_path and return its path.

    ``write_data("rules.yaml", edit=f)`` writes the shipped file with ``f``
    applied to its text; ``write_data("rules.yaml", text)`` writes ``text``.
    """

    def write(name: str, text: str | None = None, edit: Callable[[str], str] | None = None) -> Path:
        body = (default_data_dir() / name).read_text(encoding="utf-8") if text is None else text
        path = tmp_path / name
        path.write_text(edit(body) if edit else body, encoding="utf-8")
        return path

    return write
