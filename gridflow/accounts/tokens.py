"""Bearer tokens: random, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "gf_"


def new_token() -> str:
    """A new bearer token (256 random bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token's account is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
