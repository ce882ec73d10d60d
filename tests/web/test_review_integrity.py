"""Which reviews count, through the pages: a conflict found after submission withdraws the review
from every aggregate (kept, shown as withdrawn with the reason), a submitted review cannot be
declined, automatic assignment tops up to N counted reviews and never above; and the smaller
holes: comments of invisible characters, re-assigning a reviewer who declined, assigning before
an application is accepted for review.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from grants.domain.workflow import Role, State
from grants.models import (
    Assignment,
    AssignmentState,
    AuditEvent,
    ConflictDeclaration,
    Review,
    ReviewState,
)
from tests.conftest import NOW
from tests.web.reviewflow import (
    KEY,
    add_to_call,
    assignment_of,
    in_review,
    review_form,
    rubric_for,
    submit_application,
    submit_review,
)
from tests.web.test_moderation_decide import _ranking_score

WITHDRAW_TAG = "manage:assignment:withdraw"


def _events(session, application, tag):
    return session.scalars(sa.select(AuditEvent).where(
        AuditEvent.subject_type == "application", AuditEvent.subject_id == application.id,
        AuditEvent.tag == tag).order_by(AuditEvent.id)).all()


def _total(session, application, reviewer):
    return str(assignment_of(session, application, reviewer).review.total)


def _item(page: str, assignment_id: int) -> str:
    """The officer page's line for one assignment."""
    rest = page.split(f'id="assignment-{assignment_id}"', 1)[1]
    return rest[:min(i for i in (rest.find('id="assignment-'), rest.find("<h2"), len(rest))
                     if i >= 0)]


def _scores_csv(client):
    return client.get(f"/manage/calls/{KEY}/scores.csv").data.decode("utf-8-sig")


def test_a_conflict_declared_after_submitting_withdraws_the_review_everywhere(
        client, auth, session, make_user):
    application, officer, (first, second) = in_review(client, auth, session, make_user)
    rubric = rubric_for(session, application)
    for reviewer, score, shared in ((first, rubric.scale.max, "第一評価者だけの共有コメント"),
                                    (second, rubric.scale.max - 2, "第二評価者だけの共有コメント")):
        assert submit_review(client, auth, session, application, reviewer, score,
                             shared=shared).status_code == 303
    kept = _total(session, application, second)
    auth.sign_in(officer)
    assert _ranking_score(client, application.reference) != kept  # both count: the mean
    auth.sign_out()

    # The first reviewer declares the applicant organization after submitting.
    auth.sign_in(first)
    declared = client.post("/review/interests", data={
        "organization_id": str(application.organization_id), "lg_code": "", "note": ""},
        follow_redirects=True)
    assert "この申告は、あなたの割当てのうち1件と利害関係があります。" in declared.text
    auth.sign_out()

    assignment = assignment_of(session, application, first)
    assert assignment.state is AssignmentState.WITHDRAWN and assignment.withdrawn_at is not None
    assert application.organization.name in assignment.withdrawal_reasons[0]["ja"]
    assert assignment.review.state is ReviewState.SUBMITTED  # kept, as submitted
    (event,) = _events(session, application, WITHDRAW_TAG)
    assert event.actor_id == first.id and event.data["reviewer_id"] == first.id
    assert event.data["review_withdrawn"] == assignment.review.id

    auth.sign_in(officer)
    page = client.get(f"/manage/applications/{application.id}").text
    line = _item(page, assignment.id)
    assert "conflict-marker" in line and "利害関係の判明により割当て終了" in line
    assert "提出済みの評価（合計点：" in line and "は集計から除外" in line
    assert "集計から除外した評価" in page and "提出済みの評価：1件" in page
    # ranking, CSV, Excel-equivalent scores table and calibration: the second review alone
    assert _ranking_score(client, application.reference) == kept
    scores = _scores_csv(client)
    assert scores.count(application.reference) == 1 and first.display_name not in scores
    calibration = client.get(f"/manage/calls/{KEY}/calibration").text
    assert second.display_name in calibration and first.display_name not in calibration
    decided = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "", "rationale": "地域の課題に即した計画。"})
    assert decided.status_code == 303
    (decision,) = _events(session, application, "manage:application:decide")
    assert decision.data["score"] == kept  # the scores decided on, in the audit record
    assert decision.data["counted_reviews"] == [assignment_of(session, application,
                                                              second).review.id]
    auth.sign_out()

    # The applicant is shown only the counted review's shared comment.
    auth.sign_in(application.created_by)
    shown = client.get(f"/applications/{application.id}").text
    assert "第二評価者だけの共有コメント" in shown
    assert "第一評価者だけの共有コメント" not in shown


def test_a_submitted_review_cannot_be_declined_nor_doubled_by_auto_assign(
        client, auth, session, make_user):
    application, officer, (first,) = in_review(client, auth, session, make_user, reviewers=1,
                                               per_application=1)
    spare = make_user(Role.REVIEWER)
    add_to_call(session, spare)
    assert submit_review(client, auth, session, application, first, 4).status_code == 303
    assignment = assignment_of(session, application, first)

    auth.sign_in(first)
    page = client.get(f"/review/assignments/{assignment.id}")
    assert "提出済みの評価は辞退できません。" in page.text and "/decline" not in page.text
    refused = client.post(f"/review/assignments/{assignment.id}/decline",
                          data={"reason": "都合がつかなくなりました。"})
    assert refused.status_code == 409
    assert "この評価は提出済みのため、辞退できません。" in refused.text
    auth.sign_out()
    assert assignment_of(session, application, first).state is AssignmentState.ACTIVE
    assert _events(session, application, "review:assignment:decline") == []

    auth.sign_in(officer)
    assert client.post(f"/manage/calls/{KEY}/auto-assign").status_code in (200, 303)
    assigned = session.scalars(sa.select(Assignment.reviewer_id).filter_by(
        application_id=application.id)).all()
    assert assigned == [first.id]  # one counted review is all the call asks for
    assert _ranking_score(client, application.reference) == _total(session, application, first)


def test_the_officer_ends_an_assignment_and_auto_assign_tops_up_to_n(
        client, auth, session, make_user):
    application, officer, (first,) = in_review(client, auth, session, make_user, reviewers=1,
                                               per_application=1)
    spare = make_user(Role.REVIEWER)
    add_to_call(session, spare)
    assert submit_review(client, auth, session, application, first, 4).status_code == 303
    assignment = assignment_of(session, application, first)
    url = f"/manage/applications/{application.id}/assignments/{assignment.id}/withdraw"

    auth.sign_in(officer)
    review_id = assignment.review.id
    invisible = {"criterion_id": rubric_for(session, application).criteria()[0].id,
                 "score": "3", "rationale": "\u200b"}
    assert client.post(f"/manage/applications/{application.id}/moderate",
                       data=invisible).status_code == 422
    note = client.post(f"/manage/applications/{application.id}/reviews/{review_id}/reopen",
                       data={"note": "\u3000\u200b"})
    assert note.status_code == 422 and "空白や目に見えない文字だけでは" in note.text
    assert _events(session, application, "manage:score:moderate") == []
    assert _events(session, application, "manage:review:reopen") == []
    for blank in ("", "\u200b\u3000\ufeff"):
        refused = client.post(url, data={"reason": blank})
        assert refused.status_code == 422 and "error-summary" in refused.text
    assert "空白や目に見えない文字だけでは入力したことになりません。" in refused.text
    assert assignment_of(session, application, first).state is AssignmentState.ACTIVE

    reason = "評価者が申請団体の理事を兼ねていることが判明した。"
    assert client.post(url, data={"reason": reason}).status_code == 303
    ended = assignment_of(session, application, first)
    assert ended.state is AssignmentState.WITHDRAWN
    assert ended.withdrawal_reasons == [{"ja": reason, "en": reason}]
    (event,) = _events(session, application, WITHDRAW_TAG)
    assert event.actor_id == officer.id and event.data["reasons"] == [reason]
    page = client.get(f"/manage/applications/{application.id}").text
    assert reason in _item(page, assignment.id) and "提出済みの評価：0件" in page
    twice = client.post(url, data={"reason": reason})
    assert twice.status_code == 422 and "この割当てはすでに終了しています。" in twice.text
    reopened = client.post(f"/manage/applications/{application.id}/reviews/"
                           f"{ended.review.id}/reopen", data={"note": "再確認してください。"})
    assert reopened.status_code == 422
    assert "再評価を依頼できるのは、集計に含まれる提出済みの評価だけです。" in reopened.text
    assert assignment_of(session, application, first).review.state is ReviewState.SUBMITTED
    assert _ranking_score(client, application.reference) == ""

    # The ended review no longer counts: auto-assign adds one reviewer, and only one.
    for _ in range(2):
        assert client.post(f"/manage/calls/{KEY}/auto-assign").status_code in (200, 303)
        active = session.scalars(sa.select(Assignment.reviewer_id).filter_by(
            application_id=application.id, state=AssignmentState.ACTIVE)).all()
        assert active == [spare.id]
    # Assigning the conflicted reviewer again by hand is refused, with the reason.
    again = client.post(f"/manage/applications/{application.id}/assign",
                        data={"reviewer_id": str(first.id)})
    assert again.status_code == 422 and reason in again.text
    assert assignment_of(session, application, first).state is AssignmentState.WITHDRAWN


def test_a_conflict_found_without_a_new_declaration_is_marked_and_ended_at_the_decision(
        client, auth, session, make_user):
    application, officer, (first, second) = in_review(client, auth, session, make_user)
    for reviewer in (first, second):
        assert submit_review(client, auth, session, application, reviewer, 4).status_code == 303
    kept = _total(session, application, second)
    # A declaration that matches only now (stored earlier, matched by a later rule): no event.
    session.add(ConflictDeclaration(reviewer_id=first.id,
                                    organization_id=application.organization_id,
                                    declared_at=NOW))
    session.commit()
    assignment = assignment_of(session, application, first)

    auth.sign_in(officer)
    page = client.get(f"/manage/applications/{application.id}").text
    line = _item(page, assignment.id)
    assert "割当て後に利害関係が判明しました。この評価は集計に含まれません。" in line
    assert "<details open>" in line  # the form to end it is open
    dashboard = client.get(f"/manage/calls/{KEY}").text
    row = dashboard[dashboard.index(application.reference):]
    assert row[:row.index("</tr>")].rstrip().endswith(
        '<td class="number">1 / 2</td>')  # the conflicted reviewer's review will not count
    assert _ranking_score(client, application.reference) == kept
    assert first.display_name not in _scores_csv(client)
    assert client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "reject", "amount_yen": "", "rationale": "事業の継続性が確認できない。"}
    ).status_code == 303
    assert assignment_of(session, application, first).state is AssignmentState.WITHDRAWN
    (event,) = _events(session, application, WITHDRAW_TAG)
    assert event.actor_id == officer.id
    assert _ranking_score(client, application.reference) == kept  # decided on the second alone


def test_auto_assign_ends_an_assignment_found_conflicted_and_replaces_it(
        client, auth, session, make_user):
    application, officer, (first,) = in_review(client, auth, session, make_user, reviewers=1,
                                               per_application=1)
    spare = make_user(Role.REVIEWER)
    add_to_call(session, spare)
    session.add(ConflictDeclaration(reviewer_id=first.id, lg_code=application.organization.lg_code,
                                    declared_at=NOW))
    session.commit()

    auth.sign_in(officer)
    assert client.post(f"/manage/calls/{KEY}/auto-assign").status_code in (200, 303)

    ended = assignment_of(session, application, first)
    assert ended.state is AssignmentState.WITHDRAWN
    assert application.organization.lg_code in ended.withdrawal_reasons[0]["ja"]
    (event,) = _events(session, application, WITHDRAW_TAG)
    assert event.actor_id == officer.id and event.data["review_withdrawn"] is None
    assert assignment_of(session, application, spare).state is AssignmentState.ACTIVE
    page = client.get(f"/manage/applications/{application.id}").text
    assert "利害関係の判明により割当て終了" in _item(page, ended.id)


@pytest.mark.parametrize("comment", ["\u200b", "\u3000\u3000", "\ufeff", "\u200c\u200d\u2060"])
def test_a_comment_of_invisible_characters_is_no_comment(client, auth, session, make_user,
                                                        comment):
    application, _officer, (reviewer,) = in_review(client, auth, session, make_user, reviewers=1)
    rubric = rubric_for(session, application)
    needs = next(c for c in rubric.criteria() if c.comment_required_at_or_below is not None)
    low = needs.comment_required_at_or_below

    response = submit_review(client, auth, session, application, reviewer, rubric.scale.max,
                             **{f"s_{needs.id}": str(low), f"c_{needs.id}": comment})

    assert response.status_code == 422
    assert f"{low}点以下のときは、理由をコメントに書いてください。" in response.text
    review = assignment_of(session, application, reviewer).review
    assert review.state is ReviewState.DRAFT and needs.id not in review.comments


def test_a_decline_needs_a_visible_reason(client, auth, session, make_user):
    application, _officer, (reviewer,) = in_review(client, auth, session, make_user, reviewers=1)
    assignment = assignment_of(session, application, reviewer)
    auth.sign_in(reviewer)
    refused = client.post(f"/review/assignments/{assignment.id}/decline",
                          data={"reason": "\u200b\u3000"})
    assert refused.status_code == 422
    assert assignment_of(session, application, reviewer).state is AssignmentState.ACTIVE


def test_a_reviewer_who_declined_can_be_assigned_again_by_hand(client, auth, session, make_user):
    application, officer, (reviewer,) = in_review(client, auth, session, make_user, reviewers=1)
    assignment = assignment_of(session, application, reviewer)
    reason = "出張のため期限までに評価できません。"
    auth.sign_in(reviewer)
    assert client.post(f"/review/assignments/{assignment.id}/decline",
                       data={"reason": reason}).status_code == 303
    auth.sign_out()

    auth.sign_in(officer)
    again = client.post(f"/manage/applications/{application.id}/assign",
                        data={"reviewer_id": str(reviewer.id)}, follow_redirects=True)
    assert again.status_code == 200
    active = assignment_of(session, application, reviewer)
    assert active.state is AssignmentState.ACTIVE and active.decline_reason is None
    (event,) = _events(session, application, "manage:assignment:reactivate")
    assert event.data == {"reviewer_id": reviewer.id, "reason": reason}
    twice = client.post(f"/manage/applications/{application.id}/assign",
                        data={"reviewer_id": str(reviewer.id)})
    assert twice.status_code == 422
    assert f"{reviewer.display_name} さんはすでにこの申請に割り当てられています。" in twice.text
    auth.sign_out()

    auth.sign_in(reviewer)
    assert f"/review/assignments/{assignment.id}" in client.get("/review/").text
    assert client.get(f"/review/assignments/{assignment.id}").status_code == 200


def test_reviewers_are_assigned_only_to_applications_in_review(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)  # submitted, not accepted
    officer, reviewer = make_user(Role.OFFICER), make_user(Role.REVIEWER)
    add_to_call(session, reviewer)
    auth.sign_in(officer)

    refused = client.post(f"/manage/applications/{application.id}/assign",
                          data={"reviewer_id": str(reviewer.id)})
    assert refused.status_code == 409
    assert "この申請は審査中ではありません。" in refused.text
    client.post(f"/manage/calls/{KEY}/auto-assign")
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment).filter_by(
        application_id=application.id)) == 0
    session.refresh(application)
    assert application.state is State.SUBMITTED


def test_an_invisible_shared_comment_is_not_kept(client, auth, session, make_user):
    application, _officer, (reviewer,) = in_review(client, auth, session, make_user, reviewers=1)
    rubric = rubric_for(session, application)
    assignment = assignment_of(session, application, reviewer)
    auth.sign_in(reviewer)
    page = client.get(f"/review/assignments/{assignment.id}")
    saved = client.post(f"/review/assignments/{assignment.id}",
                        data=review_form(rubric, page.text, 4, shared="\u200b\ufeff"))
    assert saved.status_code == 303
    session.expire_all()
    review = session.scalar(sa.select(Review).filter_by(assignment_id=assignment.id))
    assert review.comment_for_applicant is None
    assert set(review.ratings.values()) == {4}
