"""The live inbox (实时派遣通知): a department's alert topic as server-sent events.

``GET /api/v1/alerts/stream`` follows ``alerts.<my department>`` (the command
centre: ``alerts.ZZZX``, triage and escalations) from the moment of the
request — plus the last ``minutes`` (query parameter, default 0) so a page
that reconnects misses nothing — and sends each alert as one SSE ``alert``
event. A comment line every 15 s keeps proxies from closing the stream.
The alerts carry masked phones only.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import AsyncIterator

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from accounts.policy import Permission, in_town_scope
from infra.settings import Settings
from infra.tail import TopicTail
from producers.api.auth import require
from producers.api.errors import ApiError
from routing import TRIAGE_DEPARTMENT
from schemas.account import Account
from schemas.topics import alerts_topic
from schemas.vocabulary import Role

KEEPALIVE_S = 15.0


def add_live_routes(app: FastAPI, settings: Settings) -> None:
    """Register the SSE endpoint on the intake ``app``."""

    @app.get("/api/v1/alerts/stream", summary="实时通知 My department's alerts, live (text/event-stream)")
    async def stream(
        request: Request,
        minutes: float = Query(default=0, ge=0, le=24 * 60, description="also send the alerts of the last N minutes"),
        account: Account = Depends(require(Permission.CASE_ACT)),
    ) -> StreamingResponse:
        if account.role is Role.COMMAND_CENTRE:
            department = TRIAGE_DEPARTMENT
        elif account.role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and account.department:
            department = account.department
        else:
            raise ApiError(403, "forbidden", "实时通知只对部门和指挥中心开放")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue()

        def on_record(_key: bytes | None, value: bytes | None, _ts: int) -> None:
            if value:
                loop.call_soon_threadsafe(queue.put_nowait, value)

        since_ms = int((time.time() - minutes * 60) * 1000)
        tail = TopicTail(settings.bootstrap, settings.topic(alerts_topic(department)), on_record, since_ms).start()

        async def events() -> AsyncIterator[bytes]:
            yield f": {department} 实时通知\n\n".encode()
            try:
                while not await request.is_disconnected():
                    try:
                        value = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except asyncio.TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    alert = json.loads(value)
                    if not in_town_scope(account.role, account.town, alert.get("town")):
                        continue  # a town's sub-centre follows its own town
                    yield f"id: {alert['alert_id']}\nevent: alert\ndata: {json.dumps(alert, ensure_ascii=False)}\n\n".encode()
            finally:
                await asyncio.to_thread(tail.stop)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
