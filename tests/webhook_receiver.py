"""A department's own system on 127.0.0.1, for the webhook tests: it keeps what it is sent."""

from __future__ import annotations

import http.server


class Receiver(http.server.ThreadingHTTPServer):
    """A department's system on 127.0.0.1: answers 500 ``fail_first`` times, then 200; keeps what it got."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/gridflow"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: Receiver = self.server  # type: ignore[assignment]
        server.received.append((dict(self.headers), body))
        ok = len(server.received) > server.fail_first
        self.send_response(200 if ok else 500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass
