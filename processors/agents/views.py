"""The workers' web views: table lookups for the intake (never ClickHouse).

Faust routes a request to the worker holding the key's partition. These
views are internal — bind them to a private address; the intake is the
public face and applies the permissions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from processors.agents import history

if TYPE_CHECKING:
    from processors.pipeline import Pipeline


def register(p: Pipeline) -> None:
    """Serve the report, case and case-history lookups on the worker's web port."""
    app = p.app

    async def know_partitions(table: Any) -> None:
        # Faust's router hashes the key with the producer's metadata, which
        # holds only topics this worker has produced to: a worker that has not
        # yet written to a changelog fails the lookup. Fetch it first.
        producer = app.producer._ensure_producer()  # private, but the router uses the same object
        await producer.partitions_for(table.changelog_topic.get_topic_name())

    def lookup(table: Any, param: str, read: Callable[[Any, bytes], Any] = lambda table, key: table.get(key)) -> Any:
        @app.table_route(table=table, match_info=param)
        async def found(view: Any, request: Any, **kwargs: str) -> Any:
            value = read(table, kwargs[param].encode())
            if value is None:
                return view.json({"error": "not_found"}, status=404)
            return view.json(value)

        async def view_fn(view: Any, request: Any, **kwargs: str) -> Any:
            await know_partitions(table)
            return await found(view, request, **kwargs)

        return view_fn

    app.page("/reports/{report_id}/", name="report")(lookup(p.report_links, "report_id"))
    app.page("/cases/{case_id}/", name="case")(lookup(p.case_table, "case_id"))
    app.page("/cases/{case_id}/history/", name="case-history")(lookup(p.history_table, "case_id", history.read))
