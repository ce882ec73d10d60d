"""Thresholds and half-marks through the pages: a rubric with `step: 0.5` and a minimum of 3 on
each criterion. Reviewers enter 2.5 (stored exactly); an application whose moderated mean on a
criterion is 2.5 is "not fundable" on the ranking page and in the CSV, with the reason; the
officer cannot award it until moderation to exactly 3 makes it rankable again."""

from __future__ import annotations

import csv
import hashlib
import io

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import Assignment, Decision, Review, Rubric, RubricVersion
from tests.conftest import NOW
from tests.web.reviewflow import KEY, add_to_call, review_form, rubric_for, submit_application

GOAL = "goal_ict_as_means"
RUBRIC_KEY = "regional-ict-utilization"


def _with_half_marks_and_thresholds(session) -> None:
    """Make the call's rubric allow half-marks and require 3 on each criterion (a new version,
    current before any review pins one)."""
    head = session.get(Rubric, RUBRIC_KEY)
    text = (head.current_version.source_text
            .replace("scale:\n  levels:", "scale:\n  step: 0.5\n  levels:", 1)
            .replace("\nsections:\n", "\nthresholds:\n  each_criterion: 3\nsections:\n", 1))
    version = RubricVersion(rubric_key=RUBRIC_KEY, source_text=text, loaded_at=NOW,
                            sha256=hashlib.sha256(text.encode()).hexdigest(),
                            source_name=head.current_version.source_name)
    session.add(version)
    session.flush()
    head.current_version_id = version.id
    session.commit()


def _ranking_row(client, reference):
    exported = client.get(f"/manage/calls/{KEY}/ranking.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    return dict(zip(rows[0], next(r for r in rows[1:] if reference in r), strict=True))


def test_half_marks_and_a_missed_minimum_through_the_pages(client, auth, session, make_user):
    _with_half_marks_and_thresholds(session)
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    reviewers = [make_user(Role.REVIEWER) for _ in range(2)]
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/accept").status_code == 303
    for reviewer in reviewers:
        add_to_call(session, reviewer)
        assert client.post(f"/manage/applications/{application.id}/assign",
                           data={"reviewer_id": str(reviewer.id)}).status_code == 303
    auth.sign_out()
    rubric = rubric_for(session, application)
    assert rubric.scale.step == 0.5

    # Both reviewers give 2.5 on the goal (a half-mark), 4 elsewhere; one tries 2.3 first.
    for n, reviewer in enumerate(reviewers):
        assignment = session.scalar(sa.select(Assignment).filter_by(
            application_id=application.id, reviewer_id=reviewer.id))
        auth.sign_in(reviewer)
        page = client.get(f"/review/assignments/{assignment.id}")
        assert 'value="2.5"' in page.text and 'value="4.5"' in page.text
        data = review_form(rubric, page.text, 4, action="submit")
        if n == 0:
            refused = client.post(f"/review/assignments/{assignment.id}",
                                  data={**data, f"s_{GOAL}": "2.3"})
            assert refused.status_code == 422
            data = review_form(rubric, refused.text, 4, action="submit")
        submitted = client.post(f"/review/assignments/{assignment.id}",
                                data={**data, f"s_{GOAL}": "2.5"})
        assert submitted.status_code == 303, submitted.text[:2000]
        auth.sign_out()
    ratings = session.scalars(sa.select(Review.ratings).join(Review.assignment).where(
        Assignment.application_id == application.id)).all()
    assert [r[GOAL] for r in ratings] == [2.5, 2.5] and ratings[0]["budget_driven"] == 4

    # The moderated mean on the goal is 2.5, under the minimum of 3: not fundable, with why.
    auth.sign_in(officer)
    page = client.get(f"/manage/calls/{KEY}/ranking").text
    reason = "「目標の具体性・現実性（ICTは手段か）」の評点 2.5 が最低点 3 に達していません。"
    assert reason in page and "最低点未満" in page
    row = _ranking_row(client, application.reference)
    assert row["順位"] == "" and row["最低点に達しない項目"] == reason

    # An award is refused while the minimum is missed, with the reason; nothing is decided.
    refused = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "", "rationale": "採択"})
    assert refused.status_code == 422
    assert "評価基準の最低点" in refused.text and reason in refused.text
    assert session.scalar(sa.select(Decision).filter_by(application_id=application.id)) is None

    # Moderated to exactly 3: the minimum is reached, the application is ranked again.
    moderated = client.post(f"/manage/applications/{application.id}/moderate", data={
        "criterion_id": GOAL, "score": "3", "rationale": "目標の具体性を確認した。"})
    assert moderated.status_code == 303
    row = _ranking_row(client, application.reference)
    assert row["順位"] == "1" and row["最低点に達しない項目"] == ""
    assert "最低点 3 に達していません" not in client.get(f"/manage/calls/{KEY}/ranking").text
