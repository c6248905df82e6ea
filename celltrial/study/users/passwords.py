"""Password hashing (argon2id) and password rules.

Rules follow NIST SP 800-63B §5.1.1.2 (memorized secrets): a minimum length, no composition
rules, refusal of commonly used passwords and of passwords built from the account's own name.
The lockout threshold bounds online guessing (§5.2.2; 21 CFR 11.300(d)).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from celltrial.errors import InvalidInput

__all__ = [
    "PasswordPolicy",
    "check_rules",
    "dummy_hash",
    "hash_password",
    "needs_rehash",
    "password_matches",
]

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters
_COMMON = frozenset(
    {
        "password", "passw0rd", "123456789012", "1234567890123", "qwertyuiopas", "qwerty123456",
        "letmein12345", "administrator", "welcome12345", "changeme1234", "iloveyou1234",
        "password1234", "password123!", "celltrial123", "trustno11234", "abc123456789",
        "000000000000", "111111111111", "123123123123",
    }
)  # fmt: skip
"""Passwords that appear first in breach corpora (NIST SP 800-63B §5.1.1.2: refuse known-bad values)."""


@dataclass(frozen=True)
class PasswordPolicy:
    """How long a password must be and how many failed logins lock an account."""

    min_length: int = 12
    max_length: int = 128
    max_failed_logins: int = 5

    @classmethod
    def from_environment(cls) -> PasswordPolicy:
        """The policy with ``CELLTRIAL_MIN_PASSWORD_LENGTH`` / ``CELLTRIAL_MAX_FAILED_LOGINS`` applied."""
        values: dict[str, int] = {}
        for field, variable in (
            ("min_length", "CELLTRIAL_MIN_PASSWORD_LENGTH"),
            ("max_failed_logins", "CELLTRIAL_MAX_FAILED_LOGINS"),
        ):
            raw = os.environ.get(variable)
            if raw is None:
                continue
            if not raw.strip().isdigit() or int(raw) < 1:
                raise InvalidInput(f"{variable}={raw!r} must be a whole number of at least 1", field=variable)
            values[field] = int(raw)
        return cls(**values)


def check_rules(password: str, *, username: str, full_name: str, policy: PasswordPolicy) -> None:
    """Refuse a password that breaks the rules, saying which rule (never echoing the password)."""
    if len(password) < policy.min_length:
        raise InvalidInput(f"the password needs at least {policy.min_length} characters", field="password")
    if len(password) > policy.max_length:
        raise InvalidInput(f"the password may have at most {policy.max_length} characters", field="password")
    lowered = password.lower()
    if lowered in _COMMON:
        raise InvalidInput("the password is a commonly used one; choose another", field="password")
    if len(set(password)) < 5:
        raise InvalidInput("the password must use at least 5 different characters", field="password")
    names = [username.lower(), *(part.lower() for part in re.split(r"\W+", full_name) if len(part) >= 3)]
    if any(name and name in lowered for name in names):
        raise InvalidInput("the password must not contain the user's name or username", field="password")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted, in PHC string format)."""
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant work whatever the answer)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters and should be renewed at the next login."""
    return _HASHER.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so the answer takes the same time."""
    return hash_password("celltrial-no-such-user")
