"""Shared fixtures for the district registry tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from district import Registry, load_registry
from district.registry import DEPARTMENTS_FILE, GRIDS_FILE, default_data_dir


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The shipped demo district."""
    return load_registry()


def _shipped(name: str) -> Any:
    return json.loads((default_data_dir() / name).read_text(encoding="utf-8"))


@pytest.fixture
def data_copy(tmp_path: Path) -> Callable[..., Path]:
    """Write (possibly edited) copies of the data files to tmp_path; returns the folder.

    Call it with ``grids=`` and/or ``departments=`` functions that edit the
    parsed documents in place.
    """

    def make(
        grids: Callable[[dict[str, Any]], None] | None = None,
        departments: Callable[[dict[str, Any]], None] | None = None,
    ) -> Path:
        g, d = _shipped(GRIDS_FILE), _shipped(DEPARTMENTS_FILE)
        if grids:
            grids(g)
        if departments:
            departments(d)
        (tmp_path / GRIDS_FILE).write_text(json.dumps(g, ensure_ascii=False), encoding="utf-8")
        (tmp_path / DEPARTMENTS_FILE).write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
        return tmp_path

    return make
