"""Every submitted version of a review is kept: reopening and submitting again adds a version and
never overwrites the first, and the officer sees the versions with what changed."""

from __future__ import annotations

import re

import sqlalchemy as sa

from grants.models import AuditEvent, ReviewVersion
from tests.web.reviewflow import assignment_of, in_review, rubric_for, submit_review


def test_a_reopened_review_keeps_its_first_version_and_shows_the_changes(
        client, auth, session, make_user):
    application, officer, (reviewer,) = in_review(client, auth, session, make_user, reviewers=1)
    rubric = rubric_for(session, application)
    changed = rubric.criteria()[1]
    first_form = {"comment": "初回の根拠コメント", "shared": "初回の共有コメント"}
    assert submit_review(client, auth, session, application, reviewer, 4,
                         **first_form).status_code == 303
    review = assignment_of(session, application, reviewer).review
    first_total = review.total

    auth.sign_in(officer)
    url = f"/manage/applications/{application.id}"
    assert client.post(f"{url}/reviews/{review.id}/reopen",
                       data={"note": "持続性を再確認してください。"}).status_code == 303
    auth.sign_out()
    assert submit_review(client, auth, session, application, reviewer, 4, **first_form,
                         **{f"s_{changed.id}": "2", f"c_{changed.id}": "再評価の根拠コメント"}
                         ).status_code == 303

    session.expire_all()
    first, second = session.scalars(sa.select(ReviewVersion).filter_by(review_id=review.id)
                                    .order_by(ReviewVersion.number)).all()
    assert (first.number, second.number) == (1, 2)
    assert set(first.ratings.values()) == {4} and first.total == first_total
    assert set(first.comments.values()) == {"初回の根拠コメント"}
    assert first.reopen_note is None and second.reopen_note == "持続性を再確認してください。"
    assert second.ratings[changed.id] == 2 and second.total < first.total
    assert second.comments[changed.id] == "再評価の根拠コメント"
    assert second.submitted_at >= first.submitted_at
    submitted = session.scalars(sa.select(AuditEvent.data).where(
        AuditEvent.tag == "review:review:submit", AuditEvent.subject_id == application.id)
        .order_by(AuditEvent.id)).all()
    assert [data["version"] for data in submitted] == [1, 2]

    auth.sign_in(officer)
    page = client.get(url).text
    history = page.split('id="history"', 1)[1]
    assert "評価の履歴" in page and "2版" in history
    assert "第1版" in history and "第2版" in history
    assert "初回の根拠コメント" in history and "再評価の根拠コメント" in history
    assert "事務局からの再評価の依頼：持続性を再確認してください。" in history
    changed_cells = re.findall(r'<td class="number changed">([^<]*)<mark>変更</mark>', history)
    assert [cell.strip() for cell in changed_cells] == ["2", str(second.total)]
    assert "第2版" in page.split('id="history"', 1)[0]  # the reviewer's line says so too
