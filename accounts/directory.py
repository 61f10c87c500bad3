"""Who a bearer token belongs to: the accounts topic, followed into memory."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from accounts.tokens import hash_password, hash_token, new_token
from infra.kafka import producer
from infra.settings import Settings
from infra.tail import FollowedTopic, TopicTail
from schemas.account import Account
from schemas.topics import ACCOUNTS
from schemas.vocabulary import Role, SourceNetwork

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
        """The live account of ``token``, or None (unknown, revoked or expired)."""
        account, _why = self.check(token)
        return account

    def check(self, token: str) -> tuple[Account | None, str | None]:
        """(account, None) for a usable token; else (None, ``unknown`` | ``revoked`` | ``expired``).

        An unknown token may be one created a moment ago: wait for the topic
        to be read up to now before saying no.
        """
        digest = hash_token(token)
        account = self._accounts.get(digest)
        if account is None:
            self._tail.catch_up(timeout=2.0)
            account = self._accounts.get(digest)
        if account is None:
            return None, "unknown"
        why = account.usable(datetime.now(timezone.utc))
        return (None, why) if why else (account, None)

    def credential(self, user_id: str) -> Account | None:
        """The live account record of ``user_id`` that carries a sign-in password, if any."""
        now = datetime.now(timezone.utc)
        with self._lock:
            found = [
                a for a in self._accounts.values()
                if a.user_id == user_id and a.password_hash and a.usable(now) is None
            ]  # fmt: skip
        return max(found, key=lambda a: a.created_at) if found else None

    def accounts(self) -> list[Account]:
        """Every account (one per token), as last written."""
        self._tail.catch_up(timeout=5.0)
        with self._lock:
            return list(self._accounts.values())


def add_account(
    settings: Settings,
    user_id: str,
    role: Role,
    department: str | None = None,
    town: str | None = None,
    expires_at: datetime | None = None,
    password: str | None = None,
    session: bool = False,
    network: SourceNetwork | None = None,
) -> str:
    """Create an account, write it to the accounts topic, and return its new token.

    The token expires after ``settings.token_ttl_days`` (0: never) unless
    ``expires_at`` says otherwise.
    """
    if role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and not department:
        raise ValueError(f"role {role.value} needs --department")
    if role is Role.SYSTEM:
        raise ValueError("the system role is gridflow's own and has no tokens")
    if role is Role.INTEGRATOR and network in (None, SourceNetwork.MOBILE):
        raise ValueError("an integrator speaks for one source network: give --network")
    if role is not Role.INTEGRATOR and network is not None:
        raise ValueError("only an integrator belongs to a source network")
    token = new_token()
    now = datetime.now(timezone.utc)
    if expires_at is None and settings.token_ttl_days > 0:
        expires_at = now + timedelta(days=settings.token_ttl_days)
    account = Account(
        user_id=user_id,
        role=role,
        department=department,
        town=town,
        token_sha256=hash_token(token),
        created_at=now,
        expires_at=expires_at,
        password_hash=hash_password(password) if password else None,
        session=session,
        network=network,
    )
    _write(settings, [account])
    logger.info("account %s (%s) created", user_id, role.value)
    return token


def revoke_token(settings: Settings, account: Account) -> None:
    """Revoke one token (signing out)."""
    _write(settings, [account.model_copy(update={"revoked_at": datetime.now(timezone.utc)})])


def revoke_user(settings: Settings, user_id: str) -> int:
    """Revoke every live token of ``user_id``; returns how many. Every intake refuses them within a second."""
    directory = AccountDirectory(settings).start()
    try:
        deadline = time.monotonic() + 30
        while not directory.ready:
            if time.monotonic() > deadline:
                raise RuntimeError("the accounts topic could not be read within 30 s")
            time.sleep(0.1)
        now = datetime.now(timezone.utc)
        live = [a for a in directory.accounts() if a.user_id == user_id and a.revoked_at is None]
    finally:
        directory.stop()
    _write(settings, [a.model_copy(update={"revoked_at": now}) for a in live])
    for _ in live:
        logger.info("a token of %s revoked", user_id)
    return len(live)


def _write(settings: Settings, accounts: list[Account]) -> None:
    """Write account records (keyed by token hash: the compacted topic keeps the latest)."""
    if not accounts:
        return
    # An admin command may wait for a freshly created topic; a phone request may not.
    p = producer(settings, max_block_ms=30000, bootstrap_timeout_ms=30000)
    try:
        for account in accounts:
            p.send(
                settings.topic(ACCOUNTS.name), key=account.token_sha256.encode(), value=account.model_dump_json().encode()
            ).get(timeout=settings.intake_produce_timeout_s)
    finally:
        p.close()
