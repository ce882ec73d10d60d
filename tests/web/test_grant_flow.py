"""The grant decision (交付決定) through the pages: issued with the award (the award divided among
the categories, the period the application states, the standard conditions and the officer's
own), accepted by the grantee (plan version 1) or declined with a reason (the next application
moves above the funding line), the officer told in their language, set aside by an upheld
evaluation review; who may see and answer it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from grants.domain.workflow import Role, State
from grants.models import (
    AuditEvent,
    Decision,
    GrantAnswer,
    GrantDecision,
    OutboxMessage,
    PlanVersion,
)
from grants.services.reviewing import rubric_version_for
from tests.post_award_helpers import PROJECT_END, PROJECT_START, awarded, grant_decision
from tests.web.consensus_helpers import tags
from tests.web.reviewflow import (
    KEY,
    clone_in_review,
    in_review,
    rubric_for,
    submit_review,
)
from tests.web.test_evaluation_summary import _budget, _review

SUMMARY = "地域の課題を具体的に解決する計画です。"  # the project summary tests.web.journey answers
EXTRA = "事業の成果を毎年度公表すること。"


def _url(application, tail: str = "") -> str:
    return f"/applications/{application.id}/grant-decision{tail}"


def _mails(session, application, address: str) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).filter_by(
        application_id=application.id, to_address=address).order_by(OutboxMessage.id)))


def _event(session, application, tag: str) -> AuditEvent:
    return session.scalars(sa.select(AuditEvent).filter_by(
        subject_type="application", subject_id=application.id, tag=tag)
        .order_by(AuditEvent.id.desc())).first()


def test_the_award_issues_a_grant_decision_with_the_officers_conditions(
        client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    application = funded.application
    grant = grant_decision(session, application)
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    assert (grant.decision_id, grant.amount_yen) == (decision.id, 4_000_000)
    assert grant.category_amounts == {"human_resources": 3_000_000, "system": 0,
                                      "equipment": 1_000_000}
    assert (grant.project_start, grant.project_end) == (PROJECT_START, PROJECT_END)
    assert "補助金等に係る予算の執行の適正化に関する法律" in grant.conditions
    assert grant.answer is None and grant.issued_by_id == funded.officer.id
    event = _event(session, application, "manage:grant:issue")
    assert event.data["category_amounts"] == grant.category_amounts
    assert tags(session, application)[-2:] == ["manage:application:decide", "manage:grant:issue"]
    mail = _mails(session, application, funded.applicant.email)[-1]
    assert _url(application) in mail.body and "交付決定" in mail.body


def test_an_award_below_the_request_scales_every_category_and_adds_the_officers_conditions(
        client, auth, session, make_user):
    application, officer, reviewers = in_review(client, auth, session, make_user)
    for reviewer in reviewers:
        assert submit_review(client, auth, session, application, reviewer, 4).status_code == 303
    auth.sign_in(officer)
    page = client.get(f"/manage/applications/{application.id}")
    assert 'name="conditions"' in page.text and "追加の交付の条件（任意）" in page.text
    decided = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "3,001,500", "rationale": "計画を一部縮小して採択。",
        "conditions": EXTRA})
    assert decided.status_code == 303
    grant = grant_decision(session, application)
    # Rounded down to ¥3,001,000 (the program's ¥1,000 step); 3/4 and 1/4 of it.
    assert grant.amount_yen == 3_001_000
    assert grant.category_amounts == {"human_resources": 2_250_750, "system": 0,
                                      "equipment": 750_250}
    lines = grant.conditions.splitlines()
    assert lines[-1].endswith(EXTRA) and lines[0].startswith("1. ")


def test_the_grantee_reads_and_accepts_the_grant_decision(client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    application, officer = funded.application, funded.officer
    officer.locale = "en"
    session.commit()
    auth.sign_in(funded.applicant)
    shown = client.get(_url(application))
    assert shown.status_code == 200
    text = re.sub(r"\s+", " ", shown.text)
    assert "¥4,000,000" in text and "¥3,000,000" in text and "¥1,000,000" in text
    assert "2026-12-01 から 2027-03-31 まで" in text and "交付の条件" in text
    assert "補助金等に係る予算の執行の適正化に関する法律" in text
    assert _url(application, ".pdf") in text

    unconfirmed = client.post(_url(application, "/accept"), data={})
    assert unconfirmed.status_code == 422
    assert "交付の条件を受諾することを確認してください。" in unconfirmed.text
    assert client.post(_url(application, "/accept"),
                       data={"accept_conditions": "y"}).status_code == 303
    session.expire_all()
    assert application.state is State.GRANTED
    grant = grant_decision(session, application)
    assert grant.answer is GrantAnswer.ACCEPTED and grant.answered_by_id == funded.applicant.id
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=application.id))
    assert (plan.number, plan.category_amounts, plan.project_end, plan.scope,
            plan.change_request_id) == (1, grant.category_amounts, PROJECT_END, SUMMARY, None)
    assert _event(session, application, "apply:grant:accept").data["plan_version_id"] == plan.id
    told = _mails(session, application, officer.email)[-1]
    assert told.subject == f"[Grants] Grant decision accepted: application {application.reference}"

    again = client.post(_url(application, "/accept"), data={"accept_conditions": "y"})
    assert again.status_code == 409 and "既に回答済み" in again.text
    assert "受諾しました" in client.get(_url(application)).text
    assert client.post(_url(application, "/decline"), data={
        "reason": "やはり辞退", "understood": "y"}).status_code == 409
    session.expire_all()
    assert application.state is State.GRANTED


def _second_below_the_line(session, make_user, funded):
    """Another application in review scoring 3 to the first's 4; a budget that fits only one."""
    second = clone_in_review(session, funded.application, 1)[0]
    _review(session, second, make_user(Role.REVIEWER), rubric_for(session, second),
            rubric_version_for(session, second).id, 3)
    session.commit()
    _budget(session, 4_000_000)
    return second


def _row(ranking: str, reference: str) -> str:
    text = re.sub(r"\s+", " ", ranking)
    return next(row for row in re.findall(r'<tr class="(?:fits|over)">.*?</tr>', text)
                if reference in row)


def test_a_declined_grant_decision_lets_the_next_application_above_the_line(
        client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    application = funded.application
    second = _second_below_the_line(session, make_user, funded)
    auth.sign_in(funded.officer)
    before = client.get(f"/manage/calls/{KEY}/ranking").text
    assert application.reference in before
    assert _row(before, second.reference).startswith('<tr class="over">')
    auth.sign_out()

    auth.sign_in(funded.applicant)
    blank = client.post(_url(application, "/decline"), data={"reason": "\u3000", "understood": "y"})
    assert blank.status_code == 422
    unconfirmed = client.post(_url(application, "/decline"), data={"reason": "体制が組めない。"})
    assert unconfirmed.status_code == 422 and "体制が組めない。" in unconfirmed.text
    assert "辞退の意味を理解したことを確認してください。" in unconfirmed.text
    session.expire_all()
    assert application.state is State.AWARDED
    assert client.post(_url(application, "/decline"), data={
        "reason": "体制が組めない。", "understood": "y"}).status_code == 303
    session.expire_all()
    assert application.state is State.DECLINED
    grant = grant_decision(session, application)
    assert (grant.answer, grant.decline_reason) == (GrantAnswer.DECLINED, "体制が組めない。")
    assert _event(session, application, "apply:grant:decline").data["reason"] == "体制が組めない。"
    told = _mails(session, application, funded.officer.email)[-1]
    assert "辞退" in told.subject and "体制が組めない。" in told.body
    assert client.post(_url(application, "/accept"),
                       data={"accept_conditions": "y"}).status_code == 409
    auth.sign_out()

    auth.sign_in(funded.officer)
    after = client.get(f"/manage/calls/{KEY}/ranking").text
    assert application.reference not in after
    assert _row(after, second.reference).startswith('<tr class="fits">')


def test_only_the_grantees_members_answer_and_readers_only_read(
        client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    application = funded.application
    answer = {"accept_conditions": "y"}
    other = make_user(Role.APPLICANT, lg_code="131016")
    auth.sign_in(other)
    for tail in ("", ".pdf"):
        assert client.get(_url(application, tail)).status_code == 404
    assert client.post(_url(application, "/accept"), data=answer).status_code == 404
    auth.sign_out()
    for role, read in ((Role.REVIEWER, 403), (Role.OFFICER, 200), (Role.AUDITOR, 200),
                       (Role.ADMIN, 200)):
        auth.sign_in(make_user(role))
        assert client.get(_url(application)).status_code == read, role
        assert client.post(_url(application, "/accept"), data=answer).status_code == 403, role
        assert client.post(_url(application, "/decline"), data={
            "reason": "x", "understood": "y"}).status_code == 403, role
        auth.sign_out()
    assert client.get("/applications/987654/grant-decision").status_code in (302, 303)
    auth.sign_in(funded.applicant)
    assert client.get("/applications/987654/grant-decision").status_code == 404
    session.expire_all()
    assert application.state is State.AWARDED
    assert grant_decision(session, application).answer is None


def test_an_application_without_a_grant_decision_has_no_page(client, auth, session, make_user):
    application, officer, _reviewers = in_review(client, auth, session, make_user)
    auth.sign_in(officer)
    assert client.get(_url(application)).status_code == 404
    assert client.get(_url(application, ".pdf")).status_code == 404
    assert client.get(f"/applications/{application.id}/plan").status_code == 404


def test_an_upheld_evaluation_review_sets_the_unanswered_grant_decision_aside(
        client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    application = funded.application
    issued = grant_decision(session, application).id
    auth.sign_in(funded.applicant)
    assert client.post(f"/applications/{application.id}/evaluation-review", data={
        "ground": "conflict_of_interest",
        "description": "評価者の一人が競合する事業者の役員でした。"}).status_code == 303
    auth.sign_out()
    auth.sign_in(funded.officer)
    assert client.post(f"/manage/applications/{application.id}/evaluation-review/finding", data={
        "outcome": "upheld", "finding": "利益相反が確認された。"}).status_code == 303
    session.expire_all()
    assert application.state is State.IN_REVIEW
    assert session.get(GrantDecision, issued) is None
    assert session.scalar(sa.select(Decision).filter_by(application_id=application.id)) is None
    kept = _event(session, application, "manage:grant:issue")  # the chain keeps it as issued
    assert kept.data["grant_decision_id"] == issued
    assert client.get(_url(application)).status_code == 404


def test_the_answer_goes_to_every_active_officer_when_the_issuer_left(
        client, auth, session, make_user):
    funded = awarded(client, auth, session, make_user)
    application = funded.application
    funded.officer.active = False
    colleague = make_user(Role.OFFICER)
    session.commit()
    auth.sign_in(funded.applicant)
    assert client.post(_url(application, "/accept"),
                       data={"accept_conditions": "y"}).status_code == 303
    assert _mails(session, application, funded.officer.email) == []
    assert "受諾" in _mails(session, application, colleague.email)[-1].subject
