"""Passwords are hashed at OWASP's minimum for scrypt, and older, weaker hashes are upgraded
when their owner signs in."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from grants.services import accounts
from tests.conftest import PASSWORD

# OWASP Password Storage Cheat Sheet, scrypt: N=2^17, r=8, p=1, or one of these equal costs.
OWASP_MINIMUMS = {(2**17, 8, 1), (2**16, 8, 2), (2**15, 8, 3), (2**14, 8, 5), (2**13, 8, 10)}


def _parameters(method: str) -> tuple[int, int, int]:
    name, n, r, p = method.split(":")
    assert name == "scrypt"
    return int(n), int(r), int(p)


def test_the_production_method_is_at_an_owasp_minimum(monkeypatch):
    monkeypatch.undo()  # the tests' cheap method off: the module's own
    n, r, p = _parameters(accounts.PASSWORD_METHOD)
    assert any(n >= min_n and r >= min_r and p >= min_p for min_n, min_r, min_p in OWASP_MINIMUMS)
    stored = accounts.hash_password(PASSWORD)
    assert stored.startswith(f"{accounts.PASSWORD_METHOD}$")
    assert check_password_hash(stored, PASSWORD)


def test_a_weaker_hash_is_upgraded_at_the_next_sign_in(session, make_user):
    user = make_user()
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt:32768:8:1")
    session.commit()
    assert accounts.check_credentials(session, email=user.email, password=PASSWORD) is user
    assert user.password_hash.startswith(f"{accounts.PASSWORD_METHOD}$")
    assert check_password_hash(user.password_hash, PASSWORD)
    upgraded = user.password_hash
    accounts.check_credentials(session, email=user.email, password=PASSWORD)
    assert user.password_hash == upgraded  # once: the next sign-in keeps it
