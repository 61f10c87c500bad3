"""Tokens expire and can be revoked; a revoked token is refused by a running intake within seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from accounts.directory import add_account
from district import load_registry
from gridflow import services
from infra.kafka import ensure_topics
from infra.settings import Settings
from schemas.topics import declared
from schemas.vocabulary import Role

pytestmark = pytest.mark.integration


def _grids(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/api/v1/grids", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_revoked_and_expired_tokens_are_refused(pipeline_settings: Settings) -> None:
    settings = pipeline_settings
    ensure_topics(settings, declared(load_registry().department_codes))
    intake = services.intake(settings).start()
    url = settings.intake_url
    try:
        services.wait_until(services.intake_ready(settings), 90, "intake")
        first = add_account(settings, "wgy-xl-0203", Role.GRID_WORKER, town="XL")
        second = add_account(settings, "wgy-xl-0203", Role.GRID_WORKER, town="XL")  # a second phone
        other = add_account(settings, "wgy-xl-0204", Role.GRID_WORKER, town="XL")
        expired = add_account(
            settings, "wgy-xl-0205", Role.GRID_WORKER, expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)
        )
        assert _grids(url, first).status_code == 200 and _grids(url, second).status_code == 200
        gone = _grids(url, expired)
        assert gone.status_code == 401 and gone.json()["reason"] == "expired" and "过期" in gone.json()["message"]

        env = dict(os.environ, **settings.to_env())
        done = subprocess.run(
            [sys.executable, "-m", "gridflow", "users", "revoke", "--id", "wgy-xl-0203"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0 and "revoked 2 token(s)" in done.stdout, done.stderr[-1500:]
        revoked_at = time.monotonic()
        services.wait_until(lambda: _grids(url, first).status_code == 401, 10, "revocation seen by the intake")
        assert time.monotonic() - revoked_at < 5
        refused = _grids(url, second)
        assert refused.status_code == 401 and refused.json()["reason"] == "revoked"
        assert _grids(url, other).status_code == 200  # the colleague is untouched
        assert _grids(url, "not-a-token").json()["reason"] == "unknown"
    finally:
        intake.stop()


def test_a_new_token_expires_after_the_configured_days() -> None:
    from schemas.account import Account

    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    account = Account(
        user_id="u", role=Role.ADMIN, token_sha256="0" * 64, created_at=now, expires_at=now + timedelta(days=180)
    )
    assert account.usable(now + timedelta(days=179)) is None
    assert account.usable(now + timedelta(days=180)) == "expired"
    assert account.model_copy(update={"revoked_at": now}).usable(now) == "revoked"
