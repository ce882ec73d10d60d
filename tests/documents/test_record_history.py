"""The audit record prints every submitted version of each review and the reviews withdrawn from
the scores, with the reason; its aggregate counts only the reviews that count."""

from __future__ import annotations

import io

import pypdf

from grants.documents.record import audit_record_pdf
from grants.domain.workflow import Role
from grants.models import Outcome
from grants.services import assign, decide, reviewing, screening
from tests.conftest import NOW
from tests.web.reviewflow import add_to_call, rubric_for, submit_application

REASON = "評価者が申請団体の外部委員を務めていることが判明した。"


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return "".join(page.extract_text() for page in pages).replace("\n", "")


def _submitted(session, application, reviewer, officer, score, comment):
    assignment = assign.assign(session, application, reviewer, actor=officer, now=NOW)
    review = reviewing.open_review(session, assignment, now=NOW)
    rubric = rubric_for(session, application)
    reviewing.save(session, review, ratings={c.id: score for c in rubric.criteria()},
                   comments={c.id: comment for c in rubric.criteria()},
                   comment_for_applicant=None, expected_version=review.lock_version, now=NOW)
    reviewing.submit(session, review, actor=reviewer, now=NOW)
    return assignment, review


def test_record_prints_review_versions_and_withdrawn_reviews(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    screening.accept(session, application, actor=officer, now=NOW)
    rubric = rubric_for(session, application)
    kept, withdrawn = make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    for reviewer in (kept, withdrawn):
        add_to_call(session, reviewer)
    _, review = _submitted(session, application, kept, officer, 4, "初版の講評")
    reviewing.reopen(session, review, "予算の妥当性を再確認してください。", actor=officer,
                     now=NOW)
    changed = rubric.criteria()[0]
    ratings = {**review.ratings, changed.id: 2}
    reviewing.save(session, review, ratings=ratings,
                   comments={**review.comments, changed.id: "第二版の講評"},
                   comment_for_applicant=None, expected_version=review.lock_version, now=NOW)
    reviewing.submit(session, review, actor=kept, now=NOW)
    ended, _ = _submitted(session, application, withdrawn, officer, 1, "除外される講評")
    assign.withdraw(session, ended, REASON, actor=officer, now=NOW)
    decide.decide(session, application, outcome=Outcome.REJECT, amount_yen=None,
                  rationale="継続性が確認できない。", actor=officer, now=NOW)
    session.commit()

    text = _text(audit_record_pdf(session, application, now=NOW))

    assert "提出済みの評価：1件" in text  # the aggregate counts the kept review only
    assert "集計から除外した評価" in text and REASON in text
    assert f"{withdrawn.display_name} さん" in text
    assert "評価の履歴" in text and "第1版" in text and "第2版" in text
    assert "初版の講評" in text and "第二版の講評" in text
    assert "事務局からの再評価の依頼：予算の妥当性を再確認してください。" in text
    assert "利害関係による割当ての終了" in text  # the audit event, in words
