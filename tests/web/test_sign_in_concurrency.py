"""Eight concurrent wrong passwords check at most the limit (issue 7).

Each try is counted in the database before its password is checked, under the write lock, so
guesses sent together cannot all see "four so far" and all go ahead. The app here runs on a
SQLite file of its own with a connection per request, as in production: the shared,
rolled-back test connection would serialize the requests and prove nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from grants import clock, create_app
from grants.config import PACKAGE_ROOT
from grants.db import create_engine
from grants.domain.workflow import Role
from grants.services import accounts
from grants.web.auth import error_message
from tests.conftest import BACKENDS, NOW, PASSWORD, database_url, upgrade
from tests.web.accounts_helpers import link_in, mails_to

LIMIT = 5
GUESSES = 8
EMAIL = "guessed@example.jp"
ADDRESS, OTHER_ADDRESS = "203.0.113.7", "198.51.100.20"
CHECK_SECONDS = 0.05  # long enough for the eight tries to overlap


@pytest.fixture(params=BACKENDS)
def app_on_file(request, tmp_path) -> Iterator[tuple[Flask, Session]]:
    """The app on a migrated database of its own, with one account; and a session on it."""
    if request.param == "postgresql":
        pytest.skip("the PostgreSQL database named by TEST_DATABASE_URL is one shared schema, "
                    "dropped and rebuilt by the rest of the suite; this test needs its own")
    url = database_url("sqlite", tmp_path)
    engine = create_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        accounts.create_user(session, email=EMAIL, password=PASSWORD, display_name="鈴木 一郎",
                             role=Role.OFFICER, organization=None, now=NOW)
        session.commit()
    app = create_app({
        "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "concurrency-test",
        "DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path / "instance"),
        "STORAGE_DIR": str(tmp_path / "files"), "PROGRAMS_DIR": str(PACKAGE_ROOT / "programs"),
        "SIGNIN_MAX_FAILURES": LIMIT,
    })
    with Session(engine) as session:
        yield app, session
    app.extensions["grants.engine"].dispose()
    engine.dispose()


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """Count every password check (from any thread), each slowed down so that they overlap."""
    checks: list[str] = []
    lock = threading.Lock()
    real = accounts.password_matches

    def counted(user: Any, password: str) -> bool:
        with lock:
            checks.append(password)
        time.sleep(CHECK_SECONDS)
        return real(user, password)

    monkeypatch.setattr(accounts, "password_matches", counted)
    return checks


def sign_in(app: Flask, password: str, address: str = ADDRESS) -> Any:
    return app.test_client().post("/sign-in", data={"email": EMAIL, "password": password},
                                  environ_base={"REMOTE_ADDR": address})


def guess_together(app: Flask) -> list[Any]:
    """Send the wrong password from the same address, eight at once."""
    start = threading.Barrier(GUESSES)

    def guess(n: int) -> Any:
        start.wait()
        return sign_in(app, f"wrong guess {n}")

    with ThreadPoolExecutor(GUESSES) as pool:
        return list(pool.map(guess, range(GUESSES)))


def messages(app: Flask) -> tuple[str, str]:
    with app.test_request_context():
        return error_message("bad_credentials"), error_message("too_many_attempts")


def test_concurrent_wrong_passwords_check_at_most_the_limit(
        app_on_file, password_checks, monkeypatch):
    app, _session = app_on_file
    wrong, too_many = messages(app)
    answers = guess_together(app)
    assert [a.status_code for a in answers] == [200] * GUESSES
    assert len(password_checks) <= LIMIT
    assert sorted(too_many in a.text for a in answers) == [False] * LIMIT + [True] * 3
    assert sum(wrong in a.text for a in answers) == len(password_checks) == LIMIT

    # Locked out here: even the right password is not checked.
    locked = sign_in(app, PASSWORD)
    assert locked.status_code == 200 and too_many in locked.text
    assert len(password_checks) == LIMIT

    # After the window the right password works.
    window = dt.timedelta(minutes=app.config["SIGNIN_WINDOW_MINUTES"])
    monkeypatch.setattr(clock, "now", lambda: NOW + window + dt.timedelta(seconds=1))
    assert sign_in(app, PASSWORD).status_code == 302


def test_guesses_from_one_address_do_not_lock_the_owner_out_elsewhere(
        app_on_file, password_checks):
    app, session = app_on_file
    _wrong, too_many = messages(app)
    guess_together(app)
    assert too_many in sign_in(app, PASSWORD).text
    assert sign_in(app, PASSWORD, OTHER_ADDRESS).status_code == 302  # limit: account + address

    # The owner, locked out at the first address, can still get a new password by e-mail.
    client = app.test_client()
    page = client.post("/password/forgot", data={"email": EMAIL},
                       environ_base={"REMOTE_ADDR": ADDRESS})
    assert page.status_code == 200 and EMAIL in page.text
    link = link_in(mails_to(session, EMAIL)[-1], "/password/reset/")
    session.rollback()  # end the read: the app's requests write
    assert client.get(link).status_code == 200
