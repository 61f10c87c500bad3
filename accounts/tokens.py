"""Bearer tokens: random, shown once, stored only as SHA-256, and signed when the district has a secret.

A token is ``gf_`` and 43 URL-safe characters (256 random bits). With
``GRIDFLOW_TOKEN_SECRET`` set it also carries ``.`` and a 22-character
HMAC-SHA256 tag of that part, so a reader can tell in microseconds whether
gridflow could have issued it: a forged token is refused at once, and only
a genuine one that the accounts topic has not shown yet is worth waiting
for. The tag adds no power: a token is usable only once its account record
is on the topic, so a stolen secret alone lets nobody in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

PREFIX = "gf_"
_LEGACY = re.compile(r"gf_[A-Za-z0-9_-]{43}")
_SIGNED = re.compile(r"gf_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}")
#: longer than any token gridflow issues: refused before a regular expression looks at it
_MAX_LEN = 80


def new_token(secret: str = "") -> str:
    """A new bearer token (256 random bits), signed with ``secret`` when one is given."""
    body = PREFIX + secrets.token_urlsafe(32)
    return f"{body}.{_tag(body, secret)}" if secret else body


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token's account is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def well_shaped(token: str) -> bool:
    """Whether ``token`` has the shape of a token gridflow issues (signed or not)."""
    return len(token) <= _MAX_LEN and bool(_LEGACY.fullmatch(token) or _SIGNED.fullmatch(token))


def could_be_issued(token: str, secret: str) -> bool:
    """Whether ``token`` may be one gridflow issued that a reader has not seen yet.

    With a secret every process signs what it issues, so only a token whose
    tag checks out can be new (an unsigned one would be old, and an old one
    is already known); without one, any well-shaped token can be.
    """
    if not well_shaped(token):
        return False
    if not secret:
        return True
    body, dot, tag = token.partition(".")
    return bool(dot) and hmac.compare_digest(tag, _tag(body, secret))


def _tag(body: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body.encode("ascii"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
