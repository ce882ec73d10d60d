"""The site administrators' account tools on the database: guards, sessions and links ended,
audit events, and the account search."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from grants.domain.account_admin import AccountChangeRefused
from grants.domain.workflow import Role
from grants.models import AuditEvent, Program, TokenPurpose, User, UserSession
from grants.services import accounts, assign, sessions, tokens, user_admin
from grants.services.audit import verify
from grants.services.user_admin import AccountFilter
from tests.conftest import NOW, PASSWORD

LATER = NOW + dt.timedelta(minutes=5)


def _refused(call, *args, **kwargs) -> str:
    with pytest.raises(AccountChangeRefused) as refused:
        call(*args, **kwargs)
    return refused.value.code


def _events(session, user, tag: str) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).filter_by(
        tag=tag, subject_type="user", subject_id=user.id).order_by(AuditEvent.id)))


def _open_sessions(session, user) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)))


def test_disable_ends_every_session_and_link_and_enable_brings_sign_in_back(session, make_user):
    admin, officer = make_user(Role.ADMIN), make_user(Role.OFFICER)
    cookies = [sessions.start(session, officer, now=NOW) for _ in range(3)]
    reset = tokens.issue(session, officer, TokenPurpose.PASSWORD_RESET, now=NOW)
    assert user_admin.disable(session, officer, actor=admin, reason=" 退職 ", now=LATER) == 3
    assert officer.active is False and _open_sessions(session, officer) == 0
    assert tokens.find(session, reset, TokenPurpose.PASSWORD_RESET, now=LATER) is None
    assert all(sessions.resume(session, c, now=LATER, lifetimes=sessions.Lifetimes(
        dt.timedelta(hours=12), dt.timedelta(hours=2)))[0] is None for c in cookies)
    with pytest.raises(accounts.AccountError):
        accounts.check_credentials(session, email=officer.email, password=PASSWORD)
    [event] = _events(session, officer, "admin:account:disable")
    assert (event.actor_id, event.data) == (admin.id, {"reason": "退職", "sessions_ended": 3})

    user_admin.enable(session, officer, actor=admin, reason="復職", now=LATER)
    assert accounts.check_credentials(session, email=officer.email, password=PASSWORD) is officer
    [event] = _events(session, officer, "admin:account:enable")
    assert (event.actor_id, event.data) == (admin.id, {"reason": "復職"})
    assert verify(session).broken is None


def test_a_role_change_ends_sessions_and_records_both_roles(session, make_user):
    admin, reviewer = make_user(Role.ADMIN), make_user(Role.REVIEWER)
    sessions.start(session, reviewer, now=NOW)
    assert user_admin.set_role(session, reviewer, Role.OFFICER, actor=None,
                               reason="事務局へ異動", now=LATER) == 1
    assert reviewer.role is Role.OFFICER and _open_sessions(session, reviewer) == 0
    [event] = _events(session, reviewer, "admin:account:role_change")
    assert event.actor_id is None
    assert event.data == {"reason": "事務局へ異動", "from": "reviewer", "to": "officer",
                          "sessions_ended": 1}
    assert admin.role is Role.ADMIN


def test_the_last_admin_stays_whoever_asks(session, make_user):
    admin = make_user(Role.ADMIN)
    assert session.scalars(sa.select(User.id).filter_by(role=Role.ADMIN)).all() == [admin.id]
    assert _refused(user_admin.disable, session, admin, actor=None, reason="r", now=NOW) \
        == "last_admin"
    assert _refused(user_admin.set_role, session, admin, Role.AUDITOR, actor=None, reason="r",
                    now=NOW) == "last_admin"
    second = make_user(Role.ADMIN)
    assert _refused(user_admin.disable, session, second, actor=second, reason="r", now=NOW) \
        == "self"
    user_admin.set_role(session, admin, Role.AUDITOR, actor=second, reason="交代", now=NOW)
    assert _refused(user_admin.disable, session, second, actor=None, reason="r", now=NOW) \
        == "last_admin"
    assert admin.role is Role.AUDITOR and second.active


def test_refusals_change_nothing_and_record_nothing(session, make_user):
    admin, applicant = make_user(Role.ADMIN), make_user(Role.APPLICANT)
    sessions.start(session, applicant, now=NOW)
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert _refused(user_admin.set_role, session, applicant, Role.OFFICER, actor=admin,
                    reason="r", now=NOW) == "applicant_role"
    assert _refused(user_admin.disable, session, applicant, actor=admin, reason=" \u3000",
                    now=NOW) == "reason_required"
    assert _refused(user_admin.enable, session, applicant, actor=admin, reason="r",
                    now=NOW) == "no_change"
    user_admin.disable(session, applicant, actor=admin, reason="不正利用の疑い", now=NOW)
    assert _refused(user_admin.issue_reset_link, session, applicant, actor=admin, reason="r",
                    now=NOW) == "disabled"
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before + 1
    assert applicant.role is Role.APPLICANT


def test_a_reset_link_works_and_its_event_holds_no_secret(session, make_user):
    admin, reviewer = make_user(Role.ADMIN), make_user(Role.REVIEWER)
    token = user_admin.issue_reset_link(session, reviewer, actor=admin, reason="電話で依頼",
                                        now=NOW, shown=True)
    [event] = _events(session, reviewer, "admin:account:reset_link")
    assert event.data == {"reason": "電話で依頼", "link_shown": True}
    assert token not in str(event.data) and tokens.digest(token) not in str(event.data)
    accounts.reset_password(session, token, "a brand new password", now=LATER)
    assert accounts.check_credentials(session, email=reviewer.email,
                                      password="a brand new password") is reviewer


def test_a_disabled_reviewer_leaves_the_calls_reviewer_list(session, make_user):
    admin, officer = make_user(Role.ADMIN), make_user(Role.OFFICER)
    program = session.get(Program, "ict-kizuna-2010")
    reviewer, _token = assign.add_reviewer(session, program, email="expert@example.jp",
                                           name="外部 専門家", actor=officer, now=NOW)
    assert reviewer in assign.call_reviewers(session, program)
    user_admin.disable(session, reviewer, actor=admin, reason="任期満了", now=NOW)
    assert reviewer not in assign.call_reviewers(session, program)


def test_find_takes_the_address_as_typed_on_the_sign_in_form(session, make_user):
    officer = make_user(Role.OFFICER, email="tanaka@example.jp")
    for typed in ("tanaka@example.jp", "  TANAKA@Example.JP\t",
                  "ｔａｎａｋａ＠ｅｘａｍｐｌｅ．ｊｐ", "\u3000tanaka＠example.jp\u3000"):
        assert user_admin.find(session, typed) is officer, typed
    assert user_admin.find(session, "tanaka@example.com") is None


def test_search_by_text_role_and_state_with_last_sign_in(session, make_user):
    officer = make_user(Role.OFFICER, email="search-officer@example.jp")
    applicant = make_user(Role.APPLICANT, lg_code="012335")  # 伊達市
    sessions.start(session, officer, now=NOW)
    sessions.start(session, officer, now=LATER)

    def emails(**wanted) -> list[str]:
        return [row.user.email for row in
                user_admin.search(session, AccountFilter(**wanted), per_page=1000).rows]

    assert emails(text="SEARCH-OFFICER") == [officer.email]
    assert emails(text="ｓｅａｒｃｈ－ｏｆｆｉｃｅｒ") == [officer.email]
    assert emails(text="伊達市") == [applicant.email]
    assert emails(text=applicant.display_name) == [applicant.email]
    assert emails(text="%") == [] and emails(text="_") == []  # no wildcards
    assert officer.email in emails(role=Role.OFFICER)
    assert applicant.email not in emails(role=Role.OFFICER)
    user_admin.disable(session, officer, actor=None, reason="r", now=LATER)
    assert officer.email in emails(disabled=True)
    assert officer.email not in emails(disabled=False)
    [row] = user_admin.search(session, AccountFilter(text="search-officer")).rows
    assert row.last_sign_in == LATER
    [row] = user_admin.search(session, AccountFilter(text=applicant.email)).rows
    assert row.last_sign_in is None


def test_search_pages_and_clamps_past_the_end(session, make_user):
    made = sorted(make_user(Role.AUDITOR, email=f"page{n}@paged.example.jp").email
                  for n in range(5))
    wanted = AccountFilter(text="@paged.example.jp")
    first = user_admin.search(session, wanted, per_page=2)
    assert (first.total, first.pages, [r.user.email for r in first.rows]) == (5, 3, made[:2])
    last = user_admin.search(session, wanted, page=99, per_page=2)
    assert (last.page, [r.user.email for r in last.rows]) == (3, made[4:])
