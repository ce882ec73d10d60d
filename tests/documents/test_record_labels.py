"""The audit record's event table in words, and rubric titles quoted once."""

from __future__ import annotations

import io

import pypdf
import sqlalchemy as sa

from grants.documents.record import audit_record_pdf
from grants.models import AuditEvent
from tests.conftest import NOW
from tests.documents.conftest import decided
from tests.web.reviewflow import rubric_for


def _lines(pdf: bytes) -> list[str]:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return [line for page in pages for line in page.extract_text().splitlines()]


def test_events_are_labelled_and_tags_never_split(session, decided_application):
    application = decided_application.application
    lines = _lines(audit_record_pdf(session, application, now=NOW))
    text = "\n".join(lines)
    for label in ("申請の作成", "申請を提出しました", "審査への受理", "審査員の割当て",
                  "審査結果の提出", "評点の調整", "交付決定の記録"):
        assert label in text, label
    tags = set(session.scalars(sa.select(AuditEvent.tag).where(
        AuditEvent.subject_type == "application", AuditEvent.subject_id == application.id)))
    for tag in tags:  # each tag whole on one line, as stored
        assert any(tag in line for line in lines), tag
    assert "算定内容" in text and "理由: 両者の根拠を比較して調整した。" in text


def test_a_title_already_in_brackets_is_not_bracketed_twice(client, auth, session, make_user):
    quoted = "resident_centred"  # 「地域住民本位」
    application = decided(client, auth, session, make_user, moderated=(quoted, 2)).application
    title = rubric_for(session, application).criterion(quoted).title
    assert title.ja.startswith("「") and title.ja.endswith("」")
    text = "".join(_lines(audit_record_pdf(session, application, now=NOW)))
    assert f"{title.ja}の調整後の評点：2" in text
    assert "「「" not in text.replace(title.ja, "")
