"""The workers' web views: table lookups for the intake (never ClickHouse).

Faust routes a request to the worker holding the key's partition. These
views are internal — bind them to a private address; the intake is the
public face and applies the permissions.
"""

from __future__ import annotations

from typing import Any

from processors.pipeline import Pipeline


def register(p: Pipeline) -> None:
    app = p.app

    @app.page("/reports/{report_id}/")
    @app.table_route(table=p.report_links, match_info="report_id")
    async def report_view(view: Any, request: Any, report_id: str) -> Any:
        link = p.report_links.get(report_id.encode())
        if link is None:
            return view.json({"error": "not_found"}, status=404)
        return view.json(link)

    @app.page("/cases/{case_id}/")
    @app.table_route(table=p.case_table, match_info="case_id")
    async def case_view(view: Any, request: Any, case_id: str) -> Any:
        case = p.case_table.get(case_id.encode())
        if case is None:
            return view.json({"error": "not_found"}, status=404)
        return view.json(case)
