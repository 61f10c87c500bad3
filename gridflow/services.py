"""gridflow's own processes (intake, workers) as children of the demo or a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Callable

import httpx

from infra import lifeline
from infra.settings import Settings


class Service:
    """One ``gridflow <args>`` child process, logging to ``log_path``."""

    def __init__(self, name: str, args: list[str], settings: Settings, log_path: Path) -> None:
        self.name = name
        self.args = args
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> "Service":
        """Start the child in its own session, tied to this process by its lifeline.

        Its own session keeps a terminal's Ctrl-C to this process alone (which
        then stops its children in order); the lifeline (:mod:`infra.lifeline`)
        stops the child when this process dies without doing so — a SIGKILL of
        its pid or group reaches no child in another session.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        fd = lifeline.parent_end()
        env = {**os.environ, **self.settings.replace(lifeline_fd=fd).to_env()}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gridflow", *self.args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(fd,),
        )
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash a test wants to survive."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close_log()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``check`` until true; raise TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


def intake(settings: Settings) -> Service:
    return Service("intake", ["intake"], settings, settings.log_dir / "intake.log")


def worker(settings: Settings, index: int) -> Service:
    """Worker ``index`` (0, 1, …) with its own web port."""
    port = settings.worker_web_port + index
    return Service(f"worker-{index}", ["worker", "--web-port", str(port)], settings, settings.log_dir / f"worker-{index}.log")


def intake_ready(settings: Settings) -> Callable[[], bool]:
    """True once the intake answers and has read its topics."""
    url = f"{settings.intake_url}/healthz"
    # A self-signed certificate is the operator's to trust; this only asks whether the intake is up.
    return lambda: bool(httpx.get(url, timeout=2.0, verify=False).json().get("ready"))


def worker_ready(settings: Settings, index: int) -> Callable[[], bool]:
    """True once worker ``index`` serves table lookups (a 404 for an unknown report, not a 503)."""
    url = f"http://127.0.0.1:{settings.worker_web_port + index}/reports/00000000-0000-0000-0000-000000000000/"
    return lambda: httpx.get(url, timeout=2.0).status_code == 404


def group_settled(settings: Settings, workers: int) -> Callable[[], bool]:
    """True once every worker holds table partitions (the consumer group has settled).

    Faust's router view lists, per worker, the changelog partitions it owns.
    """

    def check() -> bool:
        for index in range(workers):
            url = f"http://127.0.0.1:{settings.worker_web_port + index}/router/"
            hosts = httpx.get(url, timeout=2.0).json()
            owning = [h for h, topics in hosts.items() if any(topics.values())]
            if len(owning) != workers:
                return False
        return True

    return check
