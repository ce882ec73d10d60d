"""After the decision nothing changes a score: moderation, reopening, a review's edits and
submission, assignments (by hand, automatic, declined, ended) are refused with the reason, and the
scores the decision was made on stay those of the ranking and the record.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from grants.domain.counting import ScoresFrozen
from grants.domain.workflow import Role, State
from grants.models import (
    Assignment,
    AssignmentState,
    AuditEvent,
    Moderation,
    Outcome,
    Program,
    ReviewState,
)
from grants.services import assign, decide, reviewing
from tests.conftest import NOW
from tests.documents.conftest import decided
from tests.web.reviewflow import (
    KEY,
    add_to_call,
    assignment_of,
    in_review,
    review_form,
    rubric_for,
    submit_review,
)
from tests.web.test_moderation_decide import _ranking_score

FROZEN = "この申請は決定済み（採択）です。評価・評点・評価者は決定時のままとなり"


def _count(session, model, **where):
    return session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def test_every_page_refuses_a_change_to_a_decided_applications_scores(
        client, auth, session, make_user):
    application, officer, (first, second, idle) = in_review(client, auth, session, make_user,
                                                            reviewers=3)
    rubric = rubric_for(session, application)
    for reviewer, score in ((first, rubric.scale.max), (second, rubric.scale.max - 1)):
        assert submit_review(client, auth, session, application, reviewer, score).status_code \
            == 303
    latecomer = make_user(Role.REVIEWER)
    add_to_call(session, latecomer)
    url = f"/manage/applications/{application.id}"
    first_review = assignment_of(session, application, first).review
    second_review = assignment_of(session, application, second).review

    # The second review is reopened, then the application is awarded on the first alone.
    auth.sign_in(officer)
    assert client.post(f"{url}/reviews/{second_review.id}/reopen",
                       data={"note": "根拠を確認してください。"}).status_code == 303
    assert client.post(f"{url}/decide", data={
        "outcome": "award", "amount_yen": "", "rationale": "地域の課題に即した計画。"}
    ).status_code == 303
    decided_score = _ranking_score(client, application.reference)
    assert decided_score == str(first_review.total)
    events = _count(session, AuditEvent)

    criterion = rubric.criteria()[0].id
    first_assignment = assignment_of(session, application, first)
    refusals = {
        "moderate": client.post(f"{url}/moderate", data={
            "criterion_id": criterion, "score": "0", "rationale": "再検討した。"}),
        "reopen": client.post(f"{url}/reviews/{first_review.id}/reopen",
                              data={"note": "もう一度確認してください。"}),
        "withdraw": client.post(f"{url}/assignments/{first_assignment.id}/withdraw",
                                data={"reason": "利害関係が判明した。"}),
        "assign": client.post(f"{url}/assign", data={"reviewer_id": str(latecomer.id)}),
        "decide": client.post(f"{url}/decide", data={
            "outcome": "reject", "amount_yen": "", "rationale": "取り消す。"}),
    }
    for name, response in refusals.items():
        assert response.status_code == 409, name
        assert FROZEN in response.text, name
    client.post(f"/manage/calls/{KEY}/auto-assign")
    page = client.get(url).text
    assert "決定済み：評価・評点・評価者は決定時のままです。" in page
    assert "/withdraw" not in page and "/moderate" not in page and "/reopen" not in page
    auth.sign_out()

    # The reopened review, resubmitted as a knockout, is refused: the award stands.
    auth.sign_in(second)
    assignment = assignment_of(session, application, second)
    form = client.get(f"/review/assignments/{assignment.id}")
    assert "この申請は決定済みです。評価は決定時のまま変更できません。" in form.text
    for action in ("submit", "save"):
        knocked_out = client.post(f"/review/assignments/{assignment.id}", data=review_form(
            rubric, form.text, rubric.scale.min, action=action))
        assert knocked_out.status_code == 409 and FROZEN in knocked_out.text
    auth.sign_out()
    # The idle reviewer may not decline; the first may declare, which ends nothing decided.
    auth.sign_in(idle)
    idle_assignment = assignment_of(session, application, idle)
    declined = client.post(f"/review/assignments/{idle_assignment.id}/decline",
                           data={"reason": "時間が取れません。"})
    assert declined.status_code == 409 and FROZEN in declined.text
    auth.sign_out()
    auth.sign_in(first)
    assert client.post("/review/interests", data={
        "organization_id": str(application.organization_id), "lg_code": "", "note": ""}
    ).status_code == 303
    auth.sign_out()

    session.expire_all()
    assert session.get(type(application), application.id).state is State.AWARDED
    assert _count(session, Moderation, application_id=application.id) == 0
    assert _count(session, Assignment, application_id=application.id) == 3
    assert {a.state for a in session.scalars(sa.select(Assignment).filter_by(
        application_id=application.id))} == {AssignmentState.ACTIVE}
    second_review = assignment_of(session, application, second).review
    assert second_review.state is ReviewState.DRAFT and len(second_review.versions) == 1
    assert assignment_of(session, application, first).review.state is ReviewState.SUBMITTED
    # only the declaration itself was recorded since the decision
    assert _count(session, AuditEvent) == events + 1
    auth.sign_in(officer)
    assert _ranking_score(client, application.reference) == decided_score


def test_every_service_refuses_a_change_to_a_decided_applications_scores(
        app, client, auth, session, make_user):
    with app.test_request_context():  # the decision e-mails the applicant
        d = decided(client, auth, session, make_user)
    application, officer = d.application, d.officer
    assignment = session.scalar(sa.select(Assignment).filter_by(application_id=application.id,
                                                                reviewer_id=d.reviewers[0].id))
    review = assignment.review
    rubric = rubric_for(session, application)
    criterion = rubric.criteria()[0].id
    newcomer = make_user(Role.REVIEWER)
    add_to_call(session, newcomer)
    changes = {
        "moderate": lambda: reviewing.moderate(session, application, criterion, 0, "再検討。",
                                               actor=officer, now=NOW),
        "reopen": lambda: reviewing.reopen(session, review, "再確認。", actor=officer, now=NOW),
        "save": lambda: reviewing.save(session, review, ratings={}, comments={},
                                       comment_for_applicant=None,
                                       expected_version=review.lock_version, now=NOW),
        "submit": lambda: reviewing.submit(session, review, actor=d.reviewers[0], now=NOW),
        "assign": lambda: assign.assign(session, application, newcomer, actor=officer, now=NOW),
        "decline": lambda: assign.decline(session, assignment, "辞退します。",
                                          actor=d.reviewers[0], now=NOW),
        "withdraw": lambda: assign.withdraw(session, assignment, "利害関係。", actor=officer,
                                            now=NOW),
        "decide": lambda: decide.decide(session, application, outcome=Outcome.REJECT,
                                        amount_yen=None, rationale="取消。", actor=officer,
                                        now=NOW),
    }
    for name, change in changes.items():
        try:
            change()
        except ScoresFrozen:
            session.rollback()
        else:
            pytest.fail(f"{name} changed a decided application")
    plan = assign.auto_assign(session, session.get(Program, KEY), actor=officer, now=NOW)
    assert plan.pairs == ()
    session.rollback()
    assert _count(session, Assignment, application_id=application.id) == 2
    assert assignment.state is AssignmentState.ACTIVE and review.state is ReviewState.SUBMITTED
