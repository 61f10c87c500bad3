"""Failed sign-ins per id: the 11th attempt within the window is refused, memory stays bounded."""

from __future__ import annotations

from accounts.signin_limiter import SignInLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(limiter: SignInLimiter, user_id: str, times: int) -> None:
    for _ in range(times):
        assert limiter.begin(user_id) is None
        limiter.end(user_id, ok=False)


def test_ten_failures_then_refused_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=10, window_s=900, max_ids=100, clock=clock)
    fail(limiter, "cg-zhang", 1)
    clock.now += 100
    fail(limiter, "cg-zhang", 9)
    clock.now += 50
    assert limiter.begin("cg-zhang") == 900 - 150  # the first failure leaves the window in 750 s
    assert limiter.begin("someone-else") is None  # other ids are untouched
    clock.now += 749
    assert limiter.begin("cg-zhang") == 1
    clock.now += 1
    assert limiter.begin("cg-zhang") is None  # one slot free again …
    limiter.end("cg-zhang", ok=False)
    assert limiter.begin("cg-zhang") == 100  # … and used: now the nine at t=100 are the oldest


def test_retry_after_counts_from_the_oldest_failure_still_in_the_window() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=3, window_s=60, max_ids=10, clock=clock)
    for step in (0, 10, 20):
        clock.now = 1000.0 + step
        fail(limiter, "u", 1)
    clock.now = 1030.0
    assert limiter.begin("u") == 30  # 1000 + 60 - 1030
    clock.now = 1060.0
    assert limiter.begin("u") is None
    limiter.end("u", ok=False)
    assert limiter.begin("u") == 10  # now the oldest is the one at 1010


def test_attempts_in_flight_count_so_a_burst_cannot_slip_past() -> None:
    limiter = SignInLimiter(max_failures=10, window_s=900, max_ids=100, clock=Clock())
    admitted = [limiter.begin("admin") for _ in range(50)]
    assert admitted.count(None) == 10
    assert all(wait == 1 for wait in admitted if wait is not None)  # only attempts in flight: try again soon


def test_success_forgets_and_cancel_gives_the_attempt_back() -> None:
    limiter = SignInLimiter(max_failures=3, window_s=900, max_ids=100, clock=Clock())
    fail(limiter, "u", 2)
    assert limiter.begin("u") is None
    limiter.end("u", ok=True)
    assert len(limiter) == 0
    fail(limiter, "u", 2)
    assert limiter.begin("u") is None
    limiter.cancel("u")  # no hash ran (the pool was full)
    fail(limiter, "u", 1)
    assert limiter.begin("u") is not None


def test_unknown_and_known_ids_are_counted_alike_and_memory_is_bounded() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=10, window_s=900, max_ids=1000, clock=clock)
    fail(limiter, "victim", 10)
    for i in range(999):  # an attacker cycling ids
        clock.now += 0.01
        fail(limiter, f"nobody-{i}", 1)
    assert len(limiter) == 1000
    assert limiter.begin("victim") is not None  # still remembered: the cap was not passed
    for i in range(50_000):
        fail(limiter, f"x{i}", 1)
    assert len(limiter) <= 1000  # the least recently failed ids were forgotten
