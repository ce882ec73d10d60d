"""One funded application, read-only: its page (summary, decision, snapshot hash, attachments
with their SHA-256) and its audit record PDF, whose every download is an audit event.

The record comes from the real `grants.documents.record.audit_record_pdf`.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import AuditEvent
from grants.services.audit import AuditTag, verify
from tests.web.reviewflow import submit_application
from tests.web.test_audit_search import fund, organization


def _funded(client, auth, session, make_user):
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    funded = fund(session, template, officer, reference="AUD-R", amount=12_340_000,
                  organization=organization(session, "千代田区", "131016"),
                  partners=["012335", "072133"])
    session.commit()
    return funded


def test_funded_application_page_shows_decision_snapshot_and_attachments(
        client, auth, session, make_user):
    funded = _funded(client, auth, session, make_user)
    auth.sign_in(make_user(Role.AUDITOR))
    page = client.get(f"/audit/applications/{funded.id}")
    assert page.status_code == 200
    text = page.text
    snapshot = json.loads(funded.submissions[-1].snapshot)
    assert "AUD-R" in text and "千代田区" in text and "東京都" in text
    assert "¥12,340,000" in text and "AUD-R の交付決定理由" in text
    assert funded.submissions[-1].snapshot_sha256 in text
    assert snapshot["program"]["version_sha256"] in text
    assert "北海道 伊達市" in text and "福島県 伊達市" in text  # the partners, by prefecture
    assert snapshot["attachments"]
    for attachment in snapshot["attachments"]:
        assert attachment["filename"] in text and attachment["sha256"] in text
    assert f"/audit/applications/{funded.id}/record.pdf" in text
    assert "<form" not in text.split('<main', 1)[1].split("</main>", 1)[0]  # nothing to change


def test_record_download_is_a_pdf_and_an_audit_event(client, auth, session, make_user):
    funded = _funded(client, auth, session, make_user)
    auditor = make_user(Role.AUDITOR)
    auth.sign_in(auditor)
    response = client.get(f"/audit/applications/{funded.id}/record.pdf")
    assert response.status_code == 200, response.text[:2000]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == 'attachment; filename="AUD-R.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    event = session.scalar(sa.select(AuditEvent).filter_by(tag=AuditTag.RECORD_DOWNLOAD.value))
    assert event is not None
    assert event.actor_id == auditor.id
    assert (event.subject_type, event.subject_id) == ("application", funded.id)
    assert event.data["application_ids"] == [funded.id]
    assert event.data["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert verify(session).broken is None

    client.get(f"/audit/applications/{funded.id}/record.pdf")
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
        tag=AuditTag.RECORD_DOWNLOAD.value)) == 2
