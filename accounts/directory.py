"""Who a bearer token belongs to: the accounts topic, followed into memory.

A token this reader has not seen may be one created a moment ago, so an
unknown token waits until the topic has been read up to now — but only one
that gridflow could have issued: a malformed token, or (with
``GRIDFLOW_TOKEN_SECRET``) one whose signature does not check out, is
refused in microseconds. The intake waits with :meth:`AccountDirectory.check_async`,
which parks the request on one shared thread instead of holding a thread
per request; :meth:`AccountDirectory.check` is the same answer for threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from accounts.password_policy import check_password
from accounts.passwords import hash_password
from accounts.tokens import could_be_issued, hash_token, new_token, well_shaped
from accounts.writer import AccountWriter, Write
from infra.settings import Settings
from infra.tail import FollowedTopic, TopicTail
from schemas.account import Account
from schemas.topics import ACCOUNTS
from schemas.vocabulary import Role, SourceNetwork

logger = logging.getLogger(__name__)

Verdict = tuple[Account | None, str | None]


class AccountDirectory(FollowedTopic):
    """Token → account, for every intake and worker; also user id → that user's tokens."""

    def __init__(self, settings: Settings) -> None:
        self._accounts: dict[str, Account] = {}
        self._by_user: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._secret = settings.token_secret
        self._wait_s = settings.token_wait_s
        self._tail = TopicTail(settings, settings.topic(ACCOUNTS.name), self._on_record)
        self._watchers: list[Callable[[str], None]] = []
        # Requests parked until the topic is read up to now (see check_async), served by one thread.
        self._parked: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._waiter = threading.Thread(target=self._serve_parked, name="accounts-catch-up", daemon=True)

    def start(self) -> AccountDirectory:
        self._tail.start()
        self._waiter.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._tail.stop()
        if self._waiter.is_alive():
            self._waiter.join(timeout=5)

    # -- the topic -------------------------------------------------------------------
    def _on_record(self, key: bytes | None, value: bytes | None, _ts: int) -> None:
        if key is None:
            return
        digest = key.decode()
        account = Account.model_validate_json(value) if value is not None else None
        with self._lock:
            old = self._accounts.pop(digest, None)
            if old is not None:
                self._by_user.get(old.user_id, set()).discard(digest)
                if not self._by_user.get(old.user_id):
                    self._by_user.pop(old.user_id, None)
            if account is not None:
                self._accounts[digest] = account
                self._by_user.setdefault(account.user_id, set()).add(digest)
            watchers = list(self._watchers)
        if old is not None and old.revoked_at is None and (account is None or account.revoked_at is not None):
            for watch in watchers:
                try:
                    watch(digest)
                except Exception:  # a watcher's bug must not stop the tail
                    logger.exception("revocation watcher failed")

    def watch_revocations(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(token_sha256)`` (on the reading thread; keep it quick) when a token is revoked or removed.

        Expiry writes no record: a holder of a long-lived token also asks
        :meth:`is_current` now and then.
        """
        with self._lock:
            self._watchers.append(callback)

    # -- tokens ------------------------------------------------------------------------
    def _known(self, digest: str) -> Verdict | None:
        account = self._accounts.get(digest)
        if account is None:
            return None
        why = account.usable(datetime.now(timezone.utc))
        return (None, why) if why else (account, None)

    def _may_wait(self, token: str) -> bool:
        return could_be_issued(token, self._secret)

    def check(self, token: str) -> Verdict:
        """(account, None) for a usable token; else (None, ``unknown`` | ``revoked`` | ``expired``).

        A token gridflow could have issued but this reader has not seen yet
        waits (this thread, up to ``GRIDFLOW_TOKEN_WAIT_S``) for the topic to
        be read up to now; any other unknown token is refused at once.
        """
        if not well_shaped(token):
            return None, "unknown"
        digest = hash_token(token)
        found = self._known(digest)
        if found is None and self._may_wait(token):
            self._tail.catch_up(timeout=self._wait_s)
            found = self._known(digest)
        return found or (None, "unknown")

    async def check_async(self, token: str) -> Verdict:
        """:meth:`check` without holding a thread while it waits (for the event loop)."""
        if not well_shaped(token):
            return None, "unknown"
        digest = hash_token(token)
        found = self._known(digest)
        if found is None and self._may_wait(token):
            await self._caught_up()
            found = self._known(digest)
        return found or (None, "unknown")

    def lookup(self, token: str) -> Account | None:
        """The live account of ``token``, or None (unknown, revoked or expired)."""
        account, _why = self.check(token)
        return account

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is usable right now, from memory only (no waiting): for re-checking a held token."""
        return well_shaped(token) and self.is_current_digest(hash_token(token))

    def is_current_digest(self, token_sha256: str) -> bool:
        """:meth:`is_current` by the token's SHA-256 (``Account.token_sha256``)."""
        found = self._known(token_sha256)
        return found is not None and found[0] is not None

    # -- waiting for the topic ------------------------------------------------------------
    async def _caught_up(self) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._parked.append((loop, future))
        self._wake.set()
        try:
            await asyncio.wait_for(future, self._wait_s)
        except TimeoutError:
            pass

    def _serve_parked(self) -> None:
        """Let parked requests go once the topic is read up to (at least) when they were parked."""
        while not self._stopping.is_set():
            self._wake.wait()
            with self._lock:
                batch, self._parked = self._parked, []
                self._wake.clear()
            if batch and not self._stopping.is_set():
                self._tail.catch_up(timeout=self._wait_s)
            for loop, future in batch:
                try:
                    loop.call_soon_threadsafe(_settle, future)
                except RuntimeError:  # that loop is closed
                    pass

    # -- users ------------------------------------------------------------------------------
    def of_user(self, user_id: str) -> list[Account]:
        """Every account record (one per token) of ``user_id``, as last written."""
        with self._lock:
            return [self._accounts[d] for d in self._by_user.get(user_id, ())]

    def credential(self, user_id: str) -> Account | None:
        """The live account record of ``user_id`` that carries a sign-in password, if any."""
        now = datetime.now(timezone.utc)
        found = [a for a in self.of_user(user_id) if a.password_hash and a.usable(now) is None]
        return max(found, key=lambda a: a.created_at) if found else None

    def finished_sessions(self, user_id: str, before: datetime) -> list[Account]:
        """``user_id``'s sign-ins that ended (signed out, revoked or expired) at or before ``before``."""
        ended = []
        for a in self.of_user(user_id):
            if not a.session:
                continue
            end = a.revoked_at or a.expires_at
            if end is not None and end <= before:
                ended.append(a)
        return ended

    def accounts(self) -> list[Account]:
        """Every account (one per token), as last written."""
        self._tail.catch_up(timeout=5.0)
        with self._lock:
            return list(self._accounts.values())


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def new_account(
    settings: Settings,
    user_id: str,
    role: Role,
    department: str | None = None,
    town: str | None = None,
    expires_at: datetime | None = None,
    password: str | None = None,
    session: bool = False,
    network: SourceNetwork | None = None,
) -> tuple[str, Account]:
    """A new token and its account record, not yet written (:func:`add_account` writes it).

    Raises ValueError for a role without what it needs, and
    :class:`~accounts.password_policy.WeakPassword` (a ValueError) for a
    password the policy refuses.
    """
    if role in (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD) and not department:
        raise ValueError(f"role {role.value} needs --department")
    if role is Role.SYSTEM:
        raise ValueError("the system role is gridflow's own and has no tokens")
    if role is Role.INTEGRATOR and network in (None, SourceNetwork.MOBILE):
        raise ValueError("an integrator speaks for one source network: give --network")
    if role is not Role.INTEGRATOR and network is not None:
        raise ValueError("only an integrator belongs to a source network")
    if password is not None:
        check_password(password)
    token = new_token(settings.token_secret)
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
        password_hash=hash_password(password) if password is not None else None,
        session=session,
        network=network,
    )
    return token, account


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
    ``expires_at`` says otherwise; a ``password`` must pass the policy.
    """
    token, account = new_account(settings, user_id, role, department, town, expires_at, password, session, network)
    _write(settings, [(account.token_sha256, account)])
    logger.info("account %s (%s) created", user_id, role.value)
    return token


def revoked(account: Account) -> Account:
    """``account`` as revoked now."""
    return account.model_copy(update={"revoked_at": datetime.now(timezone.utc)})


def revoke_token(settings: Settings, account: Account) -> None:
    """Revoke one token (an admin command; the intake signs out with its own writer)."""
    _write(settings, [(account.token_sha256, revoked(account))])


def revoke_user(settings: Settings, user_id: str) -> int:
    """Revoke every live token of ``user_id``; returns how many. Every intake refuses them within a second."""
    directory = AccountDirectory(settings).start()
    try:
        deadline = time.monotonic() + 30
        while not directory.ready:
            if time.monotonic() > deadline:
                raise RuntimeError("the accounts topic could not be read within 30 s")
            time.sleep(0.1)
        directory.accounts()  # read up to now
        live = [a for a in directory.of_user(user_id) if a.revoked_at is None]
    finally:
        directory.stop()
    _write(settings, [(a.token_sha256, revoked(a)) for a in live])
    for _ in live:
        logger.info("a token of %s revoked", user_id)
    return len(live)


def _write(settings: Settings, records: list[Write]) -> None:
    """Write account records from a command: it may wait for a freshly created topic, a phone request may not."""
    writer = AccountWriter(settings, wait_s=30, max_block_ms=30000, bootstrap_timeout_ms=30000)
    try:
        writer.write(records)
    finally:
        writer.close()
