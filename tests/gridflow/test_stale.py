"""A new demo names what already answers on its ports (port, pid, command line) instead of talking to it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from gridflow.stale import command_line, listener_pid, squatters
from infra.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_listener_is_named_with_its_pid_and_command_line(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert listener_pid(port) == os.getpid()
        settings = Settings(home=tmp_path, intake_port=port, worker_web_port=_free_port())
        [found] = squatters(settings, workers=1)
    assert (found.port, found.what, found.pid) == (port, "intake", os.getpid())
    assert found.command == command_line(os.getpid()) and "pytest" in found.command
    message = found.message()
    assert f"端口 {port}" in message and f"port {port}" in message  # both languages name the port …
    assert f"kill {os.getpid()}" in message  # … and how to stop it


def test_a_worker_port_counts_too(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        settings = Settings(home=tmp_path, intake_port=_free_port(), worker_web_port=port - 1)
        assert [s.what for s in squatters(settings, workers=2)] == ["worker-1"]
        assert squatters(settings, workers=1) == []  # worker-1's port is not wanted by one worker


def test_free_ports_are_no_squatters(tmp_path: Path) -> None:
    port = _free_port()
    assert listener_pid(port) is None
    assert squatters(Settings(home=tmp_path, intake_port=port, worker_web_port=_free_port()), workers=1) == []


def test_a_pid_that_cannot_be_seen_is_still_a_refusal() -> None:
    from gridflow.stale import Squatter

    message = Squatter(8080, "intake", None, "").message()
    assert "端口 8080" in message and "port 8080" in message
    assert "ss -ltnp 'sport = :8080'" in message and "kill None" not in message
