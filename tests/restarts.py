"""Starting a stopped test-stack server again (fault tests stop Kafka and ClickHouse under load).

The test stack's ports (39092 + 10·slot …) lie inside Linux's ephemeral
range (32768–60999). While a server is down its clients keep connecting to
127.0.0.1:<port>, and one of those connects can be given that same port as
its own and connect to itself (TCP simultaneous open; seen here as a
``127.0.0.1:39152 → 127.0.0.1:39152`` socket): the port is then held and
the server's bind fails with "Address already in use" until the client
gives up on that connection. A production broker on 9092, below the range,
never meets this.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from pathlib import Path

from infra.stack.processes import ExitedDuringStart, LocalServer


def start_again(server: LocalServer, ports: Sequence[int], tries: int = 6) -> int:
    """Start ``server`` again once its ``ports`` can be bound; returns how many starts it took.

    A start that fails on "Address already in use" (see the module's
    docstring) is tried again, up to ``tries`` times; any other failure is raised.
    """
    for attempt in range(1, tries + 1):
        deadline = time.monotonic() + 20
        while not all(_bindable(port) for port in ports) and time.monotonic() < deadline:
            time.sleep(0.2)
        sizes = {log: log.stat().st_size if log.exists() else 0 for log in server.logs()}
        try:
            server.start_and_wait(lambda _line: None, 90, attempts=1)
            return attempt
        except ExitedDuringStart:
            if attempt == tries or not any(_says(log, start, "Address already in use") for log, start in sizes.items()):
                raise
            time.sleep(2)
    raise AssertionError("unreachable")


def _says(log: Path, start: int, text: str) -> bool:
    """Whether ``log`` says ``text`` after byte ``start``."""
    if not log.exists():
        return False
    with log.open("rb") as f:
        f.seek(start)
        return text.encode() in f.read()


def _bindable(port: int) -> bool:
    """Whether a listening socket could bind 127.0.0.1:``port`` now (as the servers do, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
