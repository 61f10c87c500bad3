"""A child's lifeline: it stops when the process that started it dies, however that one dies.

The parent makes one pipe and keeps its write end, never writing to it; a
child inherits only the read end (``pass_fds``) and learns its number from
``Settings.lifeline_fd`` (``GRIDFLOW_LIFELINE_FD``). The kernel closes the
write end when the parent process ends — a normal exit, a crash, a SIGKILL
of its pid or of its whole process group — and the child's blocking read
returns end of file at once. The child then stops itself: SIGTERM to its own
pid, so the Faust worker and uvicorn run their usual shutdown, and a hard
exit ``GRACE_S`` later should that shutdown hang (an open live stream keeps
uvicorn waiting for ever; closing a worker's RocksDB tables takes about a
second each on a busy machine). The hard exit cannot rely on this thread
alone: a C call holding the GIL (a RocksDB close can) keeps it from waking, so
``alarm(2)`` one second later is the kernel's backstop — SIGALRM's default
action ends the process whatever its threads do. Together they keep the
demo's promise: gone within 10 s of its death.

Why not the alternatives: ``PR_SET_PDEATHSIG`` fires when the parent
*thread* that forked the child ends (a service started from a helper thread
would stop with that thread), needs a ``preexec_fn`` (unsafe in a threaded
parent) and misses a parent that died before the ``prctl``; polling
``getppid()`` has the same start-up gap and sees only direct children. The
pipe has neither gap — a parent already gone is an end of file on the first
read — and is plain POSIX. The write end is close-on-exec (PEP 446), so no
other program holds it open; a fork without exec drops it
(``os.register_at_fork`` below).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import stat
import threading
import time

log = logging.getLogger(__name__)

#: seconds between the parent's death and a hard exit, should the clean shutdown not finish first
GRACE_S = 4.0
#: exit status of a child whose clean shutdown outlasted the grace period
EXIT_ORPHANED = 3

_lock = threading.Lock()
_pipe: tuple[int, int] | None = None  # (read end, write end) of this process's lifeline


def parent_end() -> int:
    """The read end to pass to a child (``pass_fds``) and name in its settings.

    One pipe serves every child of this process; it is made on first use and
    stays open (never written) until the process ends.
    """
    global _pipe
    with _lock:
        if _pipe is None:
            _pipe = os.pipe()  # both ends non-inheritable: only pass_fds hands the read end on
        return _pipe[0]


def _forget_after_fork() -> None:
    # A forked copy of the parent must not hold the write end, or the
    # children would outlive the real parent for as long as the copy lives.
    global _pipe
    if _pipe is not None:
        for fd in _pipe:
            try:
                os.close(fd)
            except OSError:
                pass
        _pipe = None


os.register_at_fork(after_in_child=_forget_after_fork)


def watch(fd: int, grace_s: float = GRACE_S) -> threading.Thread | None:
    """Stop this process once the lifeline ``fd`` reaches end of file (its parent has died).

    ``fd`` -1 (a service started by hand, by systemd or by docker) watches
    nothing. A descriptor that is not an open pipe is logged and ignored, so a
    stray ``GRIDFLOW_LIFELINE_FD`` cannot stop a service. Returns the watching
    (daemon) thread, or None.
    """
    if fd < 0:
        return None
    try:
        is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        is_pipe = False
    if not is_pipe:
        log.warning("GRIDFLOW_LIFELINE_FD=%d is not an open pipe: not watching for the parent's death", fd)
        return None
    os.set_inheritable(fd, False)  # programs this one starts have their own lifelines
    thread = threading.Thread(target=_wait_for_eof, args=(fd, grace_s), name="lifeline", daemon=True)
    thread.start()
    return thread


def _wait_for_eof(fd: int, grace_s: float) -> None:
    while True:
        try:
            if not os.read(fd, 64):
                break
        except OSError:  # closed under us: the same news
            break
    log.warning("the process that started this one is gone: stopping (SIGTERM), hard exit in %.0f s", grace_s)
    if signal.getsignal(signal.SIGALRM) == signal.SIG_DFL:  # nobody else uses the alarm
        signal.alarm(math.ceil(grace_s) + 1)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace_s)
    # stderr is line-buffered (also into a log file), so this line is written before the exit
    log.error("clean shutdown took longer than %.0f s after the parent died: exiting now", grace_s)
    os._exit(EXIT_ORPHANED)
