"""The live inbox (实时派遣通知): a department's alert topic as server-sent events.

``GET /api/v1/alerts/stream`` follows ``alerts.<my department>`` (the command
centre: ``alerts.ZZZX``, triage and escalations) from the moment of the
request — plus the last ``minutes`` (query parameter, default 0, at most
``alert_hub.REPLAY_MINUTES``) so a page that reconnects misses nothing — and
sends each alert as one SSE ``alert`` event. A comment line every 15 s keeps
proxies from closing the stream. The alerts carry masked phones only.

Every stream of one topic shares that topic's one consumer
(:mod:`producers.api.alert_hub`). One account holds at most
``GRIDFLOW_LIVE_STREAMS_PER_ACCOUNT`` streams, the intake
``GRIDFLOW_LIVE_STREAMS_MAX``: past either, 429 with ``Retry-After``. When
the server ends a stream — its client too slow, its token revoked, the
intake stopping — the last event is ``closed`` with the reason
(:mod:`producers.api.sse`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Query
from fastapi.responses import StreamingResponse

from accounts.policy import Permission, in_town_scope
from infra.settings import Settings
from producers.api.alert_hub import REPLAY_MINUTES, AlertHub, Stream, TooManyStreams
from producers.api.auth import require
from producers.api.errors import ApiError
from producers.api.sse import LiveResponse, comment
from routing import TRIAGE_DEPARTMENT
from schemas.account import Account
from schemas.topics import alerts_topic
from schemas.vocabulary import Role

KEEPALIVE_S = 15.0
RETRY_AFTER_S = 10  # a page retries a refused stream after this long (its own loop waits 3 s)


def add_live_routes(app: FastAPI, settings: Settings, hub: AlertHub) -> None:
    """Register the SSE endpoint on the intake ``app``, its streams fed by ``hub`` (the app stops it)."""

    @app.get(
        "/api/v1/alerts/stream",
        summary="实时通知 My department's alerts, live (text/event-stream)",
        responses={429: {"description": "too many open streams (this account's, or the intake's)"}},
    )
    async def stream(
        minutes: float = Query(
            default=0, ge=0, le=REPLAY_MINUTES, description=f"also send the alerts of the last N minutes (≤ {REPLAY_MINUTES})"
        ),
        account: Account = Depends(require(Permission.CASE_ACT)),
    ) -> StreamingResponse:
        if account.role is Role.COMMAND_CENTRE:
            department = TRIAGE_DEPARTMENT
        elif account.role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and account.department:
            department = account.department
        else:
            raise ApiError(403, "forbidden", "实时通知只对部门和指挥中心开放")
        try:
            live = hub.open(
                user_id=account.user_id,
                token_sha256=account.token_sha256,
                topic=settings.topic(alerts_topic(department)),
                since_ms=int((time.time() - minutes * 60) * 1000),
                # a town's sub-centre follows its own town
                wants=lambda town: in_town_scope(account.role, account.town, town),
            )
        except TooManyStreams as full:
            message = (
                f"同一账号最多同时打开 {full.limit} 个实时通知连接，请先关闭其他页面"
                if full.scope == "account" else "实时通知连接已满，请稍后重试"
            )  # fmt: skip
            raise ApiError(
                429, "too_many_streams", message, headers={"Retry-After": str(RETRY_AFTER_S)}, limit=full.limit,
                scope=full.scope,
            ) from None  # fmt: skip
        return LiveResponse(
            _events(live, department),
            send_timeout=settings.live_send_timeout_s,
            on_end=live.release,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


async def _events(live: Stream, department: str) -> AsyncIterator[bytes]:
    """The stream's frames: a greeting, then alerts and keep-alives, until the hub ends it."""
    yield comment(f"{department} 实时通知")
    while True:
        frame = await live.next(KEEPALIVE_S)
        if frame is None:
            yield comment("keep-alive")
            continue
        yield frame
        if live.ended is not None and live.queue.empty():
            return  # that was the closing event
