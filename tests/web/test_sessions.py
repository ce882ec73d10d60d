"""Sessions end on the server: sign-out, lifetime, idle timeout, password change, everywhere."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from grants import clock, create_app
from grants.config import ConfigError, load_settings
from grants.domain.workflow import Role
from grants.models import UserSession
from tests.conftest import NOW, PASSWORD


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app, value: str):
    """A second browser carrying a copy of the cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _fresh_app(app_config, connection):
    """The app as it is after a restart: created anew, same database and secret key."""
    restarted = create_app(app_config)
    restarted.extensions["grants.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    return restarted


def _signed_in(response) -> bool:
    return response.status_code == 200


def test_cookie_copied_before_sign_out_is_anonymous_after_it(app, client, auth, make_user):
    user = make_user(Role.APPLICANT)
    auth.sign_in(user)
    copy = _cookie(client)
    assert _signed_in(_replay(app, copy).get("/account"))
    auth.sign_out()
    replayed = _replay(app, copy).get("/account")
    assert replayed.status_code == 302 and "/sign-in" in replayed.location


def test_lifetime_holds_in_a_freshly_started_app(app_config, connection, app, client, auth,
                                                 make_user, monkeypatch):
    auth.sign_in(make_user(Role.APPLICANT))
    copy = _cookie(client)
    restarted = _fresh_app(app_config, connection)
    assert restarted.permanent_session_lifetime == dt.timedelta(hours=12)
    for hours in range(1, 12):  # active every hour: the idle timeout never runs out...
        monkeypatch.setattr(clock, "now", lambda h=hours: NOW + dt.timedelta(hours=h))
        assert _signed_in(_replay(restarted, copy).get("/account")), hours
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(hours=12))
    assert _replay(restarted, copy).get("/account").status_code == 302  # ...but 12 h is the end


def test_idle_timeout_ends_a_session(app, client, auth, make_user, monkeypatch):
    auth.sign_in(make_user(Role.APPLICANT))
    copy = _cookie(client)
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(minutes=119))
    assert _signed_in(_replay(app, copy).get("/account"))
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(minutes=119 + 121))
    assert _replay(app, copy).get("/account").status_code == 302


def test_session_cookie_is_not_the_user_id(client, auth, make_user, session):
    user = make_user(Role.APPLICANT)
    auth.sign_in(user)
    stored = session.scalar(sa.select(UserSession).filter_by(user_id=user.id))
    assert stored is not None and stored.token_hash != str(user.id)
    with client.session_transaction() as cookie:
        assert cookie["_user_id"] != str(user.id) and len(cookie["_user_id"]) >= 40


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth, make_user):
    user = make_user(Role.APPLICANT)
    other = app.test_client()
    other.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    auth.sign_in(user)
    wrong = client.post("/account/password", data={
        "current_password": "not it at all", "password": "new password 1",
        "password_again": "new password 1"})
    assert wrong.status_code == 422
    changed = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "new password 1",
        "password_again": "new password 1"})
    assert changed.status_code == 303
    assert _signed_in(client.get("/account"))
    assert other.get("/account").status_code == 302
    auth.sign_out()
    assert auth.sign_in(user).status_code == 200  # the old password no longer works
    assert client.post("/sign-in", data={"email": user.email,
                                         "password": "new password 1"}).status_code == 302


def test_sign_out_everywhere_ends_every_session(app, client, auth, make_user):
    user = make_user(Role.OFFICER)
    other = app.test_client()
    other.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    auth.sign_in(user)
    assert client.post("/account/sign-out-everywhere").status_code == 303
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302


def test_removed_member_is_signed_out_at_once(app, client, auth, make_user):
    admin = make_user(Role.APPLICANT, lg_code="011002")
    member = make_user(Role.APPLICANT, lg_code="011002")
    theirs = app.test_client()
    theirs.post("/sign-in", data={"email": member.email, "password": PASSWORD})
    assert theirs.get("/applications").status_code == 200
    auth.sign_in(admin)
    assert client.post(f"/organization/members/{member.id}/remove",
                       data={"reason": "異動"}).status_code == 303
    assert theirs.get("/applications").status_code == 302


@pytest.mark.parametrize("key", ["short", "x" * 31])
def test_production_refuses_a_short_secret_key(key):
    environ = {"GRANTS_ENV": "production", "SECRET_KEY": key,
               "DATABASE_URL": "postgresql+psycopg://db/grants"}
    with pytest.raises(ConfigError, match="32 bytes"):
        load_settings(environ=environ)


def test_production_accepts_a_long_secret_key():
    environ = {"GRANTS_ENV": "production", "SECRET_KEY": "k" * 32,
               "DATABASE_URL": "postgresql+psycopg://db/grants",
               "GRANTS_SITE_URL": "https://grants.example.jp"}
    assert load_settings(environ=environ)["SECRET_KEY"] == "k" * 32
