"""The two ClickHouse engines a test runs on: chdb in-process, and Debian's 18.16 server of the test stack."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from infra.clickhouse import EmbeddedEngine, ServerEngine
from schemas import migrate

#: fixture params: the server only for integration runs
ENGINES = ["chdb", pytest.param("debian", marks=pytest.mark.integration)]


@contextmanager
def migrated(kind: str, request: pytest.FixtureRequest, folder: Path, database: str) -> Iterator[Any]:
    """An engine of ``kind`` holding a fresh, migrated ``database``; dropped (server) or closed afterwards."""
    if kind == "chdb":
        engine: Any = EmbeddedEngine(str(folder / "chdb"))
    else:
        engine = ServerEngine.from_settings(request.getfixturevalue("stack"))
        engine.execute(f"DROP DATABASE IF EXISTS {database}")
    try:
        migrate.apply(engine, database)
        yield engine
    finally:
        if kind != "chdb":
            engine.execute(f"DROP DATABASE IF EXISTS {database}")
        engine.close()
