"""Apply the numbered ClickHouse migrations in ``schemas/migrations``.

Works on any engine that can run a statement and return rows (the Debian
server through clickhouse-driver, or chdb in-process), so one test proves
the same files on both.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Engine(Protocol):
    """Anything that runs one SQL statement and returns its rows."""

    def execute(self, sql: str) -> Sequence[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self, database: str) -> list[str]:
        """The file's statements, ``{database}`` filled in, comments dropped."""
        text = self.path.read_text(encoding="utf-8").replace("{database}", database)
        lines = [ln for ln in text.splitlines() if not ln.strip().startswith("--")]
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", "\n".join(lines)) if s.strip()]


def migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in number order; a misnamed or duplicate file is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"{path}: migration files are named NNNN_what_it_does.sql")
        version = int(m.group(1))
        if version in found:
            raise ValueError(f"{path}: version {version} also used by {found[version].path.name}")
        found[version] = Migration(version, m.group(2), path)
    return [found[v] for v in sorted(found)]


def apply(engine: Engine, database: str, folder: Path = MIGRATIONS_DIR) -> list[int]:
    """Create ``database`` and apply pending migrations; returns the versions applied now."""
    engine.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    engine.execute(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime) "
        "ENGINE = ReplacingMergeTree() ORDER BY version"
    )
    done = {int(r[0]) for r in engine.execute(f"SELECT version FROM {database}.schema_migrations")}
    applied: list[int] = []
    for migration in migrations(folder):
        if migration.version in done:
            continue
        for statement in migration.statements(database):
            _execute(engine, statement)
        engine.execute(
            f"INSERT INTO {database}.schema_migrations (version, name, applied_at) "
            f"SELECT {migration.version}, '{migration.name}', now()"
        )
        logger.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration.version)
    return applied


_ADD_COLUMNS = re.compile(r"^ALTER\s+TABLE\s+(\w+)\.(\w+)\s+(ADD\s+COLUMN\s.*)$", re.S | re.I)
_ADD_ONE = re.compile(r"ADD\s+COLUMN\s+(\w+)\s", re.I)


def _execute(engine: Engine, statement: str) -> None:
    """Run one statement; ``ALTER TABLE … ADD COLUMN`` only for the columns still missing.

    The 18.16 server has no ``ADD COLUMN IF NOT EXISTS``: this stands in for
    it, so that a migration cut short, or run by two workers starting at
    once, finishes instead of failing on a column that is already there.
    """
    match = _ADD_COLUMNS.match(statement)
    if match is None:
        engine.execute(statement)
        return
    database, table, body = match.groups()
    clauses = [c.strip() for c in re.split(r",\s*(?=ADD\s+COLUMN\s)", body, flags=re.I)]

    def missing() -> list[str]:
        have = {
            str(r[0])
            for r in engine.execute(
                f"SELECT name FROM system.columns WHERE database = '{database}' AND table = '{table}'"
            )
        }
        return [c for c in clauses if _ADD_ONE.match(c) and _ADD_ONE.match(c).group(1) not in have]  # type: ignore[union-attr]

    todo = missing()
    if not todo:
        return
    try:
        engine.execute(f"ALTER TABLE {database}.{table} " + ", ".join(todo))
    except Exception:
        if missing():  # another worker added them meanwhile: fine; else a real error
            raise
