"""Password checks on a small thread pool of their own, with a bounded queue.

scrypt takes about 0.4 s of one core and 128 MiB per check. Run in the
event loop's default executor, as it was, a burst of wrong passwords filled
the threads that Kafka writes wait for, and a report took seconds. Here at
most ``threads`` checks run (at a lower CPU priority than the requests
around them) and at most ``queue`` wait; a check beyond that is refused at
once with :class:`PasswordPoolBusy`, because a queue without bound only
turns a burst into minutes of latency and memory for everyone.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from accounts.passwords import verify_or_dummy

logger = logging.getLogger(__name__)
#: niceness of the hashing threads: a report request's thread always gets the CPU first
_NICENESS = 10


class PasswordPoolBusy(Exception):
    """Every hashing thread is busy and the queue is full; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"password checks busy; retry in {retry_after} s")
        self.retry_after = retry_after


def _lower_priority() -> None:
    # On Linux a thread id is a valid PRIO_PROCESS target and sets that thread's niceness alone.
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)
    except (AttributeError, OSError):  # not Linux, or not permitted: the pool's size still bounds it
        pass


class PasswordPool:
    """Check passwords (``verify_or_dummy``) on ``threads`` threads, at most ``queue`` waiting."""

    def __init__(self, threads: int, queue: int) -> None:
        self.threads = threads
        self.limit = threads + queue
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scrypt", initializer=_lower_priority)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._seconds = 0.4  # a running mean of one check's time, for Retry-After

    def _done(self, _future: Future[bool]) -> None:
        with self._lock:
            self._in_flight -= 1

    def _timed(self, password: str, stored: str | None) -> bool:
        started = time.monotonic()
        try:
            return verify_or_dummy(password, stored)
        finally:
            took = time.monotonic() - started
            with self._lock:
                self._seconds = 0.8 * self._seconds + 0.2 * took

    async def verify(self, password: str, stored: str | None) -> bool:
        """Whether ``password`` matches ``stored`` (None: no such account, checked against a dummy all the same).

        Raises :class:`PasswordPoolBusy` when the pool and its queue are full.
        """
        with self._lock:
            if self._in_flight >= self.limit:
                raise PasswordPoolBusy(max(1, math.ceil(self._in_flight * self._seconds / self.threads)))
            self._in_flight += 1
        try:
            future = self._pool.submit(self._timed, password, stored)
        except RuntimeError:  # shut down
            with self._lock:
                self._in_flight -= 1
            raise PasswordPoolBusy(5) from None
        # Counted down when the check ends, not when the request does: a client that hangs up frees no thread.
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop taking checks; running ones finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
