"""The live inbox's wire format (server-sent events) and a response that cannot hang on a stalled client.

The pages (``web/app.js`` ``follow``) read ``event:`` and ``data:`` lines,
blocks split by a blank line, ``data`` parsed as JSON; a page acts on
``alert`` events and ignores every other name. So the one event added here,
``closed`` (why the server ended the stream), changes nothing for a page
that does not know it: the stream ends and the page reconnects, as after
any drop, replaying the last minute with ``?minutes=1``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Send

logger = logging.getLogger(__name__)


class StreamEnd(str, Enum):
    """Why the server closed a live stream (the ``reason`` of its ``closed`` event)."""

    SLOW = "slow"  # the client read too slowly: its queue filled
    REVOKED = "revoked"  # the token was revoked or expired, or the account disabled
    SHUTDOWN = "shutdown"  # the intake is stopping


#: what the person sees, by reason
END_MESSAGES: dict[StreamEnd, str] = {
    StreamEnd.SLOW: "网络太慢，实时通知已断开，请重新连接",
    StreamEnd.REVOKED: "令牌已失效或账号已停用，实时通知已断开，请重新登录",
    StreamEnd.SHUTDOWN: "服务正在重启，实时通知已断开，请稍后重新连接",
}


def comment(text: str) -> bytes:
    """A comment line (keeps proxies from closing an idle stream; pages ignore it)."""
    return f": {text}\n\n".encode()


def alert_frame(alert: dict[str, Any]) -> bytes:
    """One alert as an ``alert`` event, its id the alert's (a re-sent alert is recognised by it)."""
    data = json.dumps(alert, ensure_ascii=False)  # one line: JSON from json.dumps holds no raw newline
    return f"id: {alert['alert_id']}\nevent: alert\ndata: {data}\n\n".encode()


def closing_frame(reason: StreamEnd) -> bytes:
    """The last event of a stream the server ends: ``closed`` with the reason and a message."""
    data = json.dumps({"reason": reason.value, "message": END_MESSAGES[reason]}, ensure_ascii=False)
    return f"event: closed\ndata: {data}\n\n".encode()


class LiveResponse(StreamingResponse):
    """A streaming response whose every write must be taken by the client within ``send_timeout`` seconds.

    A client that stops reading fills the socket and then uvicorn's write
    buffer, after which a write waits — for ever, without this bound. When it
    passes, the response ends unfinished and uvicorn closes the connection.
    ``on_end`` runs however the response ends (finished, client gone,
    stalled, cancelled at shutdown): it frees the stream's place.
    """

    def __init__(
        self, content: AsyncIterator[bytes], *, send_timeout: float, on_end: Callable[[], None], **kwargs: Any
    ) -> None:
        super().__init__(content, **kwargs)
        self.send_timeout = send_timeout
        self.on_end = on_end

    async def stream_response(self, send: Send) -> None:
        async def bounded(message: Any) -> None:
            await asyncio.wait_for(send(message), self.send_timeout)

        try:
            await super().stream_response(bounded)
        except TimeoutError:
            logger.info("a live stream's client took nothing for %.0f s: connection dropped", self.send_timeout)
        finally:
            self.on_end()  # no await here: this also runs while the task is being cancelled
