"""Single-use links: password reset, invitations of colleagues and reviewers; admin hand-over."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from grants import clock
from grants.domain.workflow import Role
from grants.models import AccountToken, AuditEvent, MembershipState, User
from tests.conftest import NOW, PASSWORD
from tests.web.accounts_helpers import link_in, mails_to, sign_in
from tests.web.reviewflow import KEY

NEW = "a brand new password"


def _reset(client, path):
    return client.post(path, data={"password": NEW, "password_again": NEW})


def test_reset_link_works_once_and_ends_every_session(app, client, session, make_user):
    user = make_user(Role.APPLICANT)
    browser = app.test_client()
    browser.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    asked = client.post("/password/forgot", data={"email": user.email.upper()})
    assert asked.status_code == 200
    path = link_in(mails_to(session, user.email)[-1], "/password/reset/")
    assert client.get(path).status_code == 200
    assert _reset(client, path).status_code == 303
    assert browser.get("/account").status_code == 302  # signed out everywhere
    assert _reset(client, path).status_code == 404  # single use
    assert sign_in(client, user.email, NEW).status_code == 302
    stored = session.scalars(sa.select(AccountToken).filter_by(user_id=user.id)).all()
    assert all(path.rsplit("/", 1)[1] not in t.token_hash for t in stored)  # only hashes


def test_reset_link_expires_after_an_hour(client, session, make_user, monkeypatch):
    user = make_user(Role.REVIEWER)
    client.post("/password/forgot", data={"email": user.email})
    path = link_in(mails_to(session, user.email)[-1], "/password/reset/")
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(minutes=61))
    assert client.get(path).status_code == 404
    assert _reset(client, path).status_code == 404


def test_reset_answers_the_same_for_unknown_addresses_and_is_rate_limited(client, session,
                                                                          make_user):
    user = make_user(Role.APPLICANT)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.jp"})
    known = client.post("/password/forgot", data={"email": user.email})
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.count("nobody@example.jp") == known.text.count(user.email)
    assert mails_to(session, "nobody@example.jp") == []
    for _ in range(5):
        client.post("/password/forgot", data={"email": user.email})
    assert len(mails_to(session, user.email)) == 3  # at most three an hour


def test_colleague_invitation_sets_their_own_password(app, client, auth, session, make_user):
    admin = make_user(Role.APPLICANT, lg_code="011002")
    auth.sign_in(admin)
    sent = client.post("/organization/invitations",
                       data={"name": "鈴木 一郎", "email": "suzuki@example.jp"})
    assert sent.status_code == 303
    flashed = client.get("/organization").text
    invited = session.scalar(sa.select(User).filter_by(email="suzuki@example.jp"))
    assert invited.password_hash is None and invited.membership is MembershipState.ACTIVE
    path = link_in(mails_to(session, "suzuki@example.jp")[-1], "/invitation/")
    assert path.rsplit("/", 1)[1] not in flashed  # the link goes to the person only
    auth.sign_out()
    assert sign_in(client, "suzuki@example.jp", "anything at all").status_code == 200  # refused

    page = client.get(path)
    assert page.status_code == 200 and "鈴木 一郎" in page.text
    accepted = client.post(path, data={"display_name": "鈴木 一郎", "password": NEW,
                                       "password_again": NEW})
    assert accepted.status_code == 303
    assert client.get("/applications").status_code == 200  # signed in, acting for 札幌市
    assert client.get(path).status_code == 404  # used


def test_invitation_expires_after_72_hours(client, auth, session, make_user, monkeypatch):
    auth.sign_in(make_user(Role.APPLICANT))
    client.post("/organization/invitations", data={"name": "遅い", "email": "late@example.jp"})
    path = link_in(mails_to(session, "late@example.jp")[-1], "/invitation/")
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(hours=72))
    assert client.get(path).status_code == 404


def test_new_reviewer_is_invited_and_never_shown_a_password(client, auth, session, make_user):
    auth.sign_in(make_user(Role.OFFICER))
    added = client.post(f"/manage/calls/{KEY}/reviewers",
                        data={"name": "審査 太郎", "email": "expert@example.jp"},
                        follow_redirects=True)
    assert added.status_code == 200 and "expert@example.jp" in added.text
    with client.session_transaction() as cookie:
        assert "_flashes" not in cookie or all("password" not in m for _c, m in cookie["_flashes"])
    first = link_in(mails_to(session, "expert@example.jp")[-1], "/invitation/")
    client.post(f"/manage/calls/{KEY}/reviewers",
                data={"name": "審査 太郎", "email": "expert@example.jp"})  # again, not accepted
    second = link_in(mails_to(session, "expert@example.jp")[-1], "/invitation/")
    auth.sign_out()
    assert client.get(first).status_code == 404  # replaced
    assert client.post(second, data={"display_name": "審査 太郎", "password": NEW,
                                     "password_again": NEW}).status_code == 303
    assert client.get("/review/").status_code == 200


def test_admin_role_is_handed_over_and_never_zero(client, auth, session, make_user):
    first = make_user(Role.APPLICANT, lg_code="011002")
    second = make_user(Role.APPLICANT, lg_code="011002")
    assert first.is_org_admin and not second.is_org_admin
    auth.sign_in(first)
    alone = client.post(f"/organization/members/{first.id}/not-admin", follow_redirects=True)
    assert "administrator" in alone.text or "管理者" in alone.text
    assert client.post(f"/organization/members/{first.id}/remove").status_code == 303
    session.expire_all()
    assert first.is_org_admin and first.membership is MembershipState.ACTIVE  # refused: last one
    client.post(f"/organization/members/{second.id}/admin")
    client.post(f"/organization/members/{first.id}/not-admin")
    session.expire_all()
    assert second.is_org_admin and not first.is_org_admin
    assert client.get("/organization").status_code == 403  # first is a plain member now
    tags = set(session.scalars(sa.select(AuditEvent.tag).where(
        AuditEvent.subject_type == "user", AuditEvent.subject_id.in_([first.id, second.id]))))
    assert {"org:admin:grant", "org:admin:revoke"} <= tags


def test_admin_cannot_act_on_another_organizations_people(client, auth, session, make_user):
    admin = make_user(Role.APPLICANT, lg_code="011002")
    other = make_user(Role.APPLICANT, lg_code="012335")
    auth.sign_in(admin)
    for action in ("remove", "admin", "not-admin"):
        assert client.post(f"/organization/members/{other.id}/{action}").status_code == 404
    for action in ("approve", "refuse"):
        assert client.post(f"/organization/requests/{other.id}/{action}",
                           data={"reason": "x"}).status_code == 404
    session.expire_all()
    assert other.membership is MembershipState.ACTIVE and other.is_org_admin
