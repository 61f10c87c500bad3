"""Services an earlier demo left behind, found on the ports a new demo is about to take.

Before the lifeline (:mod:`infra.lifeline`), a SIGKILLed demo left its intake
and workers running, and the next demo then talked to them: reports went to
the old intake, old workers joined the consumer group. A new demo therefore
looks first: anything answering on the intake port or a worker's web port is
named (port, pid and command line, read from ``/proc``) and the demo refuses
to start. It does not kill it: the process may not be a leftover at all (an
intake someone runs by hand, another program on 8080), and stopping what
this demo did not start is not its call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from infra.settings import Settings
from infra.stack.processes import port_open

_LISTEN = "0A"  # TCP state in /proc/net/tcp


@dataclass(frozen=True)
class Squatter:
    """Something answering on a port the demo needs."""

    port: int
    what: str  # "intake" or "worker-N", the service the demo would have started there
    pid: int | None  # None: not visible here (another user's process, another network namespace)
    command: str  # its command line, "" when unknown

    def message(self) -> str:
        """The user-facing refusal, in Chinese and English, naming the port and the pid if known."""
        who = f"进程 {self.pid}（{self.command or '?'}）" if self.pid else "某个进程"
        who_en = f"pid {self.pid} ({self.command or '?'})" if self.pid else "a process this user cannot see"
        find = f"ss -ltnp 'sport = :{self.port}'"
        stop = f"kill {self.pid}" if self.pid else f"用 {find} 找到它"
        stop_en = f"kill {self.pid}" if self.pid else f"find it with {find}"
        return (
            f"端口 {self.port}（{self.what}）已被{who}占用并在应答，多半是上次被强行终止的演示遗留的服务；"
            f"演示不会与它通信。请先结束它（{stop}）再运行演示。\n"
            f"port {self.port} ({self.what}) already answers, held by {who_en}: most likely left by an earlier demo "
            f"that was killed. The demo will not talk to it; stop it ({stop_en}) and start the demo again."
        )


def squatters(settings: Settings, workers: int) -> list[Squatter]:
    """What already answers on the intake's port and the web ports of ``workers`` workers."""
    wanted = [(settings.intake_host, settings.intake_port, "intake")]
    wanted += [(settings.worker_web_host, settings.worker_web_port + i, f"worker-{i}") for i in range(workers)]
    found = []
    for host, port, what in wanted:
        pid = listener_pid(port)
        if pid is not None or port_open(_reachable(host), port):
            found.append(Squatter(port, what, pid, command_line(pid) if pid else ""))
    return found


def listener_pid(port: int) -> int | None:
    """The pid of a process listening on TCP ``port`` on any local address, from ``/proc``; None if none is seen."""
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not sockets:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in sockets:
                    return int(proc.name)
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return None


def command_line(pid: int) -> str:
    """``pid``'s command line, or "" when it cannot be read."""
    try:
        raw = (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl, local address (hex ip:port), remote address, state, queues, …, inode (10th field)
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _reachable(host: str) -> str:
    # A wildcard bind answers on the loopback address.
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
