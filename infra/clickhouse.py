"""The two ClickHouse engines gridflow speaks to, behind one small interface.

``ServerEngine`` is a ClickHouse server over the native protocol
(clickhouse-driver); ``EmbeddedEngine`` is chdb in-process. Both run a
statement and return rows, and insert rows with named columns.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from infra.settings import Settings


class ServerEngine:
    """A ClickHouse server reached with clickhouse-driver."""

    def __init__(self, url: str) -> None:
        from clickhouse_driver import Client

        # Short timeouts unless the URL sets them: the sink retries on its own, it must not hang.
        for name, seconds in (("connect_timeout", 3), ("send_receive_timeout", 30)):
            if f"{name}=" not in url:
                url += ("&" if "?" in url else "?") + f"{name}={seconds}"
        self.client = Client.from_url(url)

    @classmethod
    def from_settings(cls, settings: Settings) -> "ServerEngine":
        """Connect to the configured server.

        The connection's own database is ``default``: gridflow names its
        database in every statement, and the migrations may first have to
        create it.
        """
        parts = urlsplit(settings.clickhouse)
        return cls(urlunsplit((parts.scheme, parts.netloc, "/default", parts.query, "")))

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[tuple[Any, ...]]:
        """Run ``sql``; ``%(name)s`` placeholders are filled from ``params``, escaped by the driver."""
        return self.client.execute(sql, params) if params else self.client.execute(sql)

    def query(self, sql: str) -> tuple[list[tuple[str, str]], Sequence[tuple[Any, ...]]]:
        """Run ``sql``; its columns as (name, type), and its rows."""
        rows, columns = self.client.execute(sql, with_column_types=True)
        return [(name, kind) for name, kind in columns], rows

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``rows`` (dicts with equal keys) with the parameterised form.

        18.16 hangs on VALUES written into the query text (FIELD-NOTES), so
        rows always travel as parameters.
        """
        if not rows:
            return 0
        names = list(rows[0])
        self.client.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES", [tuple(r[n] for n in names) for r in rows]
        )
        return len(rows)

    def close(self) -> None:
        self.client.disconnect()


class EmbeddedEngine:
    """chdb, ClickHouse in-process; state kept in ``path`` (or in memory)."""

    def __init__(self, path: str | None = None) -> None:
        from chdb import session

        self.session = session.Session(path) if path else session.Session()

    def execute(self, sql: str) -> Sequence[tuple[Any, ...]]:
        return self.query(sql)[1]

    def query(self, sql: str) -> tuple[list[tuple[str, str]], Sequence[tuple[Any, ...]]]:
        """Run ``sql``; its columns as (name, type), and its rows (values as chdb's JSON gives them)."""
        result = self.session.query(sql, "JSONCompact")
        text = result.bytes().decode("utf-8") if hasattr(result, "bytes") else str(result)
        if not text.strip():
            return [], []
        body = json.loads(text)
        return [(c["name"], c["type"]) for c in body.get("meta", [])], [tuple(r) for r in body.get("data", [])]

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``rows`` as JSONEachRow (chdb has no parameterised insert)."""
        if not rows:
            return 0
        body = "\n".join(json.dumps(dict(r), default=_json_default, ensure_ascii=False) for r in rows)
        self.session.query(f"INSERT INTO {table} FORMAT JSONEachRow\n{body}")
        return len(rows)

    def close(self) -> None:
        self.session.close()


def _json_default(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def rows_as_dicts(engine: ServerEngine | EmbeddedEngine, sql: str, names: Iterable[str]) -> list[dict[str, Any]]:
    """Run ``sql`` and zip each row with ``names``."""
    keys = list(names)
    return [dict(zip(keys, r)) for r in engine.execute(sql)]
