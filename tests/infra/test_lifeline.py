"""The lifeline: a child stops when its parent is SIGKILLed — its pid or its group — cleanly if it can."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.lifeline import watch
from infra.stack.processes import pid_alive, wait_for

REPO = Path(__file__).resolve().parents[2]

# The child: a service that shuts down on SIGTERM (leaving a mark), ignores it, or then
# hangs in a C call that holds the GIL (as a RocksDB close does), so no Python thread can run.
CHILD = """
import re, signal, sys, time
from pathlib import Path
from infra.lifeline import watch
fd, mode, mark = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
def clean(*_):
    mark.write_text("sigterm")
    sys.exit(0)
def hang(*_):
    re.match(r"(a+)+$", "a" * 64 + "b")  # catastrophic backtracking: minutes inside the regex engine
handlers = {"clean": clean, "stubborn": signal.SIG_IGN, "hanging": hang}
signal.signal(signal.SIGTERM, handlers[mode])
watch(fd, grace_s=1.0)
print("ready", flush=True)
while True:
    time.sleep(1)
"""

# The parent: gives the child the lifeline, and starts a sibling without it, which must not keep the pipe open.
PARENT = """
import subprocess, sys, time
from infra import lifeline
fd = lifeline.parent_end()
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(fd), *sys.argv[2:]], pass_fds=(fd,),
                         start_new_session=True)
sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
print(child.pid, sibling.pid, flush=True)
time.sleep(600)
"""


def _start(mode: str, mark: Path) -> tuple[subprocess.Popen[str], int, int]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD, mode, str(mark)],
        cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert parent.stdout is not None
    child, sibling = map(int, parent.stdout.readline().split())
    assert parent.stdout.readline().strip() == "ready"  # the child's own line: it watches now
    return parent, child, sibling


@pytest.mark.parametrize("target", ["pid", "group"])
@pytest.mark.parametrize("mode", ["clean", "stubborn", "hanging"])
def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path, mode: str, target: str) -> None:
    mark = tmp_path / "mark"
    parent, child, sibling = _start(mode, mark)
    try:
        assert pid_alive(child)
        killed = time.monotonic()
        if target == "pid":
            os.kill(parent.pid, signal.SIGKILL)
        else:
            os.killpg(parent.pid, signal.SIGKILL)  # the child and the sibling are in sessions of their own
        parent.wait(5)
        assert wait_for(lambda: not pid_alive(child), 5.0), "the child outlived its parent"
        took = time.monotonic() - killed
        assert pid_alive(sibling)  # it lives on, and yet did not hold the child's pipe open
        if mode == "clean":
            assert mark.read_text() == "sigterm"  # its own shutdown ran
            assert took < 1.0  # end of file is news at once, no grace period waited
        elif mode == "stubborn":
            assert not mark.exists()
            assert 1.0 <= took < 3.0  # ignored SIGTERM: the hard exit after the grace period (or the alarm)
        else:
            assert 2.0 <= took < 4.0  # the GIL held: the thread cannot exit, the kernel's alarm ends it
    finally:
        for pid in (child, sibling):
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()


def test_nothing_to_watch_without_a_pipe(tmp_path: Path) -> None:
    assert watch(-1) is None  # started by hand, by systemd, by docker
    with open(tmp_path / "plain", "w") as plain:
        assert watch(plain.fileno()) is None  # a stray GRIDFLOW_LIFELINE_FD stops nothing
    assert watch(9999) is None  # not open at all


def test_the_write_end_reaches_no_other_program() -> None:
    from infra import lifeline

    read_end = lifeline.parent_end()
    assert lifeline.parent_end() == read_end  # one pipe per process
    assert lifeline._pipe is not None
    assert not os.get_inheritable(lifeline._pipe[1])
