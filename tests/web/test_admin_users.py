"""The site administrators' account pages, as an admin (and everyone else) meets them."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import AuditEvent, User
from grants.services import user_admin
from tests.conftest import PASSWORD, csrf_token
from tests.web import accounts_helpers
from tests.web.test_access_matrix import signed_in

ADMIN_EVENTS = ("admin:account:disable", "admin:account:enable", "admin:account:reset_link",
                "admin:account:role_change")


@pytest.fixture
def admin(make_user) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def as_admin(app, admin):
    """The admin's browser, in English (the messages are checked in Japanese below)."""
    browser = signed_in(app, admin)
    browser.post("/language", data={"locale": "en"})
    return browser


def _flash(response) -> str:
    return re.sub(r"\s+", " ", " ".join(re.findall(
        r'<div class="notice notice-success" role="status">(.*?)</div>', response.text, re.S)))


def _events(session, user) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.subject_type == "user", AuditEvent.subject_id == user.id,
        AuditEvent.tag.in_(ADMIN_EVENTS)).order_by(AuditEvent.id)))


def test_admin_lists_searches_and_pages_accounts(app, session, as_admin, make_user,
                                                 monkeypatch):
    officer = make_user(Role.OFFICER, email="yamada@example.jp")
    applicant = make_user(Role.APPLICANT, lg_code="012335")
    signed_in(app, officer)
    listing = as_admin.get("/manage/users")
    assert listing.status_code == 200
    row = re.search(r"yamada@example\.jp</a></td>(.*?)</tr>", listing.text, re.S).group(1)
    assert "Program officer" in row
    assert "2026-11-20 10:00 JST" in row  # the last sign-in, in Japan time
    found = as_admin.get("/manage/users", query_string={"q": "　ＹＡＭＡＤＡ ", "role": "officer"})
    assert "yamada@example.jp" in found.text and applicant.email not in found.text
    by_organization = as_admin.get("/manage/users", query_string={"q": "伊達市"})
    assert applicant.email in by_organization.text and officer.email not in by_organization.text
    none = as_admin.get("/manage/users", query_string={"state": "disabled"})
    assert "yamada@example.jp" not in none.text
    make_user(Role.OFFICER, email="abe@example.jp")
    monkeypatch.setattr(user_admin, "PER_PAGE", 1)
    first = as_admin.get("/manage/users", query_string={"role": "officer"})
    assert "abe@example.jp" in first.text and "yamada@example.jp" not in first.text
    assert 'href="/manage/users?page=2&amp;role=officer" rel="next"' in first.text
    huge = as_admin.get("/manage/users", query_string={"page": "9" * 40, "role": "officer"})
    assert huge.status_code == 200 and 'rel="prev"' in huge.text  # the last page
    assert "yamada@example.jp" in huge.text and "abe@example.jp" not in huge.text


def test_a_bad_search_answers_with_the_form_and_its_errors(as_admin):
    for query in ({"role": "emperor"}, {"state": "gone"}, {"q": "x" * 201}, {"q": "a\x00b"}):
        response = as_admin.get("/manage/users", query_string=query)
        assert response.status_code == 422, query
        assert 'class="error-summary"' in response.text


def test_disable_ends_the_open_session_and_refuses_sign_in(app, session, admin, as_admin,
                                                          make_user):
    officer = make_user(Role.OFFICER)
    victim = signed_in(app, officer)
    assert victim.get("/account").status_code == 200
    response = as_admin.post(f"/manage/users/{officer.id}/disable",
                             data={"reason": "退職のため"}, follow_redirects=True)
    assert response.status_code == 200
    assert _flash(response) == (f"{officer.email} is disabled: it can no longer sign in, and 1 "
                                "open sessions were ended.")
    after = victim.get("/account")
    assert after.status_code == 302 and "/sign-in" in after.location
    again = victim.post("/sign-in", data={"email": officer.email, "password": PASSWORD})
    assert again.status_code == 200 and victim.get("/account").status_code == 302
    [event] = _events(session, officer)
    assert (event.tag, event.actor_id) == ("admin:account:disable", admin.id)
    assert event.data == {"reason": "退職のため", "sessions_ended": 1}
    page = as_admin.get(f"/manage/users/{officer.id}")
    assert "/enable" in page.text and "/disable" not in page.text

    enabled = as_admin.post(f"/manage/users/{officer.id}/enable", data={"reason": "復職"})
    assert enabled.status_code == 303
    assert signed_in(app, officer).get("/account").status_code == 200


def test_reset_link_is_the_forgot_password_email_and_works(app, session, admin, as_admin,
                                                           make_user):
    reviewer = make_user(Role.REVIEWER)
    response = as_admin.post(f"/manage/users/{reviewer.id}/reset-link",
                             data={"reason": "本人から電話"}, follow_redirects=True)
    assert reviewer.email in _flash(response)
    [mail] = accounts_helpers.mails_to(session, reviewer.email)
    link = accounts_helpers.link_in(mail, "/password/reset/")
    assert link not in response.text  # the admin never sees the link
    new = "a fresh password of mine"
    client = app.test_client()
    assert client.post(link, data={"password": new, "password_again": new}).status_code == 303
    assert accounts_helpers.sign_in(client, reviewer.email, new).status_code == 302
    [event] = _events(session, reviewer)
    assert event.actor_id == admin.id
    assert event.data == {"reason": "本人から電話", "link_shown": False}
    token = link.rsplit("/", 1)[1]
    everything = str([(e.tag, e.data) for e in session.scalars(sa.select(AuditEvent))])
    assert token not in everything and PASSWORD not in everything and new not in everything


def test_a_role_change_holds_from_the_next_request(app, session, admin, as_admin, make_user):
    reviewer = make_user(Role.REVIEWER)
    browser = signed_in(app, reviewer)
    assert browser.get("/review/").status_code == 200
    response = as_admin.post(f"/manage/users/{reviewer.id}/role",
                             data={"role": "auditor", "reason": "監査担当へ"})
    assert response.status_code == 303
    assert "/sign-in" in browser.get("/review/").location
    again = signed_in(app, reviewer)
    assert again.get("/review/").status_code == 403
    assert again.get("/audit/").status_code == 200
    [event] = _events(session, reviewer)
    assert event.data == {"reason": "監査担当へ", "from": "reviewer", "to": "auditor",
                          "sessions_ended": 1}


@pytest.mark.parametrize(("action", "data"), [
    ("disable", {}), ("disable", {"reason": " \u3000 "}), ("enable", {"reason": "x" * 501}),
    ("reset-link", {"reason": ""}), ("role", {"role": "officer"}),
    ("role", {"role": "emperor", "reason": "昇格"}), ("role", {"role": "applicant", "reason": "r"}),
])
def test_bad_input_shows_the_page_again_with_an_error_summary(session, as_admin, make_user,
                                                              action, data):
    officer = make_user(Role.OFFICER)
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = as_admin.post(f"/manage/users/{officer.id}/{action}", data=data)
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    if data.get("reason"):
        assert data["reason"].strip() in response.text  # what was typed is kept
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
    assert session.get(User, officer.id).active and officer.role is Role.OFFICER


@pytest.mark.parametrize(("action", "data", "message"), [
    ("disable", {"reason": "テスト"}, "your own account"),
    ("role", {"role": "officer", "reason": "テスト"}, "your own administrator role"),
])
def test_an_admin_cannot_lock_themself_out(as_admin, admin, action, data, message):
    response = as_admin.post(f"/manage/users/{admin.id}/{action}", data=data)
    assert response.status_code == 422 and message in response.text
    assert "テスト" in response.text
    assert as_admin.get("/manage/users").status_code == 200


def test_refusals_are_explained(as_admin, make_user):
    applicant, officer = make_user(Role.APPLICANT), make_user(Role.OFFICER)
    role = as_admin.post(f"/manage/users/{applicant.id}/role",
                         data={"role": "officer", "reason": "r"})
    assert role.status_code == 422 and "Applicant accounts belong" in role.text
    enable = as_admin.post(f"/manage/users/{officer.id}/enable", data={"reason": "r"})
    assert enable.status_code == 422 and "Nothing to change" in enable.text
    as_admin.post(f"/manage/users/{officer.id}/disable", data={"reason": "r"})
    reset = as_admin.post(f"/manage/users/{officer.id}/reset-link", data={"reason": "r"})
    assert reset.status_code == 422 and "enable it first" in reset.text


def test_every_other_visitor_is_refused(app, client, session, make_user):
    target = make_user(Role.OFFICER)
    urls = [("GET", "/manage/users"), ("GET", f"/manage/users/{target.id}")] + [
        ("POST", f"/manage/users/{target.id}/{action}")
        for action in ("disable", "enable", "reset-link", "role")]
    data = {"reason": "乗っ取り", "role": "admin"}
    for role in (Role.APPLICANT, Role.REVIEWER, Role.OFFICER, Role.AUDITOR):
        visitor = signed_in(app, make_user(role))
        assert visitor.get("/account").status_code == 200
        assert "/manage/users" not in visitor.get("/account").text  # no menu link
        for method, url in urls:
            assert visitor.open(url, method=method, data=data).status_code == 403, (role, url)
    for method, url in urls:
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302 and "/sign-in" in response.location
    session.expire_all()
    assert session.get(User, target.id).active and target.role is Role.OFFICER
    assert _events(session, target) == []


def test_unknown_account_is_404(as_admin):
    assert as_admin.get("/manage/users/987654").status_code == 404
    assert as_admin.post("/manage/users/987654/disable", data={"reason": "r"}).status_code == 404


def test_the_forms_carry_csrf_and_a_post_without_it_is_refused(app, as_admin, make_user):
    officer = make_user(Role.OFFICER)
    app.config["WTF_CSRF_ENABLED"] = True
    page = as_admin.get(f"/manage/users/{officer.id}")
    assert page.text.count('name="csrf_token"') >= 4  # sign-out, language, and each action
    refused = as_admin.post(f"/manage/users/{officer.id}/disable", data={"reason": "r"})
    assert refused.status_code == 400
    done = as_admin.post(f"/manage/users/{officer.id}/disable",
                         data={"reason": "r", "csrf_token": csrf_token(page.text)})
    assert done.status_code == 303


def test_the_pages_are_in_japanese(as_admin, admin, make_user):
    officer = make_user(Role.OFFICER)
    as_admin.post("/language", data={"locale": "ja"})
    listing = as_admin.get("/manage/users").text
    assert "アカウント" in listing and "事務局担当者" in listing and "Accounts" not in listing
    page = as_admin.get(f"/manage/users/{officer.id}").text
    assert "アカウントを無効にする" in page and "理由" in page
    refused = as_admin.post(f"/manage/users/{admin.id}/disable", data={"reason": "r"}).text
    assert "ご自身のアカウント" in refused
    done = as_admin.post(f"/manage/users/{officer.id}/disable", data={"reason": "r"},
                         follow_redirects=True)
    assert "無効にしました" in _flash(done)


def test_menu_link_for_admins(as_admin):
    assert 'href="/manage/users"' in as_admin.get("/account").text
