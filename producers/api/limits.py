"""The intake's body limit: a request body over ``GRIDFLOW_INTAKE_BODY_MAX_BYTES`` is a 413, never read.

An ASGI middleware, outside the routes, so the limit holds before anything
reads the body — FastAPI parses a JSON or form body *before* it checks the
bearer token, so without it a client with no token could make the intake
buffer and parse any amount. Two cases:

* a ``Content-Length`` over the limit: answered at once, the app is not
  called and not a byte of the body is read (the server discards the rest);
* no ``Content-Length`` (chunked) or a smaller one: the bytes are counted as
  the app reads them; at the first chunk past the limit the 413 is sent, and
  the app is told the client went away (``http.disconnect``), so it stops
  reading and whatever it answers then is dropped. At most one limit's worth
  of body is ever held.

The photo upload reads its own body against its own, larger limit
(``GRIDFLOW_PHOTO_MAX_BYTES``, see :mod:`producers.api.photos`): its path is
left to it. Starlette's own ``RequestBodyLimitMiddleware`` is not used: it
only refuses once the app reads, and answers in plain English text, not in
the intake's error shape.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from producers.api.errors import response, too_large

#: paths whose route reads and bounds its body itself
OWN_LIMIT_PATHS = frozenset({"/api/v1/photos"})


class BodyLimit:
    """ASGI middleware: 413 (in the intake's error shape) for a request body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt: Collection[str] = OWN_LIMIT_PATHS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 if its body is (or turns out) too large."""
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await response(too_large(self.max_bytes))(scope, receive, send)
            return
        await _Counted(self, scope, receive, send).run()


class _Counted:
    """One request whose body bytes are counted as the app reads them."""

    def __init__(self, limit: BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit, self.scope, self._receive, self._send = limit, scope, receive, send
        self.seen = 0
        self.cut = False  # past the limit: the app reads no more of the body
        self.started = False  # the app began its answer (then it is too late for a 413)
        self.answered = False  # the 413 went out: the app's own answer is dropped

    async def run(self) -> None:
        await self.limit.app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.cut:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit.max_bytes:
                self.cut = True
                if not self.started:
                    self.answered = True
                    await response(too_large(self.limit.max_bytes))(self.scope, self._receive, self._send)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
