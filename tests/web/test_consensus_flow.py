"""The consensus report through the pages: the officer names a rapporteur among the counted
reviewers, the rapporteur drafts (half-marks) and circulates, the others agree or dissent with a
visible reason, the officer approves or sends back; with `ranking_score: consensus` the approved
report's scores rank and decide, and after the decision nothing changes it."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import ConsensusReport, ConsensusState
from grants.services import counting
from grants.services.consensus import approved_consensus
from tests.web.consensus_helpers import approved, draft, rank_by_consensus, reviewed, tags
from tests.web.reviewflow import KEY, rubric_for, submit_review


def _score_in_ranking(client, reference):
    exported = client.get(f"/manage/calls/{KEY}/ranking.csv")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    row = next(r for r in rows[1:] if reference in r)
    return row[rows[0].index("評点（0〜100）")]


def _report(session, application):
    session.expire_all()
    return session.scalar(sa.select(ConsensusReport).filter_by(application_id=application.id))


def test_the_consensus_report_from_naming_to_approval_ranks_the_application(
        client, auth, session, make_user):
    rank_by_consensus(session)
    application, officer, (rapporteur, agreeing, dissenting) = reviewed(
        client, auth, session, make_user)
    rubric = rubric_for(session, application)
    manage = f"/manage/applications/{application.id}"
    url = f"/review/applications/{application.id}/consensus"

    # Without an approved consensus the application is unscored in this mode.
    auth.sign_in(officer)
    assert _score_in_ranking(client, application.reference) == ""
    page = client.get(manage)
    assert 'id="consensus"' in page.text
    stranger = make_user(Role.REVIEWER)
    refused = client.post(f"{manage}/consensus/rapporteur", data={"reviewer_id": str(stranger.id)},
                          follow_redirects=True)
    assert _report(session, application) is None and refused.status_code == 200
    assert client.post(f"{manage}/consensus/rapporteur",
                       data={"reviewer_id": str(rapporteur.id)}).status_code == 303
    auth.sign_out()

    # Another reviewer sees the draft but cannot edit it, nor answer before it is circulated.
    auth.sign_in(agreeing)
    assert client.get(url).status_code == 200
    assert client.post(url, data=draft(rubric, "4")).status_code == 403
    assert client.post(f"{url}/response", data={"answer": "agree"}).status_code == 409
    auth.sign_out()

    # The rapporteur: the individual scores beside each criterion; an incomplete draft is not
    # circulated and the answers stay; a half-mark is kept exactly.
    auth.sign_in(rapporteur)
    page = client.get(url)
    assert page.status_code == 200 and 'name="s_' in page.text and 'value="3.5"' in page.text
    incomplete = draft(rubric, "3.5", overall="\u200b")
    response = client.post(url, data=incomplete)
    assert response.status_code == 422
    assert "全体のコメントを入力してください。" in response.text
    assert "審査員の合意による評価。" in response.text
    assert _report(session, application).state is ConsensusState.DRAFTING
    off_scale = draft(rubric, "3.3", action="save")
    assert client.post(url, data=off_scale).status_code == 422
    assert client.post(url, data=draft(rubric, "3.5")).status_code == 303
    report = _report(session, application)
    assert report.state is ConsensusState.CIRCULATED
    assert set(report.scores.values()) == {3.5}
    assert client.post(f"{url}/response", data={"answer": "agree"}).status_code == 403
    auth.sign_out()

    auth.sign_in(agreeing)
    assert client.post(f"{url}/response", data={"answer": "agree"}).status_code == 303
    auth.sign_out()

    # Approval waits for every counted reviewer's answer.
    auth.sign_in(officer)
    waiting = client.post(f"{manage}/consensus/approve", follow_redirects=True)
    assert dissenting.display_name in waiting.text
    assert _report(session, application).state is ConsensusState.CIRCULATED
    auth.sign_out()

    auth.sign_in(dissenting)
    blank = client.post(f"{url}/response", data={"answer": "dissent", "reason": "\u3000\u200b"})
    assert blank.status_code == 422
    assert client.post(f"{url}/response", data={
        "answer": "dissent", "reason": "持続性の評価が高すぎる。"}).status_code == 303
    auth.sign_out()

    auth.sign_in(officer)
    assert client.post(f"{manage}/consensus/approve").status_code == 303
    report = _report(session, application)
    assert report.state is ConsensusState.APPROVED
    consensus = approved_consensus(session, application)
    assert consensus is not None and consensus.overall_comment == "全体として妥当な計画である。"
    scores = counting.application_scores(session, application)
    assert scores.total == scores.consensus_card.total != scores.aggregate.mean
    assert _score_in_ranking(client, application.reference) == str(scores.total)
    page = client.get(manage)
    assert "持続性の評価が高すぎる。" in page.text
    auth.sign_out()

    assert tags(session, application)[-5:] == [
        "manage:consensus:rapporteur", "review:consensus:circulate", "review:consensus:agree",
        "review:consensus:dissent", "manage:consensus:approve"]


def test_sending_back_clears_the_answers_and_a_decision_freezes_the_report(
        client, auth, session, make_user):
    rank_by_consensus(session)
    application, officer, people = reviewed(client, auth, session, make_user, scores=(4, 4))
    rubric = rubric_for(session, application)
    manage = f"/manage/applications/{application.id}"
    url = f"/review/applications/{application.id}/consensus"
    auth.sign_in(officer)
    client.post(f"{manage}/consensus/rapporteur", data={"reviewer_id": str(people[0].id)})
    auth.sign_out()
    auth.sign_in(people[0])
    client.post(url, data=draft(rubric, "4"))
    auth.sign_out()
    auth.sign_in(people[1])
    client.post(f"{url}/response", data={"answer": "agree"})
    auth.sign_out()

    auth.sign_in(officer)
    client.post(f"{manage}/consensus/send-back", data={"note": " \u200b "})
    assert _report(session, application).state is ConsensusState.CIRCULATED
    assert client.post(f"{manage}/consensus/send-back",
                       data={"note": "根拠を具体的に。"}).status_code == 303
    report = _report(session, application)
    assert report.state is ConsensusState.DRAFTING and report.responses == []
    assert report.returned_note == "根拠を具体的に。"
    auth.sign_out()

    approved(client, auth, session, application, officer, people, rubric, score="4")
    auth.sign_in(officer)
    assert client.post(f"{manage}/decide", data={
        "outcome": "reject", "amount_yen": "", "rationale": "予算の範囲外。"}).status_code == 303
    before = _report(session, application)
    assert client.post(f"{manage}/consensus/send-back",
                       data={"note": "やり直し。"}).status_code == 303
    assert client.post(f"{manage}/consensus/rapporteur",
                       data={"reviewer_id": str(people[1].id)}).status_code == 303
    after = _report(session, application)
    assert after.state is ConsensusState.APPROVED and after.rapporteur_id == people[0].id
    assert before.updated_at == after.updated_at
    auth.sign_out()
    auth.sign_in(people[0])
    assert client.post(url, data=draft(rubric, "1")).status_code == 409
    assert "決定済み" in client.get(url).text
    auth.sign_out()


def test_in_consensus_mode_an_award_waits_for_an_approved_consensus(
        client, auth, session, make_user):
    rank_by_consensus(session)
    application, officer, _ = reviewed(client, auth, session, make_user, scores=(4, 4))
    auth.sign_in(officer)
    refused = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "", "rationale": "優れた計画。"})
    assert refused.status_code == 422
    assert "合意報告" in refused.text
    auth.sign_out()


def test_in_consensus_mode_knockouts_are_judged_on_the_consensus_scores(
        client, auth, session, make_user):
    rank_by_consensus(session)
    application, officer, people = reviewed(client, auth, session, make_user, scores=(4, 4))
    rubric = rubric_for(session, application)
    before = counting.application_scores(session, application)
    assert before.knockouts == () and before.total is None  # unscored, no knockout yet
    approved(client, auth, session, application, officer, people, rubric, score="0")
    scores = counting.application_scores(session, application)
    assert scores.knockouts and scores.aggregate.mean is not None
    assert all(not card.knockouts for _, card in scores.reviews)  # the reviewers' had none
    assert {u.criterion_id for u in scores.unmet} <= {c.id for c in rubric.criteria()}
    auth.sign_in(officer)
    refused = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "", "rationale": "優れた計画。"})
    assert refused.status_code == 422 and "足切り" in refused.text
    auth.sign_out()


def test_in_mean_mode_moderation_moves_nothing(client, auth, session, make_user):
    rank_by_consensus(session, "mean")
    application, officer, _ = reviewed(client, auth, session, make_user, scores=(4, 2))
    rubric = rubric_for(session, application)
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/moderate", data={
        "criterion_id": rubric.criteria()[0].id, "score": "0",
        "rationale": "根拠を比較した。"}).status_code == 303
    scores = counting.application_scores(session, application)
    assert scores.moderated is not None and scores.moderated.total != scores.aggregate.mean
    assert scores.total == scores.aggregate.mean
    assert _score_in_ranking(client, application.reference) == str(scores.aggregate.mean)
    auth.sign_out()


def test_a_reopened_review_unscores_the_approved_consensus_until_it_is_redone(
        client, auth, session, make_user):
    rank_by_consensus(session)
    application, officer, people = reviewed(client, auth, session, make_user, scores=(4, 4))
    rubric = rubric_for(session, application)
    approved(client, auth, session, application, officer, people, rubric, score="4")
    assert counting.application_scores(session, application).total is not None
    manage = f"/manage/applications/{application.id}"
    second = counting.counted_reviews(session, application).reviews[1]
    auth.sign_in(officer)
    assert client.post(f"{manage}/reviews/{second.id}/reopen",
                       data={"note": "根拠を補ってください。"}).status_code == 303
    auth.sign_out()
    session.expire_all()
    assert approved_consensus(session, application) is None
    assert submit_review(client, auth, session, application, people[1], 3).status_code == 303
    session.expire_all()
    assert approved_consensus(session, application) is None  # resubmitted: not what it rested on
    assert counting.application_scores(session, application).total is None
    auth.sign_in(officer)
    assert "回付後に有効な評価が変わりました" in client.get(manage).text
    assert client.post(f"{manage}/consensus/send-back",
                       data={"note": "再提出された評価を反映してください。"}).status_code == 303
    report = _report(session, application)
    assert report.state is ConsensusState.DRAFTING and report.approved_at is None
    auth.sign_out()
