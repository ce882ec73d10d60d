"""The evaluation summary through the pages: the decision e-mail links it, the applicant
organization's members download it (nobody else's), staff and auditors as the record allows;
and the ranking marks exact ties, at the budget line too, on the page and in the CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import pypdf
import sqlalchemy as sa

from grants import emails
from grants.domain.workflow import Role
from grants.models import (
    Assignment,
    OutboxMessage,
    Outcome,
    Program,
    ProgramVersion,
    Review,
    ReviewState,
)
from grants.services.reviewing import rubric_version_for
from tests.conftest import NOW
from tests.web.consensus_helpers import approved, rank_by_consensus, reviewed
from tests.web.reviewflow import (
    KEY,
    clone_in_review,
    in_review,
    rubric_for,
    submit_application,
    submit_review,
)
from tests.web.test_audit_search import fund

SHARED = ("共有：計画の根拠が明確です。", "共有：運用体制を具体的に示してください。")


def _url(application) -> str:
    return f"/applications/{application.id}/evaluation-summary.pdf"


def _pdf_text(response) -> str:
    pages = pypdf.PdfReader(io.BytesIO(response.data)).pages
    return "".join(page.extract_text() for page in pages).replace("\n", "")


def test_the_decision_email_links_the_summary_only_its_organization_downloads(
        app, client, auth, session, make_user):
    application, officer, reviewers = in_review(client, auth, session, make_user, reviewers=2)
    for reviewer, score, shared in zip(reviewers, (4, 3), SHARED, strict=True):
        assert submit_review(client, auth, session, application, reviewer, score,
                             shared=shared).status_code == 303
    applicant = application.created_by
    auth.sign_in(applicant)
    assert client.get(_url(application)).status_code == 404  # not decided: no summary yet
    assert "評価結果通知" not in client.get(f"/applications/{application.id}").text
    auth.sign_out()

    auth.sign_in(officer)
    decided = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "reject", "amount_yen": "", "rationale": "予算の範囲で優先度が低い。"})
    assert decided.status_code == 303, decided.text[:2000]
    assert client.get(_url(application)).status_code == 200  # the program office
    auth.sign_out()

    with app.test_request_context():
        link = emails.absolute_url("summary.download", application_id=application.id)
    assert link.startswith("http") and link.endswith(_url(application))
    mail = session.scalars(sa.select(OutboxMessage).filter_by(
        application_id=application.id, to_address=applicant.email)
        .order_by(OutboxMessage.id.desc())).first()
    assert f"申請 {application.reference} は不採択となりました。" in mail.body
    assert "評価結果通知" in mail.body and link in mail.body

    auth.sign_in(applicant)
    page = client.get(f"/applications/{application.id}")
    assert f'href="{_url(application)}"' in page.text and "評価結果通知をダウンロード" in page.text
    download = client.get(_url(application))
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download.headers["Cache-Control"]
    text = _pdf_text(download)
    assert application.reference in text and "評価結果通知" in text
    for shared in SHARED:
        assert shared in text
    for reviewer in reviewers:
        assert reviewer.display_name not in text and reviewer.email not in text
    auth.sign_out()

    # Another active member of the same organization may; nobody outside it may.
    colleague = make_user(Role.APPLICANT, organization=applicant.organization)
    auth.sign_in(colleague)
    assert client.get(_url(application)).status_code == 200
    auth.sign_out()
    for outsider, status in ((make_user(Role.APPLICANT, lg_code="131016"), 404),
                             (make_user(Role.AUDITOR), 404),  # not funded: not in the record
                             (reviewers[0], 403)):
        auth.sign_in(outsider)
        response = client.get(_url(application))
        assert response.status_code == status, outsider.email
        assert application.reference not in response.get_data(as_text=True)
        auth.sign_out()


def test_an_auditor_downloads_a_funded_applications_summary(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    funded = fund(session, template, officer, reference="SUM-F", amount=2_000_000)
    rejected = fund(session, template, officer, reference="SUM-R", amount=None,
                    outcome=Outcome.REJECT)
    session.commit()
    auth.sign_in(make_user(Role.AUDITOR))

    download = client.get(_url(funded))
    assert download.status_code == 200
    text = _pdf_text(download)
    assert "SUM-F" in text and "¥2,000,000" in text
    assert "この決定には順位帯が記録されていません。" in text  # decided before bands were kept
    assert client.get(_url(rejected)).status_code == 404
    assert client.get("/applications/987654/evaluation-summary.pdf").status_code == 404


def test_where_the_rubric_ranks_by_consensus_the_summary_gives_the_consensus(
        client, auth, session, make_user):
    rank_by_consensus(session)
    application, officer, people = reviewed(client, auth, session, make_user, scores=(4, 3))
    rubric = rubric_for(session, application)
    approved(client, auth, session, application, officer, people, rubric, score="3.5")
    auth.sign_in(officer)
    assert client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": "1,000,000",
        "rationale": "合議の評点により採択する。"}).status_code == 303
    auth.sign_out()

    auth.sign_in(application.created_by)
    text = _pdf_text(client.get(_url(application)))

    assert "評価者の合議結果" in text and "全体として妥当な計画である。" in text
    assert text.count("審査員の合意による評価。") == len(rubric.criteria())
    for criterion in rubric.criteria():  # the consensus score, not the reviews' mean
        line = f"{criterion.title.ja} ×{criterion.weight} 3.5"
        assert re.search(re.escape(line) + r"(?![\d.])", text.replace("足切り ", "")), line
    assert "採択（交付決定額：¥1,000,000）" in text
    assert "上位50％超" in text  # the only application ranked
    for reviewer in people:
        assert reviewer.display_name not in text and reviewer.email not in text


# --- ties on the ranking ------------------------------------------------------------------------


def _budget(session, yen: int) -> None:
    """A new current version of the call with a budget of `yen` (the ranking reads it)."""
    program = session.get(Program, KEY)
    current = program.current_version
    text = current.source_text.replace("budget_yen: 10000000000", f"budget_yen: {yen}", 1)
    assert text != current.source_text
    version = ProgramVersion(program_key=KEY, source_text=text, source_name=current.source_name,
                             sha256=hashlib.sha256(text.encode()).hexdigest(), loaded_at=NOW)
    session.add(version)
    session.flush()
    program.current_version_id = version.id
    session.commit()


def _review(session, application, reviewer, rubric, version_id: int, score: int) -> None:
    assignment = Assignment(application_id=application.id, reviewer_id=reviewer.id,
                            assigned_at=NOW, assigned_by_id=reviewer.id)
    assignment.review = Review(rubric_version_id=version_id,
                               ratings={c.id: score for c in rubric.criteria()},
                               comments={c.id: "根拠あり" for c in rubric.criteria()},
                               state=ReviewState.SUBMITTED, updated_at=NOW, submitted_at=NOW)
    session.add(assignment)


def test_ties_at_the_budget_line_are_marked_on_the_ranking_and_in_the_csv(
        client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    tied_first, tied_second, best = clone_in_review(session, template, 3)
    rubric, version_id = rubric_for(session, template), rubric_version_for(session, template).id
    reviewer = make_user(Role.REVIEWER)
    for application, score in ((tied_first, 4), (tied_second, 4), (best, 5)):
        _review(session, application, reviewer, rubric, version_id, score)
    session.commit()
    _budget(session, 10_000_000)  # ¥4,000,000 each: the best and one tied fit, not the other
    auth.sign_in(make_user(Role.OFFICER))

    page = client.get(f"/manage/calls/{KEY}/ranking")

    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    note = "予算の線上で同点。受付番号の順で順位を付けました。"  # same request, same time
    assert text.count(note) == 2
    assert "この線の前後の申請は評点が同点です。" in text
    rows = {ref: row for row in re.findall(r"<tr class=\"(?:fits|over)\">.*?</tr>", text)
            for ref in (tied_first.reference, tied_second.reference, best.reference)
            if ref in row}
    assert note in rows[tied_first.reference] and note in rows[tied_second.reference]
    assert "同点" not in rows[best.reference]
    assert rows[tied_first.reference].startswith('<tr class="fits">')
    assert rows[tied_second.reference].startswith('<tr class="over">')

    exported = client.get(f"/manage/calls/{KEY}/ranking.csv").data.decode("utf-8-sig")
    header, *lines = csv.reader(io.StringIO(exported))
    assert header[-1] == "同点の扱い"
    last = {line[header.index("受付番号")]: line[-1] for line in lines}
    assert last == {best.reference: "", tied_first.reference: note, tied_second.reference: note}


def test_a_tie_above_the_line_is_marked_without_the_line(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    first, second = clone_in_review(session, template, 2)
    rubric, version_id = rubric_for(session, template), rubric_version_for(session, template).id
    reviewer = make_user(Role.REVIEWER)
    for application in (first, second):
        _review(session, application, reviewer, rubric, version_id, 3)
    session.commit()
    auth.sign_in(make_user(Role.OFFICER))
    text = re.sub(r"\s+", " ", client.get(f"/manage/calls/{KEY}/ranking").text)
    assert text.count("同点。受付番号の順で順位を付けました。") == 2
    assert "予算の線上" not in text and "この線の前後" not in text
