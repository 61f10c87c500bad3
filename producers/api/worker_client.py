"""Reads a report's case from the Faust workers' table views (never from ClickHouse).

Any worker will do: Faust routes the request to the worker that holds the
key's partition. Workers are tried in turn until one answers.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from infra.settings import Settings

logger = logging.getLogger(__name__)


class WorkersUnavailable(Exception):
    """No worker answered; the case state cannot be read right now."""


class CaseReader:
    """Async client for ``/reports/{id}`` and ``/cases/{id}`` on the workers."""

    def __init__(self, settings: Settings) -> None:
        self.urls = settings.worker_url_list
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=1.0))

    async def _get(self, path: str) -> dict[str, Any] | None:
        last: Exception | None = None
        for base in self.urls:
            try:
                response = await self._client.get(base + path)
            except httpx.HTTPError as exc:
                last = exc
                continue
            if response.status_code == 404:
                return None
            if response.status_code == 200:
                return response.json()
            last = RuntimeError(f"{base}{path} answered {response.status_code}")
        logger.warning("no worker answered %s: %s", path, last)
        raise WorkersUnavailable(str(last))

    async def report(self, report_id: str) -> dict[str, Any] | None:
        """The processors' record of a report ({fingerprint, case_id, …}) or None."""
        return await self._get(f"/reports/{report_id}/")

    async def case(self, case_id: str) -> dict[str, Any] | None:
        """The case as the case agent holds it, or None if not opened yet."""
        return await self._get(f"/cases/{case_id}/")

    async def history(self, case_id: str) -> list[dict[str, Any]] | None:
        """The case's events so far, in order, or None."""
        return await self._get(f"/cases/{case_id}/history/")  # type: ignore[return-value]

    async def close(self) -> None:
        await self._client.aclose()
