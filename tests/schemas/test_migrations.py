"""The hand-written migrations create exactly the columns the records define, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.clickhouse import EmbeddedEngine, ServerEngine
from infra.settings import Settings
from schemas import migrate, tables


def _check(engine, database: str) -> None:  # type: ignore[no-untyped-def]
    assert migrate.apply(engine, database) == [m.version for m in migrate.migrations()]
    assert migrate.apply(engine, database) == [], "a second run applies nothing"
    # As if every migration had been cut short before it was recorded (or two
    # workers ran them at once): running them all again must finish cleanly.
    engine.execute(f"DROP TABLE {database}.schema_migrations")
    assert migrate.apply(engine, database) == [m.version for m in migrate.migrations()]
    for table in tables.ALL:
        described = [(r[0], r[1]) for r in engine.execute(f"DESCRIBE TABLE {database}.{table.name}")]
        assert described == table.columns(), f"{table.name}: migration and record disagree"


def test_migrations_on_chdb(tmp_path: Path) -> None:
    engine = EmbeddedEngine(str(tmp_path / "chdb"))
    try:
        _check(engine, "gridflow_test")
    finally:
        engine.close()


@pytest.mark.integration
def test_migrations_on_the_debian_server(stack: Settings) -> None:
    engine = ServerEngine.from_settings(stack)
    database = "t_migrations"
    engine.execute(f"DROP DATABASE IF EXISTS {database}")
    try:
        _check(engine, database)
    finally:
        engine.execute(f"DROP DATABASE IF EXISTS {database}")
        engine.close()


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in migrate.migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_a_misnamed_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_oops.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="NNNN_"):
        migrate.migrations(tmp_path)
