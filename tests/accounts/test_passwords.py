"""scrypt hashes carry their parameters: new ones use OWASP's, old N=2^14 ones still verify."""

from __future__ import annotations

import base64
import hashlib
import statistics
import time

from accounts.passwords import (
    DUMMY_HASH,
    SCRYPT_N,
    hash_password,
    is_current,
    verify_or_dummy,
    verify_password,
)


def old_hash(password: str) -> str:
    """A hash made the way gridflow made them until 2026-11 (N=2^14, r=8, p=1)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_new_hashes_use_the_current_parameters() -> None:
    stored = hash_password("cg-pass-01")
    assert stored.startswith(f"scrypt${SCRYPT_N}$8$1$") and SCRYPT_N == 2**17
    assert verify_password("cg-pass-01", stored) and not verify_password("cg-pass-02", stored)
    assert hash_password("cg-pass-01") != stored  # a fresh salt each time
    assert is_current(stored)


def test_an_old_hash_still_verifies() -> None:
    stored = old_hash("old-pass-01")
    assert verify_password("old-pass-01", stored) and not verify_password("old-pass-02", stored)
    assert verify_or_dummy("old-pass-01", stored) and not is_current(stored)


def test_the_dummy_and_broken_or_hostile_hashes_never_match() -> None:
    assert not verify_or_dummy("anything-1", None)
    assert not verify_password("", DUMMY_HASH)
    for stored in ("", "bcrypt$x", "scrypt$1$8$1$AA==$AA==", "scrypt$16384$8$1$!!$AA==", f"scrypt${2**24}$8$1$AA==$AA=="):
        started = time.perf_counter()
        assert not verify_password("x", stored)
        assert time.perf_counter() - started < 0.05, stored  # refused unread: N=2^24 would take 2 GiB


def _seconds(password: str, stored: str | None) -> float:
    started = time.perf_counter()
    verify_or_dummy(password, stored)
    return time.perf_counter() - started


def test_no_account_an_old_hash_and_a_current_one_take_about_the_same_time() -> None:
    current, old = hash_password("cg-pass-01"), old_hash("old-pass-01")
    rounds = [(_seconds("wrong-1", None), _seconds("wrong-1", current), _seconds("wrong-1", old)) for _ in range(3)]
    none, known, legacy = (statistics.median(r[i] for r in rounds) for i in range(3))
    # Without the dummy an unknown id answered in microseconds and an old hash in an eighth of the time.
    assert none > 0.6 * known and legacy > 0.8 * known, (none, known, legacy)
