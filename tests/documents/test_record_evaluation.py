"""The audit record prints the consensus report (its scores, comments and the reviewers'
answers) and every evaluation review with its finding and the decision it set aside."""

from __future__ import annotations

from grants.documents.record import audit_record_pdf
from grants.domain.workflow import Role
from grants.models import Outcome, RedressGround
from grants.services import assign, consensus, decide, redress, reviewing, screening
from tests.conftest import NOW
from tests.documents.test_record_labels import _lines
from tests.web.reviewflow import add_to_call, rubric_for, submit_application


def _reviewed(client, auth, session, make_user):
    """An application in review with two submitted reviews, by the services."""
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    screening.accept(session, application, actor=officer, now=NOW)
    rubric = rubric_for(session, application)
    reviewers = []
    for score in (rubric.scale.max, rubric.scale.max - 2):
        reviewer = make_user(Role.REVIEWER)
        add_to_call(session, reviewer)
        review = reviewing.open_review(
            session, assign.assign(session, application, reviewer, actor=officer, now=NOW),
            now=NOW)
        reviewing.save(session, review, ratings={c.id: score for c in rubric.criteria()},
                       comments={c.id: "根拠を確認した。" for c in rubric.criteria()},
                       comment_for_applicant=None, expected_version=review.lock_version, now=NOW)
        reviewing.submit(session, review, actor=reviewer, now=NOW)
        reviewers.append(reviewer)
    return application, officer, reviewers


def _with_consensus(session, application, officer, reviewers):
    rapporteur, other = reviewers
    rubric = rubric_for(session, application)
    report = consensus.name_rapporteur(session, application, rapporteur, actor=officer,
                                       now=NOW)
    consensus.save_draft(session, report, scores=dict.fromkeys(
        (c.id for c in rubric.criteria()), 4), comments={c.id: f"合意コメント{c.id}"
                                                        for c in rubric.criteria()},
        overall_comment="全体として地域課題に即している。", actor=rapporteur, now=NOW)
    consensus.circulate(session, report, actor=rapporteur, now=NOW)
    consensus.respond(session, report, other, agrees=False, reason="持続性の評点が高すぎる。",
                      now=NOW)
    consensus.approve(session, report, actor=officer, now=NOW)
    return report


def test_the_record_prints_the_consensus_and_the_evaluation_review(
        client, auth, session, make_user):
    application, officer, reviewers = _reviewed(client, auth, session, make_user)
    _with_consensus(session, application, officer, reviewers)
    decide.decide(session, application, outcome=Outcome.REJECT, amount_yen=None,
                  rationale="予算の範囲外。", actor=officer, now=NOW)
    request = redress.request_review(
        session, application, ground=RedressGround.CRITERION_NOT_APPLIED,
        description="持続性の評価項目が適用されていません。", actor=application.created_by, now=NOW)
    redress.uphold(session, request, "評価項目の適用漏れを認める。", actor=officer, now=NOW)
    session.commit()

    text = "\n".join(_lines(audit_record_pdf(session, application, now=NOW)))
    for expected in ("合意報告", "全体として地域課題に即している。", "持続性の評点が高すぎる。",
                     "評価の再審査の申出を認容", "持続性の評価項目が適用されていません。",
                     "評価項目の適用漏れを認める。", "取り消された決定", "予算の範囲外。",
                     "公募の評価項目が適用されなかった", "合意報告の承認", "不同意"):
        assert expected in text, expected
