"""The evaluation summary PDF (評価結果通知), read back as text: the scores, minimums, knockouts,
rank band and the comments shared with the applicant are in it; no reviewer's name or e-mail,
no moderation rationale and nothing of a withdrawn review is. The audit record prints it too."""

from __future__ import annotations

import io
import re

import pypdf
from flask_babel import force_locale

from grants.documents.record import audit_record_pdf
from grants.documents.summary import evaluation_summary_pdf
from grants.domain.workflow import Role
from grants.models import Outcome
from grants.services import assign, decide, evaluation_summary, reviewing, screening
from tests.conftest import NOW
from tests.web.reviewflow import add_to_call, rubric_for, submit_application
from tests.web.test_thresholds_flow import _with_half_marks_and_thresholds

SHARED = ("共有Ａ：地域の実情に即した計画です。", "共有Ｂ：運用費の負担者を明確にしてください。")
WITHDRAWN_SHARED = "撤回Ｃ：この共有コメントは申請者に届いてはならない。"
WITHDRAWAL_REASON = "評価者Ｃが申請団体の役員であることが判明した。"
RATIONALE = "内部メモ：評価者間の差が大きいため事務局で調整した。"
PRIVATE = "評価者だけの所見：内部の検討用。"
GOAL, CONTINUATION = "goal_ict_as_means", "sustainable_after_funding"


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in pages))


def _review(session, application, officer, reviewer, ratings, shared):
    add_to_call(session, reviewer)
    assignment = assign.assign(session, application, reviewer, actor=officer, now=NOW)
    review = reviewing.open_review(session, assignment, now=NOW)
    rubric = rubric_for(session, application)
    reviewing.save(session, review, ratings=ratings,
                   comments={c.id: PRIVATE for c in rubric.criteria()},
                   comment_for_applicant=shared, expected_version=review.lock_version, now=NOW)
    reviewing.submit(session, review, actor=reviewer, now=NOW)
    return assignment


def _rejected(client, auth, session, make_user):
    """A minimum of 3 on each criterion. Two counted reviews: the goal scores 3 and 2 (a mean
    of 2.5, below the minimum), continuation 0 from one of them (a knockout); the officer
    moderates another criterion. A third review, with its own shared comment, is withdrawn
    after a conflict is found. Then the application is rejected."""
    _with_half_marks_and_thresholds(session)
    application = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    screening.accept(session, application, actor=officer, now=NOW)
    rubric = rubric_for(session, application)
    reviewers = []
    for n, name in enumerate(("審査 花子", "評価 太郎", "撤回 次郎")):
        reviewer = make_user(Role.REVIEWER, email=f"expert{n}@university.example.jp")
        reviewer.display_name = name
        reviewers.append(reviewer)
    session.commit()
    ratings = [{c.id: 4 for c in rubric.criteria()} | {GOAL: 3},
               {c.id: 4 for c in rubric.criteria()} | {GOAL: 2, CONTINUATION: 0},
               {c.id: 5 for c in rubric.criteria()}]
    assignments = [_review(session, application, officer, reviewer, rating, shared)
                   for reviewer, rating, shared in zip(reviewers, ratings,
                                                       (*SHARED, WITHDRAWN_SHARED), strict=True)]
    assign.withdraw(session, assignments[2], WITHDRAWAL_REASON, actor=officer, now=NOW)
    reviewing.moderate(session, application, "stakeholders_involved", 5, RATIONALE,
                       actor=officer, now=NOW)
    decide.decide(session, application, outcome=Outcome.REJECT, amount_yen=None,
                  rationale="最低点に達しないため不採択とする。", actor=officer, now=NOW)
    session.commit()
    return application, officer, reviewers


def test_the_summary_holds_scores_minimums_and_shared_comments_only(
        client, auth, session, make_user):
    application, officer, reviewers = _rejected(client, auth, session, make_user)
    rubric = rubric_for(session, application)

    text = _text(evaluation_summary_pdf(session, application))
    flat = text.replace("\n", "")

    assert "評価結果通知" in text and application.reference in text
    assert "不採択" in text
    title = {c.id: c.title.ja for c in rubric.criteria()}
    assert f"{title[GOAL]} ×15 2.5 3 未達" in text  # (3 + 2) / 2, below the minimum of 3
    assert f"{title['stakeholders_involved']} ×8 5 3 達成" in text  # moderated from 4 to 5
    assert f"{title[CONTINUATION]} 足切り ×15 2 3 未達" in text  # a knockout in one review
    assert f"{title['resident_centred']} ×6 4 3 達成" in text  # the withdrawn 5 is not counted
    total = evaluation_summary.summary_of(session, application).total
    assert f"合計点（0〜100） {total}" in text
    assert f"{title[GOAL]}」の評点 2.5 が最低点 3 に達していません。" in flat
    assert "該当した足切り項目" in text
    assert "順位帯\n採択の対象外（足切り項目に該当、または最低点に未達）" in text
    for comment in SHARED:
        assert comment in flat
    for reviewer in reviewers:
        assert reviewer.display_name not in flat and reviewer.email not in flat
    assert officer.display_name not in flat and officer.email not in flat
    for internal in (RATIONALE, WITHDRAWN_SHARED, WITHDRAWAL_REASON, PRIVATE, "内部メモ", "撤回"):
        assert internal not in flat, internal


def test_the_summary_is_the_same_whenever_it_is_made(client, auth, session, make_user):
    application, _officer, _reviewers = _rejected(client, auth, session, make_user)
    first = _text(evaluation_summary_pdf(session, application))
    # Another application of the call scored later changes the ranking, not this band.
    later = submit_application(client, auth, session, make_user)
    screening.accept(session, later, actor=make_user(Role.OFFICER), now=NOW)
    session.commit()
    assert _text(evaluation_summary_pdf(session, application)) == first


def test_an_award_in_english_with_its_amount_and_band(session, decided_application):
    application = decided_application.application
    summary = evaluation_summary.summary_of(session, application)
    assert summary.decision.computation["rank_band"] == "50_100"  # the only one ranked

    with force_locale("en"):
        text = _text(evaluation_summary_pdf(session, application)).replace("\n", " ")

    assert "Evaluation summary" in text and "Awarded: ¥3,500,000" in text
    assert "50–100 %" in text
    assert "No reviewer left a comment for the applicant." in text
    for reviewer in decided_application.reviewers:
        assert reviewer.display_name not in text
        assert decided_application.comments[reviewer.id] not in text  # the reviewers' own notes
    assert "両者の根拠を比較して調整した。" not in text  # the moderation rationale


def test_there_is_no_summary_before_the_decision(client, auth, session, make_user):
    application = submit_application(client, auth, session, make_user)
    assert evaluation_summary.summary_of(session, application) is None


def test_the_record_prints_the_summary_as_sent(session, decided_application):
    application = decided_application.application

    text = _text(audit_record_pdf(session, application, now=NOW)).replace("\n", "")

    assert "送付した評価結果通知" in text
    section = text[text.index("送付した評価結果通知"):]
    summary = _text(evaluation_summary_pdf(session, application)).replace("\n", "")
    for part in ("評価項目ごとの評点", "順位帯", "上位50％超",
                 "申請者あての評価者コメントはありません。"):
        assert part in section and part in summary, part
