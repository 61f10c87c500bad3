"""The intake's account writer fails fast when Kafka is away: a sign-in gets a 503, not a 30 s wait."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from accounts.writer import AccountsUnavailable, AccountWriter
from infra.settings import Settings
from schemas.account import Account
from schemas.vocabulary import Role


def test_no_broker_is_a_quick_accounts_unavailable() -> None:
    writer = AccountWriter(Settings(kafka_bootstrap="127.0.0.1:1"))
    account = Account(user_id="u", role=Role.ADMIN, token_sha256="0" * 64, created_at=datetime.now(timezone.utc))
    for _ in range(2):  # and again: the broken producer was dropped, a new one is tried
        started = time.monotonic()
        with pytest.raises(AccountsUnavailable):
            writer.write([(account.token_sha256, account), (account.token_sha256, None)])
        assert time.monotonic() - started < 8
    writer.write([])  # nothing to write: no producer needed
    writer.close()
