"""What a new sign-in password must be (密码规则), checked wherever a password is set.

At least 10 characters of at least two kinds (letters — Chinese ones too —,
digits, everything else). Only new passwords are checked: an account made
under the old rule still signs in.
"""

from __future__ import annotations

MIN_LENGTH = 10
#: the longest password the sign-in endpoint takes; a longer one could be set but never used
MAX_LENGTH = 200


class WeakPassword(ValueError):
    """A password the policy refuses; ``field`` names where it came from, ``message`` says why (中文 / English)."""

    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _kinds(password: str) -> int:
    letters = any(c.isalpha() for c in password)
    digits = any(c.isdecimal() for c in password)
    others = any(not (c.isalpha() or c.isdecimal()) for c in password)
    return letters + digits + others


def check_password(password: str, field: str = "password") -> None:
    """Raise :class:`WeakPassword` unless ``password`` may be set."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"密码至少 {MIN_LENGTH} 个字符，现在 {len(password)} 个 (at least {MIN_LENGTH} characters, got {len(password)})",
            field,
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"密码最多 {MAX_LENGTH} 个字符 (at most {MAX_LENGTH} characters)", field)
    if _kinds(password) < 2:
        raise WeakPassword(
            "密码须包含字母、数字、符号中的至少两类 (use at least two of: letters, digits, symbols)", field
        )
