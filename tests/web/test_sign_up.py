"""Sign-up: organizations by a checked identifier, e-mail proof, membership granted not claimed."""

from __future__ import annotations

import re

import sqlalchemy as sa

from grants.domain.identifiers import corporate_number
from grants.domain.workflow import Role
from grants.models import AuditEvent, MembershipState, Organization, User
from tests.web.accounts_helpers import PASSWORD, link_in, mails_to, sign_in, sign_up
from tests.web.reviewflow import submit_application

NPO_NUMBER = corporate_number("999905000123")


def _user(session, email):
    session.expire_all()
    return session.scalar(sa.select(User).filter_by(email=email))


def _tags(session, user):
    return [e.tag for e in session.scalars(
        sa.select(AuditEvent).filter_by(subject_type="user", subject_id=user.id)
        .order_by(AuditEvent.id))]


def test_stranger_with_a_public_code_sees_nothing_of_the_city(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user, lg_code="011002")
    sapporo = session.scalar(sa.select(Organization).filter_by(lg_code="011002"))
    organizations_before = session.scalar(sa.select(sa.func.count()).select_from(Organization))

    page = sign_up(client, email="stranger@example.jp", lg="０１１００２")  # full-width digits
    assert page.status_code == 200 and "stranger@example.jp" in page.text
    stranger = _user(session, "stranger@example.jp")
    assert stranger.organization_id == sapporo.id  # the same 札幌市, not a second one
    assert session.scalar(sa.select(sa.func.count()).select_from(Organization)) \
        == organizations_before
    assert stranger.membership is MembershipState.REQUESTED
    assert stranger.email_verified_at is None

    refused = sign_in(client, "stranger@example.jp")
    assert refused.status_code == 200 and "/verify" in refused.text  # "send again" form
    client.get(link_in(mails_to(session, "stranger@example.jp")[-1], "/verify/"))
    assert sign_in(client, "stranger@example.jp").status_code == 302

    assert client.get("/applications").status_code == 403
    for url in (f"/applications/{application.id}", f"/applications/{application.id}/receipt",
                f"/applications/{application.id}/steps/overview"):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(f"/calls/{application.program_version.program_key}/start").status_code \
        == 403
    account = client.get("/account")
    assert "/applications/" not in account.text
    assert client.get("/organization").status_code == 403


def test_join_request_is_decided_by_the_organization_admin(client, auth, session, make_user):
    admin = make_user(Role.APPLICANT, lg_code="011002")
    sign_up(client, email="colleague@example.jp", lg="011002")
    colleague = _user(session, "colleague@example.jp")
    client.get(link_in(mails_to(session, colleague.email)[-1], "/verify/"))
    assert "/organization" in mails_to(session, admin.email)[-1].body  # the admin is told

    auth.sign_in(admin)
    members_page = client.get("/organization")
    assert "colleague@example.jp" in members_page.text
    assert client.post(f"/organization/requests/{colleague.id}/approve").status_code == 303
    assert _user(session, colleague.email).membership is MembershipState.ACTIVE
    assert "approved" in mails_to(session, colleague.email)[-1].subject.lower() \
        or "承認" in mails_to(session, colleague.email)[-1].subject
    assert "org:membership:approve" in _tags(session, colleague)


def test_first_account_of_a_new_npo_waits_for_the_program_office(client, auth, session,
                                                                  make_user):
    page = sign_up(client, email="npo1@example.jp", kind="npo", number=NPO_NUMBER,
                   name="特定非営利活動法人 テスト")
    assert page.status_code == 200
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in NPO_NUMBER)
    sign_up(client, email="npo2@example.jp", kind="npo", number=f" {full_width} ",
            name="別の名前")
    first, second = _user(session, "npo1@example.jp"), _user(session, "npo2@example.jp")
    assert first.organization_id == second.organization_id  # one organization per 法人番号
    organization = first.organization
    assert organization.corporate_number == NPO_NUMBER and organization.verified_at is None
    for person in (first, second):
        client.get(link_in(mails_to(session, person.email)[-1], "/verify/"))

    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    queue = client.get("/manage/organizations")
    assert NPO_NUMBER in queue.text and "011-211-2111" in queue.text
    assert "npo1@example.jp" in queue.text and "npo2@example.jp" in queue.text
    assert client.post(f"/manage/organizations/requests/{first.id}/approve").status_code == 303
    first = _user(session, first.email)
    assert first.membership is MembershipState.ACTIVE and first.is_org_admin
    assert first.organization.verified_at is not None
    queue = client.get("/manage/organizations")
    assert "npo2@example.jp" not in queue.text  # now the organization's own admins decide
    # The office cannot decide requests of a verified organization any more.
    assert client.post(f"/manage/organizations/requests/{second.id}/approve").status_code == 404
    auth.sign_out()

    sign_in(client, first.email)
    assert "npo2@example.jp" in client.get("/organization").text
    refused = client.post(f"/organization/requests/{second.id}/refuse",
                          data={"reason": "当団体の職員ではありません"})
    assert refused.status_code == 303
    second = _user(session, second.email)
    assert second.membership is MembershipState.REFUSED
    assert "当団体の職員ではありません" in mails_to(session, second.email)[-1].body
    assert "org:membership:refuse" in _tags(session, second)


def test_office_refuses_a_first_account_with_a_reason(client, auth, session, make_user):
    sign_up(client, email="fake@example.jp", kind="third_sector",
            number=corporate_number("999901000777"), name="株式会社 偽")
    fake = _user(session, "fake@example.jp")
    client.get(link_in(mails_to(session, fake.email)[-1], "/verify/"))
    auth.sign_in(make_user(Role.OFFICER))
    no_reason = client.post(f"/manage/organizations/requests/{fake.id}/refuse",
                            data={"reason": ""})
    assert no_reason.status_code == 303
    assert _user(session, fake.email).membership is MembershipState.REQUESTED
    client.post(f"/manage/organizations/requests/{fake.id}/refuse",
                data={"reason": "団体に確認できませんでした"})
    fake = _user(session, fake.email)
    assert fake.membership is MembershipState.REFUSED
    assert fake.organization.verified_at is None  # the real organization may still sign up
    auth.sign_out()
    sign_in(client, fake.email)
    assert "団体に確認できませんでした" in client.get("/account").text


def test_sign_up_with_a_registered_address_answers_the_same_and_tells_the_owner(
        client, session, make_user):
    owner = make_user(Role.APPLICANT, email="owner@example.jp")
    fresh = sign_up(client, email="new-person@example.jp", lg="012335")
    taken = sign_up(client, email="OWNER@example.jp", lg="012335")
    assert taken.status_code == fresh.status_code == 200
    def page(response, email):
        return re.sub(r'name="csrf_token" value="[^"]+"', "", response.text.replace(email, "X"))

    assert page(taken, "OWNER@example.jp") == page(fresh, "new-person@example.jp")
    assert session.scalar(sa.select(sa.func.count()).select_from(User)
                          .filter_by(email="owner@example.jp")) == 1
    told = mails_to(session, owner.email)[-1]
    assert "/password/forgot" in told.body


def test_sign_up_refuses_bad_identifiers_with_answers_kept(client, session):
    wrong = corporate_number("999905000123")
    wrong = str((int(wrong[0]) % 9) + 1) + wrong[1:]
    page = sign_up(client, email="npo@example.jp", kind="npo", number=wrong, name="NPO テスト")
    assert page.status_code == 200 and "法人番号" in page.text
    assert 'value="NPO テスト"' in page.text and 'value="npo@example.jp"' in page.text
    for code in ("011002\n1", "01100²", "011001", "011011"):  # 011011: a ward of 札幌市
        page = sign_up(client, email="lg@example.jp", lg=code)
        assert _user(session, "lg@example.jp") is None, code
    assert _user(session, "npo@example.jp") is None


def test_verification_link_works_once_and_can_be_sent_again(client, session, app):
    sign_up(client, email="again@example.jp", lg="012335")
    first_link = link_in(mails_to(session, "again@example.jp")[-1], "/verify/")
    resent = client.post("/verify", data={"email": "again@example.jp"})
    assert resent.status_code == 200
    second_link = link_in(mails_to(session, "again@example.jp")[-1], "/verify/")
    assert client.get(first_link).status_code == 404  # replaced by the new one
    assert client.get(second_link).status_code == 303
    assert client.get(second_link).status_code == 404  # used
    unknown = client.post("/verify", data={"email": "nobody@example.jp"})
    assert unknown.status_code == 200 and mails_to(session, "nobody@example.jp") == []


def test_password_stays_private_at_sign_up(client, session):
    sign_up(client, email="private@example.jp", lg="012335")
    user = _user(session, "private@example.jp")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert all(PASSWORD not in m.body for m in mails_to(session, user.email))
