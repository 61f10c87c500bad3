"""The directory as the accounts topic builds it: by token and by user, revocations told, tombstones honoured."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from accounts.directory import AccountDirectory, new_account, revoked
from infra.settings import Settings
from schemas.account import Account
from schemas.vocabulary import Role

NOW = datetime.now(timezone.utc)


def put(directory: AccountDirectory, account: Account) -> None:
    directory._on_record(account.token_sha256.encode(), account.model_dump_json().encode(), 0)


def tombstone(directory: AccountDirectory, account: Account) -> None:
    directory._on_record(account.token_sha256.encode(), None, 0)


def session(settings: Settings, user_id: str, expires: datetime) -> tuple[str, Account]:
    return new_account(settings, user_id, Role.DEPARTMENT_STAFF, department="CG", expires_at=expires, session=True)


def test_index_by_user_credential_and_current() -> None:
    settings = Settings(token_secret="s")
    directory = AccountDirectory(settings)
    _, login = new_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="cg-pass-01")
    token, live = session(settings, "cg-zhang", NOW + timedelta(hours=12))
    other_token, other = new_account(settings, "rs-li", Role.DEPARTMENT_STAFF, department="RS")
    for a in (login, live, other):
        put(directory, a)
    assert directory.credential("cg-zhang") == login and directory.credential("rs-li") is None
    assert {a.token_sha256 for a in directory.of_user("cg-zhang")} == {login.token_sha256, live.token_sha256}
    assert directory.is_current(token) and directory.is_current(other_token)
    assert directory.check(token) == (live, None)

    told: list[str] = []
    directory.watch_revocations(told.append)
    put(directory, revoked(live))
    assert not directory.is_current(token) and directory.check(token) == (None, "revoked") and told == [live.token_sha256]
    put(directory, revoked(live))  # told once
    tombstone(directory, live)
    assert told == [live.token_sha256] and directory.check(token) == (None, "unknown")
    assert [a.token_sha256 for a in directory.of_user("cg-zhang")] == [login.token_sha256]
    tombstone(directory, other)
    assert told == [live.token_sha256, other.token_sha256]  # a live token removed is told too
    assert directory.of_user("rs-li") == [] and "rs-li" not in directory._by_user  # no empty entries left behind

    put(directory, revoked(login))
    assert directory.credential("cg-zhang") is None  # a revoked login signs nobody in


def test_finished_sessions_are_those_ended_before_the_cutoff() -> None:
    settings = Settings()
    directory = AccountDirectory(settings)
    _, login = new_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="cg-pass-01")
    _, expired = session(settings, "cg-zhang", NOW - timedelta(days=40))
    _, signed_out = session(settings, "cg-zhang", NOW + timedelta(hours=1))
    _, recent = session(settings, "cg-zhang", NOW - timedelta(hours=1))
    _, live = session(settings, "cg-zhang", NOW + timedelta(hours=12))
    signed_out = signed_out.model_copy(update={"revoked_at": NOW - timedelta(days=31)})
    for a in (login, expired, signed_out, recent, live):
        put(directory, a)
    cutoff = NOW - timedelta(days=30)
    assert {a.token_sha256 for a in directory.finished_sessions("cg-zhang", cutoff)} == {
        expired.token_sha256, signed_out.token_sha256
    }  # fmt: skip
    assert {a.token_sha256 for a in directory.finished_sessions("cg-zhang", NOW)} == {
        expired.token_sha256, signed_out.token_sha256, recent.token_sha256
    }  # fmt: skip
