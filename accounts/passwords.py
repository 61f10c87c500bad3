"""Sign-in passwords as scrypt hashes: ``scrypt$N$r$p$salt$digest`` (base64).

The parameters travel in the hash, so raising them (2^14 until 2026-11, now
OWASP's N=2^17, r=8, p=1: 128 MiB and about 0.4 s per hash on the district's
2-core server) leaves every older hash verifying with its own. An account
whose hash predates the change signs in faster than the rest until its
password is set again (``gridflow users add``); :func:`verify_or_dummy` pads
it with a dummy hash so that its time does not tell it apart either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

#: the parameters of every new hash (OWASP Password Storage Cheat Sheet, scrypt)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
#: a stored hash asking for more work than twice the current (128·N·r·p) is refused unread
_MAX_COST = 2 * 128 * SCRYPT_N * SCRYPT_R * SCRYPT_P
_DKLEN = 32


def _maxmem(n: int, r: int, p: int) -> int:
    # OpenSSL needs 128·r·(N + p) bytes and a little more; hashlib's default cap is 32 MiB.
    return 128 * r * (n + p) + 2**20


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _encode(n: int, r: int, p: int, salt: bytes, digest: bytes) -> str:
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def hash_password(password: str) -> str:
    """The stored form of ``password`` with a fresh salt and the current parameters."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=_DKLEN,
        maxmem=_maxmem(SCRYPT_N, SCRYPT_R, SCRYPT_P),
    )  # fmt: skip
    return _encode(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, digest)


#: what an unknown id is checked against: same parameters, a digest no password gives
DUMMY_HASH = _encode(SCRYPT_N, SCRYPT_R, SCRYPT_P, b"gridflow-dummy!!", bytes(_DKLEN))


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return None
        parsed = int(n), int(r), int(p), base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)
    except (ValueError, TypeError):
        return None
    n_, r_, p_ = parsed[:3]
    if n_ < 2 or n_ & (n_ - 1) or r_ < 1 or p_ < 1 or 128 * r_ * n_ * p_ > _MAX_COST or not parsed[4]:
        return None
    return parsed


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, whatever parameters it was made with (constant-time comparison)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, want = parsed
    try:
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(want), maxmem=_maxmem(n, r, p)
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, want)


def is_current(stored: str) -> bool:
    """Whether ``stored`` was made with at least the current parameters."""
    parsed = _parse(stored)
    return parsed is not None and parsed[0] * parsed[1] * parsed[2] >= SCRYPT_N * SCRYPT_R * SCRYPT_P


def verify_or_dummy(password: str, stored: str | None) -> bool:
    """:func:`verify_password`, taking at least one current-parameter hash's time whatever ``stored`` is.

    No account (``None``), an unreadable hash or one made with weaker
    parameters costs a hash against :data:`DUMMY_HASH` too, so a caller
    cannot tell a known id from an unknown one by the time of the answer.
    """
    ok = verify_password(password, stored) if stored is not None else False
    if stored is None or not is_current(stored):
        verify_password(password, DUMMY_HASH)
    return ok
