"""Small helpers for the local servers: pid files, detached start, stop, waits.

Every server the stack starts runs in its own session (so a terminal's
Ctrl-C does not reach it and a whole process group can be signalled), writes
its stdout/stderr to a log file, and leaves its pid in a pid file under
``settings.stack_dir``. A pid only counts as "running" while the process is
alive: for a child spawned by this process, as its ``Popen`` says; for any
other, while it is no zombie and its command line still names the server's
config file (so a recycled pid is not mistaken for the server).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from infra.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class StackError(RuntimeError):
    """A local server could not be installed, started or reached."""


class ExitedDuringStart(StackError):
    """A local server's process ended before it answered (worth one more try)."""


# Children this process spawned: their exit status is known exactly (poll),
# where /proc only says "gone".
_children: dict[int, subprocess.Popen] = {}


def cache_root(settings: Settings) -> Path:
    """Folder for downloads kept across homes (``settings.cache_path``)."""
    return settings.cache_path


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a text file ('' when it does not exist)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def read_pid(pid_file: Path) -> int | None:
    """The pid stored in ``pid_file``, or None."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def exit_status(pid: int) -> str:
    """How a child spawned here ended ("exit code 70", "killed by SIGKILL"), or "" if unknown."""
    child = _children.get(pid)
    rc = child.poll() if child is not None else None
    if rc is None:
        return ""
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit code {rc}"


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child (so it is no zombie)."""
    child = _children.get(pid)
    if child is not None:
        child.poll()
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError:
        pass


def pid_alive(pid: int, marker: str | None = None) -> bool:
    """Whether ``pid`` is a live (non-zombie) process whose command line holds ``marker``."""
    if pid <= 0:
        return False
    _reap(pid)
    child = _children.get(pid)
    if child is not None:
        # Our own child: poll() is exact. /proc's cmdline is not, for a moment:
        # the kernel wakes Popen (close-on-exec) before it sets the new
        # program's arguments, so a marker check right after spawn can miss.
        return child.returncode is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path("/proc") / str(pid)
    try:
        stat = (proc / "stat").read_text()
        state = stat[stat.rindex(")") + 2 :].split()[0]
        if state in ("Z", "X"):
            return False
        if marker is not None:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            return marker in cmdline
    except (OSError, ValueError, IndexError):
        return proc.exists() if marker is None else False
    return True


def running_pid(pid_file: Path, marker: str | None = None) -> int | None:
    """The pid in ``pid_file`` if that process is alive (see :func:`pid_alive`)."""
    pid = read_pid(pid_file)
    if pid is not None and pid_alive(pid, marker):
        return pid
    return None


def spawn(
    cmd: Sequence[str],
    *,
    log_path: Path,
    pid_file: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``cmd`` detached (new session), output appended to ``log_path``; write the pid file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(cmd),
            cwd=str(cwd),
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    # Kept so pid_alive() reaps it and exit_status() can say how it ended;
    # the server itself outlives this process (its own session).
    _children[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    log.info("started %s (pid %d), log %s", cmd[0], proc.pid, log_path)
    return proc.pid


def signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid`` (falling back to the pid)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def terminate(pid_file: Path, marker: str | None, timeout: float) -> bool:
    """SIGTERM the process in ``pid_file``, wait ``timeout`` s, then SIGKILL; remove the pid file.

    Returns True when a running process was stopped.
    """
    pid = running_pid(pid_file, marker)
    stopped = False
    if pid is not None:
        log.info("stopping pid %d (SIGTERM)", pid)
        signal_group(pid, signal.SIGTERM)
        if not wait_for(lambda: not pid_alive(pid), timeout):
            log.warning("pid %d did not stop within %.0f s; SIGKILL", pid, timeout)
            signal_group(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid), 10.0)
        stopped = True
    pid_file.unlink(missing_ok=True)
    return stopped


def kill(pid_file: Path, marker: str | None) -> bool:
    """SIGKILL the process in ``pid_file`` (the pid file stays, as after a crash)."""
    pid = running_pid(pid_file, marker)
    if pid is None:
        return False
    signal_group(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 10.0)
    return True


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stream_command(
    cmd: Sequence[str],
    *,
    progress: Progress,
    filter_line: Callable[[str], str | None] = lambda line: line,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    what: str = "command",
) -> list[str]:
    """Run ``cmd`` to completion, passing each output line through ``filter_line`` to ``progress``.

    Returns all output lines; raises :class:`StackError` (with the last lines)
    when the command fails.
    """
    log.info("running %s", " ".join(cmd))
    try:
        proc = subprocess.Popen(
            list(cmd),
            cwd=str(cwd) if cwd else None,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {cmd[0]} not found ({exc})") from exc
    lines: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n")
        lines.append(line)
        shown = filter_line(line)
        if shown:
            progress(shown)
    rc = proc.wait()
    if rc != 0:
        last = "\n".join(lines[-30:])
        raise StackError(f"{what} failed (exit {rc}): {' '.join(cmd)}\n{last}")
    return lines


def bindable(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (binding with SO_REUSEADDR, as Kafka and ClickHouse do).

    False also while no one listens there but a client connection uses the
    port as its own end: the fixed ports of the local stack lie in Linux's
    ephemeral range, so an outgoing connection of another process may hold
    one for a moment, and the server would exit with "Address already in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def busy_ports(ports: Iterable[int]) -> list[int]:
    """The ports in ``ports`` that a server on 127.0.0.1 could not take now: listened on, or in use."""
    return [p for p in ports if port_open("127.0.0.1", p) or not bindable("127.0.0.1", p)]


def wait_ports_free(ports: Iterable[int], timeout: float) -> list[int]:
    """Wait up to ``timeout`` s for ``ports`` to be free; return those still taken."""
    ports = list(ports)
    wait_for(lambda: not busy_ports(ports), timeout, interval=0.2)
    return busy_ports(ports)


class LocalServer:
    """What the local servers share: a pid file, a marker in the command line, ports to claim.

    Subclasses set ``name``, ``port``, ``pid_file``, ``stop_timeout_s`` and
    the ``_marker`` property (a string only their own command line holds, so
    a recycled pid is never mistaken for the server).
    """

    name: str
    port: int
    pid_file: Path
    stop_timeout_s: float = 30.0
    port_release_wait_s: float = 10.0  # a server just killed may hold its ports for a moment

    @property
    def _marker(self) -> str:
        raise NotImplementedError

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        """The server's pid while it runs, else None."""
        return running_pid(self.pid_file, self._marker)

    def is_running(self) -> bool:
        """Whether the server process (per its pid file) is alive."""
        return self.pid() is not None

    def logs(self) -> list[Path]:
        """The server's log files, most telling first (shown when it fails to start)."""
        raise NotImplementedError

    def answers(self) -> bool:
        """Whether the server answers its clients now."""
        raise NotImplementedError

    def start(self, progress: Progress = print) -> None:
        raise NotImplementedError

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until the server answers.

        Raises :class:`ExitedDuringStart` (with how it ended and the tails of
        its logs) when the process dies first, :class:`StackError` on timeout.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = read_pid(self.pid_file)
            if not self.is_running():
                how = exit_status(pid) if pid is not None else ""
                tails = "\n".join(f"--- {p}:\n{tail(p)}" for p in self.logs() if tail(p))
                raise ExitedDuringStart(
                    f"{self.name} exited during start-up{f' ({how})' if how else ''}; "
                    f"read {', '.join(str(p) for p in self.logs())}\n{tails}"
                )
            if self.answers():
                return
            time.sleep(0.3)
        raise StackError(
            f"{self.name} did not answer on {self.endpoint} within {timeout:.0f} s; read {self.logs()[0]}"
        )

    def start_and_wait(self, progress: Progress, timeout: float, attempts: int = 2) -> None:
        """Start (unless running) and wait until healthy, starting again if the process dies early.

        A server that dies silently in its first second (seen once in CI with
        ClickHouse, cause unknown) usually starts on the next try; each failure
        is shown with its exit status and log tails.
        """
        for attempt in range(1, attempts + 1):
            self.start(progress)
            try:
                self.wait_healthy(timeout)
                return
            except ExitedDuringStart as exc:
                if attempt == attempts:
                    raise
                progress(f"{self.name.lower()}: start attempt {attempt} failed, trying again: {exc}")
                log.warning("%s start attempt %d failed: %s", self.name, attempt, exc)
                time.sleep(1.0 * attempt)

    def _claim_ports(self, ports: list[int], hint: str) -> None:
        """Wait for ``ports`` to be free; raise naming them and ``hint`` otherwise."""
        busy = wait_ports_free(ports, self.port_release_wait_s)
        if busy:
            raise StackError(
                f"cannot start {self.name}: port(s) {busy} on 127.0.0.1 are taken by another process ({hint})"
            )

    def stop(self) -> None:
        """SIGTERM, wait for a clean shutdown, then SIGKILL."""
        terminate(self.pid_file, self._marker, self.stop_timeout_s)

    def kill(self) -> None:
        """SIGKILL the server (as in a crash; tests use it)."""
        kill(self.pid_file, self._marker)
