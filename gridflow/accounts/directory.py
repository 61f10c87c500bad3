"""Who a bearer token belongs to: the accounts topic, followed into memory."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from gridflow.accounts.tokens import hash_token, new_token
from gridflow.kafka import producer
from gridflow.settings import Settings
from gridflow.tail import FollowedTopic, TopicTail
from schemas.account import Account
from schemas.topics import ACCOUNTS
from schemas.vocabulary import Role

logger = logging.getLogger(__name__)


class AccountDirectory(FollowedTopic):
    """Token → account, for every intake and worker."""

    def __init__(self, settings: Settings) -> None:
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self._tail = TopicTail(settings.bootstrap, settings.topic(ACCOUNTS.name), self._on_record)


    def _on_record(self, key: bytes | None, value: bytes | None, _ts: int) -> None:
        if key is None:
            return
        with self._lock:
            if value is None:  # tombstone
                self._accounts.pop(key.decode(), None)
            else:
                account = Account.model_validate_json(value)
                self._accounts[account.token_sha256] = account

    def lookup(self, token: str) -> Account | None:
        """The live account of ``token``, or None (unknown or revoked).

        An unknown token may be one created a moment ago: wait for the topic
        to be read up to now before saying no.
        """
        digest = hash_token(token)
        account = self._accounts.get(digest)
        if account is None:
            self._tail.catch_up(timeout=2.0)
            account = self._accounts.get(digest)
        if account is None or account.revoked_at is not None:
            return None
        return account


def add_account(
    settings: Settings,
    user_id: str,
    role: Role,
    department: str | None = None,
    town: str | None = None,
) -> str:
    """Create an account, write it to the accounts topic, and return its new token."""
    if role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and not department:
        raise ValueError(f"role {role.value} needs --department")
    if role is Role.SYSTEM:
        raise ValueError("the system role is gridflow's own and has no tokens")
    token = new_token()
    account = Account(
        user_id=user_id,
        role=role,
        department=department,
        town=town,
        token_sha256=hash_token(token),
        created_at=datetime.now(timezone.utc),
    )
    # An admin command may wait for a freshly created topic; a phone request may not.
    p = producer(settings, max_block_ms=30000, bootstrap_timeout_ms=30000)
    try:
        p.send(
            settings.topic(ACCOUNTS.name), key=account.token_sha256.encode(), value=account.model_dump_json().encode()
        ).get(timeout=settings.intake_produce_timeout_s)
    finally:
        p.close()
    logger.info("account %s (%s) created", user_id, role.value)
    return token
