"""The whole review path through the test client: submit → screen → assign → two reviews →
moderation → ranking → decision → the applicant sees it; plus returning an application.
"""

from __future__ import annotations

import csv
import io
import json
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from grants.domain.workflow import Role, State
from grants.models import (
    Application,
    Assignment,
    AuditEvent,
    Decision,
    Moderation,
    OutboxMessage,
    Review,
    ReviewState,
)
from tests.web.reviewflow import KEY, review_form, rubric_for, submit_application


def _tags(session, application_id):
    return [e.tag for e in session.scalars(
        sa.select(AuditEvent).where(AuditEvent.subject_type == "application",
                                    AuditEvent.subject_id == application_id)
        .order_by(AuditEvent.id))]


def test_submit_screen_assign_review_moderate_rank_decide(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    applicant = application.created_by
    officer = make_user(Role.OFFICER)
    first = make_user(Role.REVIEWER, email="first-reviewer@example.jp")
    second = make_user(Role.REVIEWER, email="second-reviewer@example.jp")

    # Screening: the officer sees the submitted application and accepts it for review.
    auth.sign_in(officer)
    call = client.get(f"/manage/calls/{KEY}")
    assert call.status_code == 200 and application.reference in call.text
    assert client.post(f"/manage/applications/{application.id}/accept").status_code == 303
    session.refresh(application)
    assert application.state is State.IN_REVIEW

    # Reviewers join the call; two reviewers per application, assigned automatically.
    for reviewer in (first, second):
        added = client.post(f"/manage/calls/{KEY}/reviewers",
                            data={"name": reviewer.display_name, "email": reviewer.email})
        assert added.status_code == 303
    client.post(f"/manage/calls/{KEY}/settings", data={"reviewers_per_application": "2"})
    assert client.post(f"/manage/calls/{KEY}/auto-assign").status_code in (200, 303)
    assignments = session.scalars(sa.select(Assignment).filter_by(
        application_id=application.id).order_by(Assignment.reviewer_id)).all()
    assert {a.reviewer_id for a in assignments} == {first.id, second.id}
    auth.sign_out()

    # Two reviews: a high one with a comment shared with the applicant, and a low one.
    rubric = rubric_for(session, application)
    for reviewer, score, shared in ((first, rubric.scale.max, "計画は具体的です。"),
                                    (second, rubric.scale.max - 2, "")):
        auth.sign_in(reviewer)
        queue = client.get("/review/")
        assignment = next(a for a in assignments if a.reviewer_id == reviewer.id)
        assert f"/review/assignments/{assignment.id}" in queue.text
        page = client.get(f"/review/assignments/{assignment.id}")
        assert page.status_code == 200
        data = review_form(rubric, page.text, score, action="submit", shared=shared)
        response = client.post(f"/review/assignments/{assignment.id}", data=data)
        assert response.status_code == 303, response.text[:3000]
        auth.sign_out()
    reviews = session.scalars(sa.select(Review).join(Review.assignment).where(
        Assignment.application_id == application.id)).all()
    assert [r.state for r in reviews] == [ReviewState.SUBMITTED] * 2

    # Moderation: scores side by side; one criterion moderated with a rationale.
    auth.sign_in(officer)
    page = client.get(f"/manage/applications/{application.id}")
    assert first.display_name in page.text and second.display_name in page.text
    criterion = rubric.criteria()[0]
    moderated = client.post(f"/manage/applications/{application.id}/moderate", data={
        "criterion_id": criterion.id, "score": "3", "rationale": "両評価者の根拠を比較した。"})
    assert moderated.status_code == 303
    row = session.scalar(sa.select(Moderation).filter_by(application_id=application.id))
    assert (row.criterion_id, row.score) == (criterion.id, 3)
    assert {r.ratings[criterion.id] for r in reviews} == {rubric.scale.max, rubric.scale.max - 2}

    # Ranking and exports list the application with its score and request.
    ranking = client.get(f"/manage/calls/{KEY}/ranking")
    assert ranking.status_code == 200 and application.reference in ranking.text
    exported = client.get(f"/manage/calls/{KEY}/ranking.csv")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert any(application.reference in r for r in rows[1:])
    scores = client.get(f"/manage/calls/{KEY}/scores.csv")
    assert scores.data.decode("utf-8-sig").count(application.reference) == 2
    workbook = load_workbook(io.BytesIO(client.get(f"/manage/calls/{KEY}/export.xlsx").data))
    assert len(workbook.sheetnames) == 2
    calibration = client.get(f"/manage/calls/{KEY}/calibration")
    assert calibration.status_code == 200 and "<svg" in calibration.text

    # Decision: an award above the request is refused; a valid one is rounded down and stored.
    too_much = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "999,999,999,999", "rationale": "採択"})
    assert too_much.status_code == 422
    decided = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "3,999,999", "rationale": "地域の課題に即した計画。"})
    assert decided.status_code == 303
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    assert decision.amount_yen == 3_999_000
    assert decision.computation["requested_yen"] == 4_000_000
    message = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.to_address == applicant.email and application.reference in message.body
    assert client.get("/manage/outbox").status_code == 200
    auth.sign_out()

    # The applicant sees the decision and only the comment marked as shareable.
    auth.sign_in(applicant)
    shown = client.get(f"/applications/{application.id}")
    assert "¥3,999,000" in shown.text
    assert "計画は具体的です。" in shown.text
    assert "根拠を確認しました。" not in shown.text

    tags = _tags(session, application.id)
    for tag in ("manage:application:accept", "manage:assignment:create", "review:review:submit",
                "manage:score:moderate", "manage:application:decide"):
        assert tag in tags


def test_returned_application_is_resubmitted_keeping_the_first_snapshot(
        client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    auth.sign_in(officer)
    refused = client.post(f"/manage/applications/{application.id}/return", data={"reason": ""})
    assert refused.status_code == 422
    returned = client.post(f"/manage/applications/{application.id}/return",
                           data={"reason": "見積書の金額を確認してください。"})
    assert returned.status_code == 303
    auth.sign_out()
    session.refresh(application)
    assert application.state is State.RETURNED

    auth.sign_in(application.created_by)
    check = client.get(f"/applications/{application.id}/check")
    assert "見積書の金額を確認してください。" in check.text
    again = client.post(f"/applications/{application.id}/submit", data={"confirm": "y"})
    assert again.status_code == 303
    session.refresh(application)
    assert application.state is State.SUBMITTED
    assert [s.number for s in application.submissions] == [1, 2]
    first, second = (json.loads(s.snapshot) for s in application.submissions)
    assert first["submission_number"] == 1 and second["submission_number"] == 2
    message = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert "見積書の金額を確認してください。" in message.body


def _assigned_by_hand(client, auth, session, make_user):
    """A submitted application, accepted by an officer, assigned by hand to one reviewer."""
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    reviewer = make_user(Role.REVIEWER)
    auth.sign_in(officer)
    client.post(f"/manage/applications/{application.id}/accept")
    client.post(f"/manage/calls/{KEY}/reviewers",
                data={"name": reviewer.display_name, "email": reviewer.email})
    client.post(f"/manage/applications/{application.id}/assign",
                data={"reviewer_id": str(reviewer.id)})
    auth.sign_out()
    assignment = session.scalar(sa.select(Assignment).filter_by(application_id=application.id))
    return application, officer, reviewer, assignment


def test_officer_reopens_a_review_and_the_reviewer_edits_it(client, auth, session, make_user):
    application, officer, reviewer, assignment = _assigned_by_hand(client, auth, session,
                                                                   make_user)
    rubric = rubric_for(session, application)

    auth.sign_in(reviewer)
    page = client.get(f"/review/assignments/{assignment.id}")
    client.post(f"/review/assignments/{assignment.id}",
                data=review_form(rubric, page.text, 4, action="submit"))
    locked = client.get(f"/review/assignments/{assignment.id}")
    changed = client.post(f"/review/assignments/{assignment.id}",
                          data=review_form(rubric, locked.text, 1, action="save"))
    assert changed.status_code == 303
    session.expire_all()
    review = session.scalar(sa.select(Review).filter_by(assignment_id=assignment.id))
    assert review.state is ReviewState.SUBMITTED
    assert set(review.ratings.values()) == {4}  # a submitted review is locked
    auth.sign_out()

    auth.sign_in(officer)
    reopened = client.post(f"/manage/applications/{application.id}/reviews/{review.id}/reopen",
                           data={"note": "持続性の評価をもう一度確認してください。"})
    assert reopened.status_code == 303
    auth.sign_out()
    auth.sign_in(reviewer)
    page = client.get(f"/review/assignments/{assignment.id}")
    assert "持続性の評価をもう一度確認してください。" in page.text
    client.post(f"/review/assignments/{assignment.id}",
                data=review_form(rubric, page.text, 3, action="submit"))
    session.expire_all()
    review = session.get(Review, review.id)
    assert review.state is ReviewState.SUBMITTED and set(review.ratings.values()) == {3}


def test_low_score_without_comment_is_refused_with_answers_kept(client, auth, session, make_user):
    application, _officer, reviewer, assignment = _assigned_by_hand(client, auth, session,
                                                                    make_user)
    rubric = rubric_for(session, application)
    needs = next(c for c in rubric.criteria() if c.comment_required_at_or_below is not None)

    auth.sign_in(reviewer)
    page = client.get(f"/review/assignments/{assignment.id}")
    data = review_form(rubric, page.text, rubric.scale.max, action="submit")
    data[f"s_{needs.id}"] = str(needs.comment_required_at_or_below)
    data[f"c_{needs.id}"] = "  "
    refused = client.post(f"/review/assignments/{assignment.id}", data=data)
    assert refused.status_code == 422
    assert "error-summary" in refused.text
    low = needs.comment_required_at_or_below
    kept = rf'<input checked[^>]*name="s_{needs.id}"[^>]*value="{low}"'
    assert re.search(kept, refused.text), "the refused form lost the reviewer's score"
    session.expire_all()
    review = session.scalar(sa.select(Review).filter_by(assignment_id=assignment.id))
    assert review.state is ReviewState.DRAFT
    assert session.scalar(sa.select(Application.state).filter_by(id=application.id)) is (
        State.IN_REVIEW)
