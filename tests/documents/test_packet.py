"""Review packets: the frozen application, signals, files with hashes, the applicant's PDFs
appended, every review for officers and only their own for a reviewer; downloads audited.
"""

from __future__ import annotations

import io

import pypdf
import sqlalchemy as sa

from grants.documents.packet import review_packet_pdf
from grants.models import AuditEvent
from tests.conftest import NOW
from tests.rendering.helpers import SilentServer


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_officer_packet_holds_the_submission_and_every_review(session, decided_application):
    d = decided_application
    packet = review_packet_pdf(session, d.application, d.officer, officer_view=True, now=NOW)
    text = _text(packet.pdf)
    snapshot_hash = d.application.submissions[-1].snapshot_sha256
    assert "地域雇用創造ICT絆プロジェクト" in text
    assert d.application.reference in text
    assert "¥4,000,000" in text  # the requested amount, from the budget table
    assert snapshot_hash[:32] in text.replace("\n", "")
    assert "1 /" in text  # page numbers
    for reviewer in d.reviewers:
        assert reviewer.display_name in text
        assert d.comments[reviewer.id] in text
    assert "両者の根拠を比較して調整した。" in text.replace("\n", "")  # the moderation
    assert "申請額に占める機器の割合" in text  # a signal
    pdfs = [a for a in d.application.attachments if a.mime_type == "application/pdf"]
    assert len(packet.appended) == len(pdfs) > 0 and packet.skipped == ()
    generated = len(pypdf.PdfReader(io.BytesIO(packet.pdf)).pages)
    assert generated > len(pdfs)  # the generated pages, then one page per tiny attachment
    for attachment in d.application.attachments:
        assert attachment.sha256[:24] in text.replace("\n", "")


def test_reviewer_packet_holds_no_other_reviewers_scores(session, decided_application):
    d = decided_application
    mine, theirs = d.reviewers
    text = _text(review_packet_pdf(session, d.application, mine, officer_view=False, now=NOW).pdf)
    assert d.comments[mine.id] in text
    assert d.comments[theirs.id] not in text
    assert theirs.display_name not in text
    assert "両者の根拠を比較して調整した。" not in text


def test_packet_downloads_are_audited_and_guarded(client, auth, session, decided_application,
                                                  make_user):
    d = decided_application
    mine = d.reviewers[0]
    assignment_id = next(a.id for a in _assignments(session, d) if a.reviewer_id == mine.id)
    auth.sign_in(mine)
    response = client.get(f"/review/assignments/{assignment_id}/packet.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/manage/applications/{d.application.id}/packet.pdf").status_code == 403
    other_id = next(a.id for a in _assignments(session, d) if a.reviewer_id != mine.id)
    assert client.get(f"/review/assignments/{other_id}/packet.pdf").status_code == 404
    auth.sign_out()
    auth.sign_in(d.application.created_by)
    assert client.get(f"/review/assignments/{assignment_id}/packet.pdf").status_code == 403
    assert client.get(f"/manage/applications/{d.application.id}/packet.pdf").status_code == 403
    auth.sign_out()
    auth.sign_in(d.officer)
    officer = client.get(f"/manage/applications/{d.application.id}/packet.pdf")
    assert officer.status_code == 200
    events = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.tag == "review:packet:download",
        AuditEvent.subject_id == d.application.id).order_by(AuditEvent.id)).all()
    assert [e.actor_id for e in events] == [mine.id, d.officer.id]


def _assignments(session, d):
    from grants.models import Assignment

    return session.scalars(sa.select(Assignment).filter_by(application_id=d.application.id)).all()


def test_cli_writes_the_packet(app, session, decided_application, tmp_path):
    d = decided_application
    output = tmp_path / "packet.pdf"
    result = app.test_cli_runner().invoke(
        args=["grants", "packet", d.application.reference, "-o", str(output),
              "--as", d.reviewers[0].email])
    assert result.exit_code == 0, result.output
    text = _text(output.read_bytes())
    assert d.comments[d.reviewers[0].id] in text
    assert d.comments[d.reviewers[1].id] not in text
    missing = app.test_cli_runner().invoke(args=["grants", "packet", "NOPE", "-o", str(output)])
    assert missing.exit_code != 0 and "no submitted application" in missing.output


def test_user_text_never_makes_the_renderer_fetch(client, auth, session, make_user):
    from grants.documents.record import audit_record_pdf
    from tests.documents.conftest import decided

    with SilentServer() as server:
        bait = f' <img src="{server.url}/i"> file:///etc/passwd url({server.url}/u)'
        d = decided(client, auth, session, make_user, text=bait)
        packet = review_packet_pdf(session, d.application, d.officer, officer_view=True, now=NOW)
        record = audit_record_pdf(session, d.application, now=NOW)
    assert server.requests == []
    for pdf in (packet.pdf, record):
        text = _text(pdf)
        assert "root:x:0:0" not in text  # /etc/passwd was never read into the document
        assert "file:///etc/passwd" in text  # the applicant's words are printed as words
