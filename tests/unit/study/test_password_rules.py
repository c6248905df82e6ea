"""Password rules (NIST SP 800-63B §5.1.1.2) and argon2id hashing."""

from __future__ import annotations

import pytest

from celltrial.errors import InvalidInput
from celltrial.study.users.passwords import PasswordPolicy, check_rules, hash_password, password_matches

POLICY = PasswordPolicy()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        pytest.param("short1!", "at least 12 characters", id="too short"),
        pytest.param("x" * 129 + "yz", "at most 128 characters", id="too long"),
        pytest.param("Password1234", "commonly used", id="common password"),
        pytest.param("abababababab", "5 different characters", id="too few distinct characters"),
        pytest.param("my jsmith passphrase", "name or username", id="contains the username"),
        pytest.param("Jonathan's long secret", "name or username", id="contains a part of the full name"),
    ],
)
def test_a_password_breaking_a_rule_is_refused_naming_the_rule(password: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as refused:
        check_rules(password, username="jsmith", full_name="Jonathan Smith", policy=POLICY)
    assert refused.value.field == "password"
    assert password not in refused.value.message


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Tr0ub4dor&3-xyzzy", "我的密码是很长的秘密短语"]
)
def test_a_long_uncommon_password_is_accepted(password: str) -> None:
    check_rules(password, username="jsmith", full_name="Jonathan Smith", policy=POLICY)


def test_the_minimum_length_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLTRIAL_MIN_PASSWORD_LENGTH", "16")
    monkeypatch.setenv("CELLTRIAL_MAX_FAILED_LOGINS", "3")
    policy = PasswordPolicy.from_environment()
    assert (policy.min_length, policy.max_failed_logins) == (16, 3)
    with pytest.raises(InvalidInput, match="at least 16"):
        check_rules("fifteen chars!!", username="a", full_name="B", policy=policy)


def test_a_malformed_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELLTRIAL_MAX_FAILED_LOGINS", "five")
    with pytest.raises(InvalidInput) as refused:
        PasswordPolicy.from_environment()
    assert refused.value.field == "CELLTRIAL_MAX_FAILED_LOGINS"


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second
    assert password_matches(first, "correct horse battery")
    assert not password_matches(first, "correct horse batterY")
    assert not password_matches("not a hash", "correct horse battery")
