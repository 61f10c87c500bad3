"""Token shapes: a malformed or forged token is refused in microseconds; only a possible new one waits."""

from __future__ import annotations

import asyncio
import threading
import time

from accounts.directory import AccountDirectory
from accounts.tokens import could_be_issued, hash_token, new_token, well_shaped
from infra.settings import Settings

SECRET = "district-secret-for-tests"


def test_shapes_and_signatures() -> None:
    plain, signed = new_token(), new_token(SECRET)
    assert well_shaped(plain) and well_shaped(signed) and len(plain) == 46 and len(signed) == 69
    assert could_be_issued(signed, SECRET) and could_be_issued(plain, "") and could_be_issued(signed, "")
    assert not could_be_issued(plain, SECRET)  # with a secret every new token is signed
    assert not could_be_issued(signed, "another-secret")
    body, _, tag = signed.partition(".")
    forged = f"{body}.{'A' * len(tag)}"
    assert well_shaped(forged) and not could_be_issued(forged, SECRET)
    for bad in ("", "not-a-token", plain + "x", plain[:-1], "gf_" + "é" * 43, "x" * 10_000, signed + ".x"):
        assert not well_shaped(bad) and not could_be_issued(bad, ""), bad
    assert hash_token(plain) != hash_token(signed) and len(hash_token(plain)) == 64


def _per_call(check, token: str, calls: int = 2000) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(calls):
        assert check(token) == (None, "unknown")
    return (time.perf_counter() - started) / calls


def test_malformed_and_forged_tokens_are_refused_without_waiting() -> None:
    # The directory is not even reading its topic: a check that waited would take the 2 s wait each time.
    directory = AccountDirectory(Settings(token_secret=SECRET, kafka_bootstrap="127.0.0.1:1"))
    body, _, tag = new_token(SECRET).partition(".")
    for token in ("not-a-token", "Bearer x" * 500, new_token(), f"{body}.{'A' * len(tag)}"):
        assert _per_call(directory.check, token) < 50e-6, token  # microseconds, not seconds
        assert asyncio.run(directory.check_async(token)) == (None, "unknown")
    assert not directory.is_current("not-a-token") and not directory.is_current(new_token(SECRET))


def test_a_possibly_new_token_waits_on_one_shared_thread_not_one_per_request() -> None:
    settings = Settings(kafka_bootstrap="127.0.0.1:1", token_wait_s=0.5)  # no broker: every wait runs out
    directory = AccountDirectory(settings).start()
    try:
        threads_before = threading.active_count()

        async def many() -> list[tuple[object, str | None]]:
            return await asyncio.gather(*(directory.check_async(new_token()) for _ in range(300)))

        started = time.monotonic()
        answers = asyncio.run(many())
        took = time.monotonic() - started
        assert answers == [(None, "unknown")] * 300
        assert 0.4 < took < 2.0, took  # they waited (once, together), and only as long as the setting says
        assert threading.active_count() <= threads_before + 1
    finally:
        directory.stop()
