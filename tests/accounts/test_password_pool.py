"""Password checks run on their own few threads; beyond the queue a check is refused at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from accounts.password_pool import PasswordPool, PasswordPoolBusy
from accounts.passwords import hash_password


def test_a_full_pool_refuses_at_once_and_other_work_is_not_held_up() -> None:
    stored = hash_password("cg-pass-01")
    pool = PasswordPool(threads=1, queue=1)

    async def burst() -> tuple[list[object], int, float]:
        checks = [asyncio.ensure_future(pool.verify("wrong-pass-1", stored if i % 2 else None)) for i in range(6)]
        await asyncio.sleep(0)
        refused_at_once = sum(c.done() for c in checks)  # before any hash could have finished
        # The event loop's own default executor (where Kafka writes go) is free meanwhile.
        other = time.monotonic()
        await asyncio.to_thread(lambda: None)
        other_took = time.monotonic() - other
        return await asyncio.gather(*checks, return_exceptions=True), refused_at_once, other_took

    answers, refused_at_once, other_took = asyncio.run(burst())
    busy = [a for a in answers if isinstance(a, PasswordPoolBusy)]
    assert answers[:2] == [False, False] and len(busy) == 4 == refused_at_once  # one running, one queued, four refused
    assert all(b.retry_after >= 1 for b in busy)
    assert other_took < 0.1
    assert asyncio.run(pool.verify("cg-pass-01", stored)) is True  # and the slots came back
    pool.close()


def test_a_closed_pool_refuses() -> None:
    pool = PasswordPool(threads=1, queue=0)
    pool.close()
    with pytest.raises(PasswordPoolBusy):
        asyncio.run(pool.verify("x", None))
