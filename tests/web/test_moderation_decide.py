"""Moderation and the decision through the officer's pages: the moderated total is the mean the
officer saw with the moderated criterion replaced, the flag reads "moderated" once answered, an
award is refused while a knockout stands (a rejection is not), and the confirmation shows every
amount behind an award.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import Assignment, Decision, Outcome
from tests.web.reviewflow import KEY, add_to_call, review_form, rubric_for, submit_application

SUSTAIN = "sustainable_after_funding"  # weight 15 of 100, knockout at 0
GOAL = "goal_ict_as_means"  # weight 15 of 100


def _reviewed(client, auth, session, make_user, second_ratings, shared=""):
    """An application in review with two submitted reviews: the first rates every criterion 4,
    the second 4 except `second_ratings`. Returns the application and a signed-in officer."""
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    reviewers = [make_user(Role.REVIEWER, email=f"r{n}@example.jp") for n in (1, 2)]
    auth.sign_in(officer)
    client.post(f"/manage/applications/{application.id}/accept")
    for reviewer in reviewers:
        add_to_call(session, reviewer)
        assigned = client.post(f"/manage/applications/{application.id}/assign",
                               data={"reviewer_id": str(reviewer.id)})
        assert assigned.status_code == 303
    auth.sign_out()
    rubric = rubric_for(session, application)
    for reviewer, changes in zip(reviewers, ({}, second_ratings), strict=True):
        assignment = session.scalar(sa.select(Assignment).filter_by(
            application_id=application.id, reviewer_id=reviewer.id))
        auth.sign_in(reviewer)
        page = client.get(f"/review/assignments/{assignment.id}")
        data = review_form(rubric, page.text, 4, action="submit", shared=shared,
                           comment="" if shared else "根拠を確認しました。")
        data.update({f"s_{criterion}": str(value) for criterion, value in changes.items()})
        data.update({f"c_{criterion}": "根拠を確認しました。" for criterion in changes})
        submitted = client.post(f"/review/assignments/{assignment.id}", data=data)
        assert submitted.status_code == 303, submitted.text[:2000]
        auth.sign_out()
    auth.sign_in(officer)
    return application


def _ranking_score(client, reference):
    exported = client.get(f"/manage/calls/{KEY}/ranking.csv")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    row = next(r for r in rows[1:] if reference in r)
    return row[rows[0].index("評点（0〜100）")]


def test_a_knockout_refuses_the_award_until_moderated_away(client, auth, session, make_user):
    # first review 80.00; second 80 − 15·4/5 (sustain 0) − 15·2/5 (goal 2) = 62.00: mean 71.00,
    # spread 18.00 (within 20) but a knockout: flagged
    application = _reviewed(client, auth, session, make_user, {SUSTAIN: 0, GOAL: 2})
    url = f"/manage/applications/{application.id}"
    page = client.get(url)
    assert "評点の調整が必要です。" in page.text and "71.00" in page.text
    assert "足切り項目に該当しているため、この申請は不採択としか決定できません。" in page.text

    refused = client.post(f"{url}/decide", data={
        "outcome": "award", "amount_yen": "3,000,000", "rationale": "地域の課題に即した計画。"})
    assert refused.status_code == 422
    assert "足切り項目（「金の切れ目」後の事業継続）に該当するため、採択できません" in refused.text
    assert "地域の課題に即した計画。" in refused.text and 'value="3,000,000"' in refused.text
    assert session.scalar(sa.select(Decision).filter_by(application_id=application.id)) is None

    # sustain moderated to 3: 80 − 3 = 77.00 and 62 + 9 = 71.00: mean 74.00 (the lower of the
    # two reviewers' goal ratings would have given 71.00)
    moderated = client.post(f"{url}/moderate", data={
        "criterion_id": SUSTAIN, "score": "3", "rationale": "維持管理費の負担者が明記されている。"})
    assert moderated.status_code == 303
    page = client.get(url)
    assert "調整後の合計点：74.00" in page.text
    assert "調整済み" in page.text and "評点の調整が必要です。" not in page.text
    assert _ranking_score(client, application.reference) == "74.00"
    ranking = client.get(f"/manage/calls/{KEY}/ranking")
    assert "74.00" in ranking.text and "要調整" not in ranking.text

    awarded = client.post(f"{url}/decide", data={
        "outcome": "award", "amount_yen": "3,999,999", "rationale": "地域の課題に即した計画。"},
        follow_redirects=True)
    assert awarded.status_code == 200
    assert "交付決定額 ¥3,999,000" in awarded.text and "申請額 ¥4,000,000" in awarded.text
    assert "入力された金額 ¥3,999,999 は、¥1,000 単位に切り捨てました。" in awarded.text
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    assert (decision.outcome, decision.amount_yen) == (Outcome.AWARD, 3_999_000)


def test_a_moderation_that_brings_in_a_knockout_leaves_only_rejection(
        client, auth, session, make_user):
    application = _reviewed(client, auth, session, make_user, {})
    url = f"/manage/applications/{application.id}"
    client.post(f"{url}/moderate", data={
        "criterion_id": SUSTAIN, "score": "0", "rationale": "交付終了後の運営費の負担者がいない。"})

    page = client.get(url)
    assert "足切り項目に該当: 「金の切れ目」後の事業継続。この申請は採択できません。" in page.text
    ranking = client.get(f"/manage/calls/{KEY}/ranking")
    assert "対象外（足切り）" in ranking.text and "68.00" in ranking.text  # 80 − 15·4/5
    refused = client.post(f"{url}/decide", data={
        "outcome": "award", "amount_yen": "", "rationale": "採択"})
    assert refused.status_code == 422
    rejected = client.post(f"{url}/decide", data={
        "outcome": "reject", "amount_yen": "", "rationale": "事業の継続性が確認できない。"})
    assert rejected.status_code == 303
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    assert (decision.outcome, decision.amount_yen) == (Outcome.REJECT, None)


def test_a_shared_comment_shows_without_criterion_comments(client, auth, session, make_user):
    application = _reviewed(client, auth, session, make_user, {}, shared="計画は具体的です。")

    page = client.get(f"/manage/applications/{application.id}")

    assert "計画は具体的です。" in page.text
