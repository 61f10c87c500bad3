"""New passwords: at least 10 characters of two kinds, refused with a message naming the field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.directory import new_account
from accounts.password_policy import WeakPassword, check_password
from infra.settings import Settings
from schemas.vocabulary import Role

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("password", ["wgy-pass-1", "井盖2026!zhang", "correcthorse battery", "1234567890a", "密码密码密码密码密码1"])
def test_accepted(password: str) -> None:
    check_password(password)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("x", "至少 10"),
        ("Ab1!Ab1!A", "至少 10"),  # 9 characters of every kind
        ("abcdefghijkl", "两类"),  # letters only
        ("井盖井盖井盖井盖井盖", "两类"),  # Chinese letters only
        ("12345678901", "两类"),
        ("!!!!!!!!!!!!", "两类"),
        ("a1" * 101, "最多 200"),
    ],
)
def test_refused_with_the_field_and_the_reason(password: str, why: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_password(password)
    assert why in refused.value.message and refused.value.field == "password"
    assert str(refused.value).startswith("password: ")


def test_new_accounts_with_a_weak_password_are_refused_before_anything_is_hashed() -> None:
    settings = Settings()
    with pytest.raises(WeakPassword):
        new_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="short1")
    with pytest.raises(WeakPassword):
        new_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="")  # empty stdin line
    _token, account = new_account(settings, "cg-zhang", Role.DEPARTMENT_STAFF, department="CG", password="cg-pass-01")
    assert account.password_hash and account.password_hash.startswith("scrypt$131072$8$1$")
    _token, plain = new_account(settings, "wgy-xl-01", Role.GRID_WORKER)
    assert plain.password_hash is None


def test_users_add_refuses_a_weak_password_naming_the_option() -> None:
    # Refused before Kafka is asked anything: no broker is needed (nor listening on this port).
    env = dict(os.environ, KAFKA_BOOTSTRAP="127.0.0.1:1", GRIDFLOW_HOME=str(REPO / ".gridflow" / "unused"))
    done = subprocess.run(
        [sys.executable, "-m", "gridflow", "users", "add", "--role", "admin", "--id", "admin2", "--password-stdin"],
        input="letmein\n", env=env, capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--password-stdin" in done.stderr and "至少 10 个字符" in done.stderr and not done.stdout
