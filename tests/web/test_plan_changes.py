"""Plan changes (計画変更) through the pages: the grantee asks (a move of exactly 1/5 of a
category refused as needing no approval, ¥1 more accepted), one pending at a time, withdrawn;
the officer approves (the next plan version, the plan in force) or refuses with a reason; the
plan history with who approved, for the grantee, the officer and the auditor; who may do what."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from grants import clock
from grants.domain.workflow import Role, State
from grants.models import AuditEvent, ChangeRequest, ChangeState, OutboxMessage
from grants.services.plans import plan_in_force
from tests.post_award_helpers import PROJECT_END, awarded, granted
from tests.web.consensus_helpers import tags

REASON = "研修会場の確保に伴い機器整備費を増やす必要が生じた。"


def _plan(application, tail: str = "") -> str:
    return f"/applications/{application.id}/plan{tail}"


def _decide(application, number: int) -> str:
    return f"/manage/applications/{application.id}/plan/changes/{number}/decide"


def _form(human_resources: int = 3_000_000, equipment: int = 1_000_000, *,
          end: str = PROJECT_END.isoformat(), scope: str = "", reason: str = REASON,
          plan_version: int = 1) -> dict[str, str]:
    return {"plan_version": str(plan_version),
            "amount_human_resources": f"{human_resources:,}", "amount_system": "0",
            "amount_equipment": f"{equipment:,}", "project_end": end, "scope": scope,
            "reason": reason}


def _requests(session, application) -> list[ChangeRequest]:
    session.expire_all()
    return list(session.scalars(sa.select(ChangeRequest).filter_by(
        application_id=application.id).order_by(ChangeRequest.number)))


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.text)


def test_a_move_of_exactly_a_fifth_needs_no_request_and_one_yen_more_does(
        client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    application = funded.application
    auth.sign_in(funded.applicant)
    form = client.get(_plan(application, "/change"))
    assert form.status_code == 200 and 'value="3,000,000"' in form.text
    assert "5分の1" in form.text
    # ¥200,000 from human resources (1/15 of it) into equipment (exactly 1/5 of it).
    within = client.post(_plan(application, "/change"), data=_form(2_800_000, 1_200_000))
    assert within.status_code == 422
    assert "承認は不要です（流用）" in within.text and REASON in within.text
    assert _requests(session, application) == []
    same = client.post(_plan(application, "/change"), data=_form(scope="  "))
    assert same.status_code == 422 and "何も変更していません" in same.text
    over = client.post(_plan(application, "/change"), data=_form(3_000_001, 1_000_000))
    assert over.status_code == 422 and "交付決定額 ¥4,000,000 を超えています" in over.text
    past = client.post(_plan(application, "/change"), data=_form(end="2026-11-19"))
    assert past.status_code == 422 and "本日（2026-11-20）より前にできません" in _text(past)

    assert client.post(_plan(application, "/change"),
                       data=_form(2_799_999, 1_200_001)).status_code == 303
    [request] = _requests(session, application)
    assert (request.number, request.state, request.project_end, request.scope) == (
        1, ChangeState.PENDING, None, None)
    assert request.category_amounts == {"human_resources": 2_799_999, "system": 0,
                                        "equipment": 1_200_001}
    assert tags(session, application)[-1] == "apply:change:request"
    told = session.scalars(sa.select(OutboxMessage).filter_by(
        to_address=funded.officer.email, application_id=application.id)
        .order_by(OutboxMessage.id)).all()[-1]
    assert "計画変更申請" in told.subject and REASON in told.body

    page = _text(client.get(_plan(application)))
    assert "計画変更申請 第1号は事務局の審査待ちです" in page
    assert "流用の範囲を超える：承認が必要" in page  # equipment +20 % + ¥1
    assert "流用の範囲内" in page  # human resources −¥200,001
    again = client.get(_plan(application, "/change"))
    assert again.status_code == 303  # one at a time: back to the plan, saying why
    assert client.post(_plan(application, "/change"), data=_form(end="2027-06-30")
                       ).status_code == 409
    assert len(_requests(session, application)) == 1

    assert client.post(_plan(application, "/changes/1/withdraw")).status_code == 303
    assert _requests(session, application)[0].state is ChangeState.WITHDRAWN
    assert tags(session, application)[-1] == "apply:change:withdraw"
    assert client.post(_plan(application, "/changes/1/withdraw")).status_code == 409
    assert "取下げ" in client.get(_plan(application)).text


def test_the_officer_approves_a_later_end_and_the_plan_in_force_follows(
        client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    application, officer = funded.application, funded.officer
    auth.sign_in(funded.applicant)
    assert client.post(_plan(application, "/change"), data=_form(
        end="2027-06-30", scope="見守りと買い物支援の仕組みを作る。")).status_code == 303
    auth.sign_out()

    auth.sign_in(officer)
    flagged = client.get(f"/manage/applications/{application.id}")
    assert 'id="pending-change"' in flagged.text and "計画変更申請がありました" in flagged.text
    page = _text(client.get(_plan(application)))
    assert "2027-03-31 → 2027-06-30" in page and 'name="outcome"' in page
    assert client.post(_decide(application, 1), data={}).status_code == 422
    assert client.post(_decide(application, 1), data={"outcome": "approve"}).status_code == 303
    session.expire_all()
    plan = plan_in_force(session, application)
    request = _requests(session, application)[0]
    assert (plan.number, plan.project_end, plan.scope, plan.change_request_id) == (
        2, request.project_end, "見守りと買い物支援の仕組みを作る。", request.id)
    assert request.state is ChangeState.APPROVED and request.decided_by_id == officer.id
    assert tags(session, application)[-1] == "manage:change:approve"
    assert application.state is State.GRANTED
    assert client.post(_decide(application, 1), data={"outcome": "refuse", "reason": "x"}
                       ).status_code == 409
    auth.sign_out()

    mail = session.scalars(sa.select(OutboxMessage).filter_by(
        to_address=funded.applicant.email, application_id=application.id)
        .order_by(OutboxMessage.id)).all()[-1]
    assert "計画変更申請 第1号の審査結果" in mail.subject and "承認されました" in mail.body
    auditor = make_user(Role.AUDITOR)
    for reader in (funded.applicant, officer, auditor):
        auth.sign_in(reader)
        history = _text(client.get(_plan(application)))
        assert "第2版" in history and "第1版" in history
        assert f"{officer.display_name} が承認" in history, reader.role
        assert "2027-03-31 → 2027-06-30" in history
        auth.sign_out()


def test_the_officer_refuses_with_a_reason_and_the_plan_stays(client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    application = funded.application
    auth.sign_in(funded.applicant)
    assert client.post(_plan(application, "/change"),
                       data=_form(2_000_000, 2_000_000)).status_code == 303
    auth.sign_out()
    auth.sign_in(funded.officer)
    blank = client.post(_decide(application, 1), data={"outcome": "refuse", "reason": " "})
    assert blank.status_code == 422 and "不承認の理由を記入してください" in blank.text
    assert _requests(session, application)[0].state is ChangeState.PENDING
    assert client.post(_decide(application, 1), data={
        "outcome": "refuse", "reason": "機器の増額は事業目的に照らして必要性が乏しい。"}
                       ).status_code == 303
    request = _requests(session, application)[0]
    assert request.state is ChangeState.REFUSED
    assert request.decision_reason == "機器の増額は事業目的に照らして必要性が乏しい。"
    assert plan_in_force(session, application).number == 1
    event = session.scalars(sa.select(AuditEvent).filter_by(
        subject_id=application.id, tag="manage:change:refuse")).one()
    assert event.data["reason"] == request.decision_reason
    auth.sign_out()
    auth.sign_in(funded.applicant)
    page = client.get(_plan(application)).text
    assert "機器の増額は事業目的に照らして必要性が乏しい。" in page and "不承認" in page
    assert client.get(_plan(application, "/change")).status_code == 200  # may ask again


def test_only_the_grantee_asks_only_officers_decide_and_others_see_nothing(
        client, auth, session, make_user):
    funded = granted(client, auth, session, make_user)
    application = funded.application
    auth.sign_in(funded.applicant)
    assert client.post(_plan(application, "/change"),
                       data=_form(2_000_000, 2_000_000)).status_code == 303
    assert client.post(_decide(application, 1), data={"outcome": "approve"}).status_code == 403
    auth.sign_out()
    other = make_user(Role.APPLICANT, lg_code="131016")
    auth.sign_in(other)
    assert client.get(_plan(application)).status_code == 404
    assert client.get(_plan(application, "/change")).status_code == 404
    assert client.post(_plan(application, "/change"), data=_form(end="2027-06-30")
                       ).status_code == 404
    assert client.post(_plan(application, "/changes/1/withdraw")).status_code == 404
    auth.sign_out()
    for role, read in ((Role.REVIEWER, 403), (Role.AUDITOR, 200), (Role.ADMIN, 200),
                       (Role.OFFICER, 200)):
        auth.sign_in(make_user(role))
        assert client.get(_plan(application)).status_code == read, role
        assert client.post(_plan(application, "/changes/1/withdraw")).status_code == 403, role
        assert client.get(_plan(application, "/change")).status_code == 403, role
        if role is not Role.OFFICER:
            assert client.post(_decide(application, 1), data={
                "outcome": "approve"}).status_code == 403, role
        auth.sign_out()
    auth.sign_in(funded.officer)
    assert client.post(_decide(application, 2), data={"outcome": "approve"}).status_code == 404
    auth.sign_out()
    assert _requests(session, application)[0].state is ChangeState.PENDING
    assert plan_in_force(session, application).number == 1


def test_no_change_is_asked_before_the_grant_decision_is_accepted(
        client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    auth.sign_in(funded.applicant)
    assert client.get(_plan(funded.application)).status_code == 404
    assert client.get(_plan(funded.application, "/change")).status_code == 404
    assert client.post(_plan(funded.application, "/change"), data=_form(end="2027-06-30")
                       ).status_code == 404


def test_an_end_that_passed_while_pending_cannot_be_approved(
        client, auth, session, make_user, monkeypatch):
    funded = granted(client, auth, session, make_user)
    application = funded.application
    auth.sign_in(funded.applicant)
    assert client.post(_plan(application, "/change"), data=_form(end="2026-12-31")
                       ).status_code == 303
    auth.sign_out()
    later = dt.datetime(2027, 1, 5, 1, 0, tzinfo=dt.UTC)  # 2027-01-05 10:00 JST
    monkeypatch.setattr(clock, "now", lambda: later)
    auth.sign_in(funded.officer)
    late = client.post(_decide(application, 1), data={"outcome": "approve"})
    assert late.status_code == 409 and "既に過ぎています" in late.text
    assert plan_in_force(session, application).number == 1
    assert client.post(_decide(application, 1), data={
        "outcome": "refuse", "reason": "終了日が過ぎている。"}).status_code == 303
    assert _requests(session, application)[0].state is ChangeState.REFUSED


def test_a_form_opened_on_an_older_plan_is_refused_and_shows_the_plan_in_force(
        client, auth, session, make_user):
    """A second tab opened on version 1 would ask for version 1's amounts again after a
    change was approved: refused with 409, the answers kept, the form now on version 2."""
    funded = granted(client, auth, session, make_user)
    application = funded.application
    auth.sign_in(funded.applicant)
    assert client.post(_plan(application, "/change"),
                       data=_form(2_000_000, 2_000_000)).status_code == 303
    auth.sign_out()
    auth.sign_in(funded.officer)
    assert client.post(_decide(application, 1), data={"outcome": "approve"}).status_code == 303
    auth.sign_out()

    auth.sign_in(funded.applicant)
    stale = client.post(_plan(application, "/change"), data=_form(end="2027-06-30"))
    assert stale.status_code == 409
    assert "現在は第2版" in _text(stale) and 'name="plan_version" type="hidden" value="2"' in \
        stale.text
    assert [r.number for r in _requests(session, application)] == [1]
    beyond = client.post(_plan(application, "/change"), data=_form(
        2_000_000, 2_000_000, end="2028-04-01", plan_version=2))
    assert beyond.status_code == 422 and "2028-03-31" in _text(beyond)
    auth.sign_out()
