"""``gridflow demo`` SIGKILLed — its pid alone, or its whole group — leaves nothing behind within 10 s.

The demo runs as ``python -m gridflow demo`` in its own process group, on the
test stack (named as external servers, so it starts none of its own) with
its own home, topics, database and ports. What it started is known two
ways: the pids it prints, and every process whose environment carries its
``GRIDFLOW_HOME`` (read from ``/proc``), so a child it did not print is
caught too.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from harness import started_by

from gridflow import services
from infra.settings import Settings
from infra.stack.clickhouse import clickhouse_healthy
from infra.stack.kafka import kafka_healthy
from infra.stack.processes import pid_alive, port_open, tail, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
GONE_WITHIN_S = 10.0  # the promise of issue 12


class Demo:
    """``python -m gridflow demo`` in a process group of its own, its output collected line by line."""

    def __init__(self, settings: Settings, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gridflow", "demo", *args],
            cwd=REPO, env={**os.environ, **settings.to_env()},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, timeout: float) -> int:
        """Its exit code, once it has exited and all its output is read."""
        code = self.process.wait(timeout)
        self.reader.join(5)
        return code

    def output(self) -> str:
        return "\n".join(self.lines[-60:])

    def line_with(self, text: str, timeout: float) -> str:
        """The first output line holding ``text``, waiting up to ``timeout`` s for it."""
        found: list[str] = []

        def seen() -> bool:
            found[:] = [line for line in self.lines if text in line]
            return bool(found) or self.process.poll() is not None

        wait_for(seen, timeout, interval=0.5)
        assert found, f"the demo never printed {text!r} (exit {self.process.poll()}):\n{self.output()}"
        return found[0]


def demo_settings(pipeline_settings: Settings, stack: Settings) -> Settings:
    # External servers: the demo only checks them; it neither starts nor stops a stack.
    return pipeline_settings.replace(kafka_bootstrap=stack.bootstrap, clickhouse_url=stack.clickhouse)


@pytest.mark.parametrize("target", ["pid", "group"])
def test_a_killed_demo_leaves_nothing_behind(pipeline_settings: Settings, stack: Settings, target: str) -> None:
    settings = demo_settings(pipeline_settings, stack)
    demo = Demo(settings, "--workers", "1", "--rate", "2", "--duration", "0", "--work-for", "0")
    children: dict[str, int] = {}
    try:
        line = demo.line_with("服务进程 processes:", 120)
        children = {name: int(pid) for name, pid in re.findall(r"([\w-]+) pid (\d+)", line)}
        assert set(children) == {"worker-0", "intake"}, line
        demo.line_with("gridflow 演示已启动", 240)  # workers settled, token written, simulator about to run
        assert services.intake_ready(settings)()
        assert all(pid_alive(pid) for pid in children.values())
        assert set(children.values()) <= set(started_by(settings.home))
        token_file = settings.home / "demo-token.txt"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

        killed = time.monotonic()
        if target == "pid":
            os.kill(demo.process.pid, signal.SIGKILL)
        else:
            os.killpg(demo.process.pid, signal.SIGKILL)  # the demo leads its group (its own session)
        demo.wait(5)

        def nothing_left() -> bool:
            answering = port_open(settings.intake_host, settings.intake_port)
            return not answering and not any(map(pid_alive, children.values())) and not started_by(settings.home)

        gone = wait_for(nothing_left, GONE_WITHIN_S)
        took = time.monotonic() - killed
        survivors = started_by(settings.home)
        logs = "\n".join(f"--- {p.name}:\n{tail(p)}" for p in sorted(settings.log_dir.glob("*.log")))
        assert gone, (
            f"{took:.1f} s after SIGKILL of the demo's {target}: intake port answers "
            f"{port_open(settings.intake_host, settings.intake_port)}, left {survivors}\n{logs}"
        )
        assert took < GONE_WITHIN_S
        # The stack is the long-lived part: still up for the next demo (README: `gridflow stack down` stops it).
        assert kafka_healthy(stack.bootstrap, 5.0) and clickhouse_healthy(stack.clickhouse, 5.0)
    finally:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait(5)
        for pid in {*children.values(), *started_by(settings.home)}:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_stale_intake_on_the_port_is_named_and_refused(pipeline_settings: Settings, stack: Settings) -> None:
    """An intake left by a demo killed before the lifeline existed: the new demo says so and starts nothing."""
    settings = demo_settings(pipeline_settings, stack)
    stale_home = settings.home.parent / "stale-home"
    log = stale_home / "intake.log"
    log.parent.mkdir(parents=True)
    with open(log, "ab") as out:
        # Started the old way: its own session, no lifeline; nothing ties it to a parent.
        stale = subprocess.Popen(
            [sys.executable, "-m", "gridflow", "intake"],
            cwd=REPO, env={**os.environ, **settings.replace(home=stale_home).to_env()},
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        services.wait_until(services.intake_ready(settings), 90, "the stale intake")
        demo = Demo(settings, "--workers", "1", "--duration", "5", "--work-for", "0")
        assert demo.wait(60) == 1, demo.output()
        out = demo.output()
        assert f"端口 {settings.intake_port}" in out and f"port {settings.intake_port}" in out, out
        assert f"pid {stale.pid}" in out and f"kill {stale.pid}" in out, out
        assert "gridflow intake" in out, out  # its command line, so the user sees what it is
        assert stale.poll() is None  # refused, not killed: it may not be a leftover at all
        assert started_by(settings.home) == {}  # no worker, no intake of its own
        assert not (settings.home / "demo-token.txt").exists()
    finally:
        stale.terminate()
        stale.wait(15)
